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
from workflow.indicators import record_indicator_value
from workflow.models import Indicator, IndicatorValue, Plan, User
from workflow.organisation import OrganisationResult, load_organisation
from workflow.tasks import start_plan

DATA = Path(str(resources.files("workflow") / "data"))
ORGANISATION_FILE = DATA / "demo" / "units.toml"
SEEDS = DATA / "seeds"
# A few indicator values, so that the indicators board shows each status: (plan code, indicator
# ref, value, source); the others stay without data.
DEMO_VALUES = (
    ("skhcn-57-2025", "I.3", "45 %", "Điều tra doanh nghiệp của Trung tâm"),
    ("skhcn-57-2025", "I.4", "0,65", "Báo cáo HDI của tỉnh"),
    ("skhcn-57-2025", "I.6", "60", "Bảng xếp hạng PII"),
    ("skhcn-57-2025", "II.2", "hạng 50", "Bảng xếp hạng PII"),
    ("vinhtuy-2244", "01", "1.250", "Thống kê của phường"),
)


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
    record_demo_values(ctx, actor)
    result.users = list(ctx.session.scalars(sa.select(User).order_by(User.role, User.username)))
    result.password = demo_password(ctx.settings.instance_path)
    for user in result.users:
        if user.password_hash is None:
            set_password(ctx, user, result.password)
    return result


def record_demo_values(ctx: Context, actor: User) -> None:
    """The demo values of this year, by the indicator's lead unit head where there is one;
    an indicator that already has values is left alone (the demo runs again unchanged)."""
    for code, ref, value, source in DEMO_VALUES:
        indicator = ctx.session.scalar(
            sa.select(Indicator).join(Plan).where(Plan.code == code, Indicator.ref == ref)
        )
        if indicator is None or ctx.session.scalar(
            sa.select(IndicatorValue.id).where(IndicatorValue.indicator_id == indicator.id)
        ):
            continue
        leads = [unit.id for unit in indicator.units("lead")]
        head = ctx.session.scalar(
            sa.select(User)
            .where(User.role == "unit_head", User.unit_id.in_(leads))
            .order_by(User.id)
        )
        record_indicator_value(
            ctx, head or actor, indicator.id, str(ctx.today().year), value, source
        )


def demo_password(instance: Path) -> str:
    """One random password for the demo accounts of this instance, kept in instance/ (never
    committed) so that every `nhiemvu demo` can print it again."""
    path = instance / "demo-password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"demo-{secrets.token_urlsafe(9)}", encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()
