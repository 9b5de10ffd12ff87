"""How fast the timing parser reads an appendix's timing cells (a script, not a test).

    python benchmarks/timing_parse.py

Prints the CPU time to parse 100,000 cells drawn from 5,000 distinct ones (a realistic import:
the same few phrases repeat) and 20,000 cells never seen before (no cache to help).
"""

from __future__ import annotations

import random
import time

from workflow.timing import parse_timing

PHRASES = [
    "Thường xuyên",
    "Nhiệm vụ thường xuyên",
    "Hằng năm",
    "Sau khi có văn bản hướng dẫn của Trung ương",
    "Trước ngày 12 tháng 4 hằng năm",
    "Giai đoạn 2026 - 2030",
    "Quý II/2026",
]
ROMAN = ["I", "II", "III", "IV"]


def distinct_cells(count: int) -> list[str]:
    cells = []
    for i in range(count):
        year, month, day = 1900 + i % 301, 1 + i // 301 % 12, 1 + i // 3612 % 28
        cells.append(
            [
                PHRASES[i % len(PHRASES)] + " " * (i // len(PHRASES)) + ".",
                f"Trước ngày {day}/{month}/{year}",
                f"Tháng {month}/{year}",
                f"Quý {ROMAN[i % 4]} năm {year}",
                f"Giai đoạn {year} - {year + 1 + i % 20}",
            ][i % 5]
        )
    return cells


def measure(label: str, cells: list[str]) -> None:
    started = time.process_time()
    for cell in cells:
        parse_timing(cell)
    elapsed = time.process_time() - started
    print(
        f"{label:<48} {len(cells):>7} cells  {elapsed:6.3f} s CPU  {len(cells) / elapsed:>9,.0f}/s"
    )


def main() -> None:
    measure(
        "100k cells from 5,000 distinct (an import)",
        random.Random(0).choices(distinct_cells(5_000), k=100_000),
    )
    measure("20k cells never seen before", distinct_cells(25_000)[5_000:])


if __name__ == "__main__":
    main()
