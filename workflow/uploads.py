"""Plan files uploaded through the web app: stored, previewed, then committed whole or cancelled.

The Office uploads a document; it is read at once (a wrong type, an empty or unreadable file
is refused and nothing is stored), kept as it came under an unguessable token, and previewed
with :func:`workflow.importer.preview_import`. Committing reads and validates the stored file
again, since the database may have changed since the preview, and imports it all or nothing.
Only the uploader reaches an upload; after :data:`UPLOAD_LIFETIME` it is refused, and the next
upload removes it.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from workflow.context import Context
from workflow.errors import InvalidInput, NotFound
from workflow.importer import (
    ImportPreview,
    ImportResult,
    PlanSource,
    Table,
    import_plan,
    needs_plan,
    plan_source_for_table,
    preview_import,
    read_source,
)
from workflow.messages import N_, Message
from workflow.models import ImportUpload, Plan, User
from workflow.permissions import Action, require
from workflow.plans import own_plan

UPLOAD_LIFETIME = timedelta(hours=24)
ACCEPTED_TYPES = (".docx", ".xlsx", ".csv")
WAITING_PER_USER = 20  # uploads kept for one person at once (up to the app's size limit each)
_UNSAFE = re.compile(r"[^\w .()+-]")


def store_upload(
    ctx: Context,
    actor: User,
    filename: str,
    content: bytes,
    *,
    plan_code: str | None = None,
    create_units: bool = False,
) -> ImportUpload:
    """Keep an uploaded plan file for its preview, once it reads as a plan; for ``plan_code``
    (a plan's own page) the file updates that plan."""
    require(actor, Action.IMPORT)
    plan = _target_plan(ctx, actor, plan_code)
    name = _safe_name(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in ACCEPTED_TYPES:
        raise InvalidInput(
            N_("%(file)s: a plan is imported from a .docx, .xlsx or .csv file"), file=name
        )
    if not content:
        raise InvalidInput(N_("%(file)s: the file is empty"), file=name)
    source = _read(name, content)
    if needs_plan(source) and plan is None:
        raise InvalidInput(
            N_(
                "%(file)s holds tables without their plan: upload it from the plan's page "
                "(Update from a document)"
            ),
            file=name,
        )
    discard_expired(ctx)
    waiting = ctx.session.scalar(sa.select(sa.func.count()).where(ImportUpload.user_id == actor.id))
    if waiting >= WAITING_PER_USER:
        raise InvalidInput(
            N_(
                "%(file)s: %(count)s of your uploads wait for a commit or a cancel; "
                "finish some of them first"
            ),
            file=name,
            count=waiting,
        )
    upload = ImportUpload(
        token=secrets.token_urlsafe(32),
        user_id=actor.id,
        filename=name,
        content=content,
        plan_code=plan.code if plan else None,
        create_units=create_units,
        created_at=ctx.now(),
    )
    ctx.session.add(upload)
    ctx.session.flush()
    return upload


def find_upload(ctx: Context, actor: User, token: str) -> ImportUpload:
    """The actor's own upload, younger than a day; anybody else's does not exist for them."""
    upload = _own_upload(ctx, actor, token)
    if upload.created_at < ctx.now() - UPLOAD_LIFETIME:
        raise InvalidInput(
            N_("%(file)s was uploaded more than 24 hours ago: upload it again"),
            file=upload.filename,
        )
    return upload


def _own_upload(ctx: Context, actor: User, token: str) -> ImportUpload:
    require(actor, Action.IMPORT)
    upload = None
    if token and len(token) <= 64:
        upload = ctx.session.scalar(
            sa.select(ImportUpload).where(
                ImportUpload.token == token, ImportUpload.user_id == actor.id
            )
        )
    if upload is None:
        raise NotFound(N_("this upload does not exist: upload the file again"))
    return upload


def preview_upload(ctx: Context, actor: User, token: str) -> tuple[ImportUpload, ImportPreview]:
    upload = find_upload(ctx, actor, token)
    source = upload_source(ctx, upload)
    return upload, preview_import(ctx, actor, source, create_units=upload.create_units)


def commit_upload(ctx: Context, actor: User, token: str) -> ImportResult:
    """Read and validate the stored file again and import it all, or raise ImportFailed."""
    upload = find_upload(ctx, actor, token)
    source = upload_source(ctx, upload)
    result = import_plan(ctx, actor, source, create_units=upload.create_units)
    ctx.session.delete(upload)
    ctx.session.flush()
    return result


def cancel_upload(ctx: Context, actor: User, token: str) -> str | None:
    """Forget an upload, even an expired one; the code of the plan it was for, if any."""
    upload = _own_upload(ctx, actor, token)
    ctx.session.delete(upload)
    ctx.session.flush()
    return upload.plan_code


def discard_expired(ctx: Context) -> int:
    """Remove every upload older than :data:`UPLOAD_LIFETIME`; how many there were."""
    outdated = ImportUpload.created_at < ctx.now() - UPLOAD_LIFETIME
    return ctx.session.execute(sa.delete(ImportUpload).where(outdated)).rowcount


def upload_source(ctx: Context, upload: ImportUpload) -> PlanSource:
    """The plan an upload holds, read from its stored bytes; a file uploaded on a plan's page
    updates that plan whatever code its own plan sheet would give."""
    source = _read(upload.filename, upload.content)
    if needs_plan(source):
        if upload.plan_code is None:  # stored only with a plan; kept for a clear refusal
            raise InvalidInput(
                N_("%(file)s: a table of tasks needs its plan"), file=upload.filename
            )
        return plan_source_for_table(ctx, upload.plan_code, source)
    if upload.plan_code is not None:
        source.fields["code"] = upload.plan_code
    return source


def _target_plan(ctx: Context, actor: User, plan_code: str | None) -> Plan | None:
    if plan_code is None:
        return None
    return own_plan(ctx, actor, plan_code, N_("import into plan %(plan)s"))


def _safe_name(filename: str) -> str:
    """The file's own name, without any folder, fit to show and to store."""
    name = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    return name[-120:] or "upload"


def _read(name: str, content: bytes) -> PlanSource | Table:
    """What the file holds, read as :func:`read_source` reads a file of that name."""
    with tempfile.TemporaryDirectory(prefix="nhiemvu-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            source = read_source(path)
        except InvalidInput as exc:  # its message names the file by its temporary path
            raise InvalidInput(_named(exc.message, path, name)) from None
    if not isinstance(source, PlanSource | Table):
        raise InvalidInput(N_("%(file)s does not hold a plan"), file=name)
    return source


def _named(message: Message, path: Path, name: str) -> Message:
    """``message`` naming the file ``name`` where it names the temporary ``path``."""
    if not message.params:
        return message
    params = {k: name if str(v) == str(path) else v for k, v in message.params.items()}
    return Message(message.template, **params)
