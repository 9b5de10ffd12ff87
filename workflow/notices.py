"""What a reminder, an escalation step or a question about guidance says, in Vietnamese: the
subject and text of the in-app notice and of its e-mail (plain text and HTML), with an absolute
link to the task. Names units and tasks; the only person named is the one addressed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import make_msgid
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.models import DueItem, Escalation, Notification, OutboxMessage, Task, User
from workflow.wording import day, shorten, task_url, what_is_due

if TYPE_CHECKING:
    from workflow.digest import Listing
    from workflow.escalation import Planned

RECIPIENT_VI = {
    "lead_unit": "đơn vị chủ trì",
    "unit_head": "lãnh đạo đơn vị chủ trì",
    "office": "Văn phòng",
    "leadership": "lãnh đạo",
}


@dataclass(frozen=True)
class Notice:
    subject: str
    text: str
    link: str

    @property
    def html(self) -> str:
        paragraphs = "".join(f"<p>{escape(line)}</p>" for line in self.text.split("\n") if line)
        return (
            '<!doctype html><html lang="vi"><meta charset="utf-8">'
            f"<body>{paragraphs}"
            f'<p><a href="{escape(self.link)}">Mở nhiệm vụ trong nhiemvu</a></p></body></html>'
        )

    def outbox(
        self, notification: Notification | None, address: str, now: datetime, host: str
    ) -> OutboxMessage:
        """This notice as an e-mail waiting to leave."""
        return OutboxMessage(
            notification=notification,
            message_id=make_msgid(idstring=secrets.token_hex(8), domain=host),
            to_address=address,
            subject=self.subject,
            text_body=self.text,
            html_body=self.html,
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
            last_error="",
        )


def notify(
    session: Session,
    settings: Settings,
    person: User,
    notice: Notice,
    *,
    key: str,
    kind: str,
    now: datetime,
    task: Task | None = None,
    escalation: Escalation | None = None,
) -> tuple[Notification, OutboxMessage | None]:
    """Tell ``person``: in the app, and by e-mail when they have an address and e-mail is on,
    both in the caller's transaction. ``key`` is unique: the same notice is never written twice.
    """
    notification = Notification(
        key=key,
        user=person,
        escalation=escalation,
        task=task,
        kind=kind,
        subject=notice.subject,
        body=notice.text,
        created_at=now,
    )
    session.add(notification)
    mail = None
    if person.email and settings.smtp.enabled:
        mail = notice.outbox(notification, person.email, now, mail_host(settings))
        session.add(mail)
    return notification, mail


def mail_host(settings: Settings) -> str:
    return urlsplit(settings.public_url).hostname or "nhiemvu"


def compose(
    settings: Settings, planned: Planned, task: Task, item: DueItem | None, person: User
) -> Notice:
    link = task_url(settings.public_url, task.id)
    plan = task.plan
    lines = [f"Kính gửi {person.full_name},", ""]
    if item is None:  # a question about guidance
        subject = f"[nhiemvu] Đã có hướng dẫn chưa? – {shorten(task.name, 60)}"
        lines += [
            f"Nhiệm vụ đang chờ hướng dẫn đã {planned.days} ngày: {task.name}",
            f"Điều kiện: {task.timing_raw}",
            "Nếu văn bản hướng dẫn đã ban hành, đề nghị Văn phòng ghi nhận văn bản để giao thực "
            "hiện nhiệm vụ.",
        ]
    else:
        what = what_is_due(item)
        if planned.kind == "reminder":
            left = "Hôm nay là hạn" if planned.days == 0 else f"Còn {planned.days} ngày"
            subject = f"[nhiemvu] {left}: {what} – {shorten(task.name, 60)}"
            lines.append(f"{left} đến hạn {day(item.due_date)}: {what}.")
        else:
            late = f"Quá hạn {planned.days} ngày" + (
                " làm việc" if planned.counting == "working" else ""
            )
            subject = f"[nhiemvu] {late}: {what} – {shorten(task.name, 60)}"
            lines.append(
                f"{late} (hạn {day(item.due_date)}): {what}. Thông báo gửi "
                + ", ".join(RECIPIENT_VI[r] for r in planned.to)
                + "."
            )
        lines += [f"Nhiệm vụ {task.ref}: {task.name}", f"Đơn vị chủ trì: {task.lead_units_text}"]
    lines += [f"Kế hoạch: {plan.number} – {shorten(plan.title, 160)}", "", f"Xem: {link}"]
    return Notice(subject, "\n".join(lines), link)


def compose_digest(
    settings: Settings, person: User, today: date, overdue: Listing, soon: Listing
) -> Notice:
    """Bản tin buổi sáng: the overdue items, then those due within the week."""
    link = settings.public_url + (
        "/unit" if person.role in ("unit_head", "unit_delegate") else "/board"
    )
    lines = [f"Kính gửi {person.full_name},", "", f"Các hạn cần chú ý ngày {day(today)}:"]
    for title, listing in (("Quá hạn", overdue), ("Đến hạn trong 7 ngày tới", soon)):
        if not listing.total:
            continue
        lines += ["", f"{title} ({listing.total}):"]
        lines += [
            f"- {day(item.due_date)} · {what_is_due(item)} · {shorten(item.task.name, 90)}"
            f" ({item.task.lead_units_text})"
            for item in listing.items
        ]
        if listing.total > len(listing.items):
            lines.append(f"- và {listing.total - len(listing.items)} mục khác")
    lines += ["", f"Xem: {link}"]
    subject = (
        f"[nhiemvu] Bản tin ngày {day(today)}: {overdue.total} quá hạn, {soon.total} sắp đến hạn"
    )
    return Notice(subject, "\n".join(lines), link)
