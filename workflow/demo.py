"""The demo: a demo organisation and every seed plan, loaded and started. Idempotent."""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import sqlalchemy as sa

from workflow.accounts import set_password
from workflow.context import Context
from workflow.errors import NhiemvuError
from workflow.importer import ImportResult, PlanSource, import_plan, read_source
from workflow.models import Plan, User
from workflow.organisation import OrganisationResult, load_organisation
from workflow.tasks import start_plan

DATA = Path(str(resources.files("workflow") / "data"))
ORGANISATION_FILE = DATA / "demo" / "units.toml"
SEEDS = DATA / "seeds"


@dataclass
class DemoResult:
    organisation: OrganisationResult
    password: str = ""
    plans: list[ImportResult] = field(default_factory=list)
    started: dict[str, int] = field(default_factory=dict)
    users: list[User] = field(default_factory=list)


def seed_manifests() -> list[Path]:
    return sorted(SEEDS.glob("*.toml"))


def existing_admin(ctx: Context) -> User | None:
    return ctx.session.scalar(
        sa.select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id)
    )


def system_actor(ctx: Context) -> User:
    """The first active administrator: the CLI acts as them unless told otherwise."""
    admin = existing_admin(ctx)
    if admin is None:
        raise NhiemvuError(
            "no administrator account exists: load an organisation file or run "
            "`nhiemvu user add USERNAME --role admin --name NAME` first"
        )
    return admin


def load_demo(ctx: Context) -> DemoResult:
    data = tomllib.loads(ORGANISATION_FILE.read_text(encoding="utf-8"))
    org = load_organisation(ctx.session, data, ORGANISATION_FILE.name, existing_admin(ctx))
    result = DemoResult(org)
    actor = system_actor(ctx)
    for manifest in seed_manifests():
        source = read_source(manifest)
        assert isinstance(source, PlanSource), manifest
        result.plans.append(import_plan(ctx, actor, source))
    ctx.session.flush()
    for plan in ctx.session.scalars(
        sa.select(Plan).where(Plan.status == "active").order_by(Plan.id)
    ):
        started = start_plan(ctx, actor, plan.id)
        if started:
            result.started[plan.code] = len(started)
    result.users = list(ctx.session.scalars(sa.select(User).order_by(User.role, User.username)))
    result.password = demo_password(ctx.settings.instance_path)
    for user in result.users:
        if user.password_hash is None:
            set_password(ctx, user, result.password)
    return result


def demo_password(instance: Path) -> str:
    """One random password for the demo accounts of this instance, kept in instance/ (never
    committed) so that every `nhiemvu demo` can print it again."""
    path = instance / "demo-password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"demo-{secrets.token_urlsafe(9)}", encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()
