"""The consolidated report as a file to save, Word or Excel: one list of formats for the
command line and the web app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workflow.consolidated import ConsolidatedReport, file_name
from workflow.errors import InvalidInput
from workflow.messages import N_
from workflow.report_docx import build_docx
from workflow.report_xlsx import build_xlsx

FORMATS: dict[str, tuple[Callable[[ConsolidatedReport], bytes], str]] = {
    "docx": (
        build_docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (build_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


@dataclass(frozen=True)
class ReportFile:
    name: str  # bao-cao-<plan code>-2026-Q4.docx
    media_type: str
    content: bytes


def report_file(report: ConsolidatedReport, fmt: str) -> ReportFile:
    """The report in ``fmt`` (docx: the Word report; xlsx: its Excel annex)."""
    if fmt not in FORMATS:
        raise InvalidInput(
            N_("format %(format)s: expected docx (Word) or xlsx (Excel)"), format=repr(fmt)
        )
    build, media_type = FORMATS[fmt]
    return ReportFile(file_name(report, fmt), media_type, build(report))
