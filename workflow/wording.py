"""How nhiemvu words a due item in Vietnamese for people outside the app: calendar events,
reminders and escalation e-mails. One home, so an event and an e-mail say the same thing."""

from __future__ import annotations

from datetime import date

from workflow.classify import DueClass
from workflow.models import DueItem
from workflow.regime import vietnamese_period

STATE_VI = {
    "draft": "dự thảo",
    "waiting": "chờ hướng dẫn",
    "in_progress": "đang thực hiện",
    "reported": "đã báo cáo",
    "closed": "hoàn thành",
    "cancelled": "đã hủy",
    "superseded": "đã được thay thế",
    "open": "chưa thực hiện",
    "satisfied": "đã báo cáo",
}
CLASS_VI = {
    DueClass.COMPLETED_ON_TIME: "Hoàn thành đúng hạn",
    DueClass.COMPLETED_LATE: "Hoàn thành quá hạn",
    DueClass.NOT_YET_DUE: "Chưa đến hạn",
    DueClass.OVERDUE: "Quá hạn",
}
INDICATOR_STATUS_VI = {
    "met": "Đạt",
    "not_met": "Không đạt",
    "no_data": "Chưa có số liệu",
    "no_target": "Không có mục tiêu",
}


def day(value: date) -> str:
    """30/06/2026, as Vietnamese documents write a date."""
    return value.strftime("%d/%m/%Y")


def what_is_due(item: DueItem) -> str:
    """``Báo cáo tháng 11/2026``, ``Thực hiện kỳ quý II/2026`` or ``Hoàn thành nhiệm vụ``."""
    if item.kind == "report":
        return f"Báo cáo {vietnamese_period(item.period_key)}"
    if item.kind == "occurrence":
        return f"Thực hiện kỳ {vietnamese_period(item.period_key)}"
    return "Hoàn thành nhiệm vụ"


def shorten(text: str, limit: int = 80) -> str:
    """One line of at most ``limit`` characters, cut at the end with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def task_url(base_url: str, task_id: int) -> str:
    return f"{base_url.rstrip('/')}/tasks/{task_id}"
