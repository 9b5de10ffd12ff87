"""How fast a unit's calendar feed of 5,000 due items is served (a script, not a test).

    python benchmarks/calendar_feed.py [--repeat 20] [--repeat-cheap 500] [--json FILE]
    python benchmarks/calendar_feed.py --database-url postgresql+psycopg://postgres@127.0.0.1/postgres

Builds a scratch instance the way an operator would, with the ``nhiemvu`` command and today
2026-11-22: the demo organisation, then one plan imported from a CSV appendix and started, whose
tasks (ongoing ones, which owe a monthly report, and fixed-date ones) Phòng Quản lý KH&CN
leads. The engine makes every due item. A unit head of that unit subscribes to the unit's
feed; ``nhiemvu serve`` (waitress) runs in a subprocess and the feed is fetched over HTTP on
one kept-alive connection.

Prints the feed's item count (at least 5,000) and the size and event count of its text, then
min, p50 and p95 in milliseconds of: the whole feed over HTTP (200); the same request with
If-None-Match (304); and, in this process, ``build_feed(...)`` with every event written
(cold) and with the events' texts kept from an earlier build, and ``feed_version(...)`` alone, each in a fresh session as a request has. Each row is warmed up
once first. The HTTP rows also say how many TCP connections their requests had to open: none
while the server keeps the connection alive. ``--profile`` adds the costliest functions of one
build; ``--json FILE`` writes the figures.

With ``--database-url`` naming a PostgreSQL server, everything happens in a database of its
own, created for the run, analysed after the import (as autovacuum soon would) and dropped
after. The instance folder is removed at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import json
import os
import platform
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from common import (
    TODAY,
    Connection,
    Figures,
    analyse,
    run_cli,
    scratch_database,
    server,
    stopwatch,
)
from icalendar import Calendar

from workflow import calendars as cal
from workflow.clock import FixedClock
from workflow.config import load_settings
from workflow.context import Engine
from workflow.models import Unit, User

UNIT_CODE = "QLKHCN"  # Phòng Quản lý Khoa học và Công nghệ
SUBSCRIBER = "qlkhcn.head"
OFFICE = "vps.office"
PLAN_CODE = "bench-feed"
TASKS = 330  # 264 ongoing tasks owe 15 monthly reports in the window, 66 fixed ones 16 items
FIXED_EVERY = 5
MINIMUM_ITEMS = 5_000
NAMES = [
    "Theo dõi, đôn đốc triển khai chuyển đổi số tại các cơ quan, đơn vị",
    "Tổng hợp kết quả thực hiện nhiệm vụ khoa học và công nghệ cấp tỉnh",
    "Hướng dẫn xây dựng, áp dụng hệ thống quản lý chất lượng",
    "Kiểm tra việc sử dụng kinh phí sự nghiệp khoa học và công nghệ",
    "Rà soát, đề xuất đặt hàng nhiệm vụ khoa học và công nghệ",
]
FIXED_TIMINGS = ["Trước ngày {day}/{month}/2027", "Quý {quarter}/2027", "{month}/2027"]
QUARTERS = ["I", "II", "III", "IV"]


# --- the scratch instance ----------------------------------------------------------------------


def timing_cell(index: int) -> str:
    if index % FIXED_EVERY:
        return "Thường xuyên"
    month = 1 + index % 12
    form = FIXED_TIMINGS[index // FIXED_EVERY % len(FIXED_TIMINGS)]
    return form.format(day=1 + index % 28, month=month, quarter=QUARTERS[(month - 1) // 3])


def write_plan(folder: Path) -> Path:
    """A plan manifest and its appendix of TASKS tasks, all led by the one unit."""
    with (folder / "tasks.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["STT", "Tên nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian hoàn thành"]
        )
        for i in range(TASKS):
            name = f"{NAMES[i % len(NAMES)]} (đợt {i + 1})"
            partner = "Văn phòng Sở" if i % 3 == 0 else ""
            writer.writerow([i + 1, name, "Phòng Quản lý KH&CN", partner, timing_cell(i)])
    manifest = folder / f"{PLAN_CODE}.toml"
    fields = {
        "code": PLAN_CODE,
        "number": "99/KH-SKHCN",
        "title": "Kế hoạch đo thời gian lịch hạn nhiệm vụ",
        "issuer": "Sở Khoa học và Công nghệ",
        "issued_on": "2026-11-20",
        "reporting_regime": "monthly:14",
        "tasks": "tasks.csv",
    }
    lines = ["[plan]", *(f"{key} = {json.dumps(value)}" for key, value in fields.items())]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def build_instance(instance: Path, url: str) -> None:
    run_cli(instance, url, "demo")
    run_cli(instance, url, "import", str(write_plan(instance)))
    run_cli(instance, url, "plan", "start", PLAN_CODE, "--as", OFFICE)


def subscribe(engine: Engine) -> str:
    """The subscriber's token for the unit's feed, made by the engine (no sign-in needed)."""
    with engine.context() as ctx:
        session = ctx.session
        user = session.scalar(sa.select(User).where(User.username == SUBSCRIBER))
        unit_id = session.scalar(sa.select(Unit.id).where(Unit.code == UNIT_CODE))
        return cal.subscribe(session, user, "unit", unit_id, ctx.now()).token


def over_http(label: str, connection: Connection, repeat: int, request: Callable) -> Figures:
    """``request`` once to warm up, then ``repeat`` times on the clock."""
    request()
    before = connection.opened
    seconds = [stopwatch(request) for _ in range(repeat)]
    return Figures(label, seconds, connection.opened - before)


def http_figures(port: int, token: str, repeat: int, repeat_cheap: int) -> dict:
    """The whole feed, then its 304, with one HTTPConnection."""
    path = f"/calendar/{token}.ics"
    connection = Connection("127.0.0.1", port, timeout=120)
    response, body = connection.fetch(path, 200)
    unchanged = {"If-None-Match": response.getheader("ETag")}
    figures = [
        over_http(
            "HTTP GET, whole feed (200)", connection, repeat, lambda: connection.fetch(path, 200)
        ),
        over_http(
            "HTTP GET, If-None-Match (304)",
            connection,
            repeat_cheap,
            lambda: connection.fetch(path, 304, unchanged),
        ),
    ]
    connection.close()
    events = len(Calendar.from_ical(body).walk("VEVENT"))
    return {"figures": figures, "bytes": len(body), "events": events}


def engine_figures(engine: Engine, token: str, base_url: str, repeat: int, repeat_cheap: int):
    """The two engine calls the route makes, each in a fresh session as a request has."""

    def in_session(call: Callable) -> Callable[[], float]:
        def action() -> float:
            with engine.context(write=False) as ctx:
                feed = cal.resolve(ctx.session, token)
                window = cal.Window.configured(ctx.settings, ctx.today())
                return stopwatch(lambda: call(ctx.session, feed, window, base_url))

        return action

    def build(session, feed, window, base_url) -> bytes:
        return cal.build_feed(session, feed, window, base_url, engine.rules)

    def cold(session, feed, window, base_url) -> bytes:
        cal.EVENT_TEXTS.clear()  # forget every event's text
        return build(session, feed, window, base_url)

    return [
        in_process("engine build_feed(...), every event written", repeat, in_session(cold)),
        in_process("engine build_feed(...), events kept", repeat, in_session(build)),
        in_process("engine feed_version(...)", repeat_cheap, in_session(cal.feed_version)),
    ]


def in_process(label: str, repeat: int, action: Callable[[], float]) -> Figures:
    """``action``, which times its own inner part, once to warm up and ``repeat`` times."""
    action()
    return Figures(label, [action() for _ in range(repeat)])


def feed_items(engine: Engine, token: str, base_url: str) -> tuple[str, cal.Window, int]:
    with engine.context(write=False) as ctx:
        feed = cal.resolve(ctx.session, token)
        window = cal.Window.configured(ctx.settings, ctx.today())
        items = cal.due_items(ctx.session, feed, window)
        version = cal.feed_version(ctx.session, feed, window, base_url)
        assert version.count == len(items), (version.count, len(items))
        return feed.name, window, len(items)


def profile_build(engine: Engine, token: str, base_url: str, lines: int = 15) -> None:
    with engine.context(write=False) as ctx:
        feed = cal.resolve(ctx.session, token)
        window = cal.Window.configured(ctx.settings, ctx.today())
        profiler = cProfile.Profile()
        cal.EVENT_TEXTS.clear()
        profiler.runcall(lambda: cal.build_feed(ctx.session, feed, window, base_url, ctx.rules))
    print(f"\none cold build_feed(...) under cProfile, the {lines} costliest functions:")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(lines)


# --- the whole run -----------------------------------------------------------------------------


def report(figures: list[Figures]) -> None:
    print(f"\n{'ms':<46} {'n':>5} {'min':>9} {'p50':>9} {'p95':>9}  new connections")
    for f in figures:
        ms = f.ms()
        opened = "" if f.connections is None else f"{f.connections:>6}"
        print(
            f"{f.label:<46} {len(f.seconds):>5}"
            f" {ms['min']:>9.1f} {ms['p50']:>9.1f} {ms['p95']:>9.1f}  {opened}"
        )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="whole feeds (default 20)")
    parser.add_argument(
        "--repeat-cheap", type=int, default=500, help="304s and feed_version (default 500)"
    )
    parser.add_argument("--database-url", help="a PostgreSQL server to make a scratch database on")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--profile", action="store_true", help="profile one build")
    args = parser.parse_args()
    if args.database_url and sa.make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url must name a PostgreSQL server (SQLite is the default)")
    return args


def measure(instance: Path, url: str, args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    build_instance(instance, url)
    analyse(url)
    print(
        f"instance built in {time.perf_counter() - started:.1f} s ({sa.make_url(url).drivername})"
    )
    engine = Engine(load_settings(instance, url), FixedClock.on(TODAY))
    try:
        token = subscribe(engine)
        with server(instance, url) as web:
            port = web.port
            base_url = f"http://127.0.0.1:{port}"
            name, window, items = feed_items(engine, token, base_url)
            print(f"{name}: {items:,} due items from {window.start} to {window.end}")
            assert items >= MINIMUM_ITEMS, items
            http = http_figures(port, token, args.repeat, args.repeat_cheap)
        print(f"whole feed: {http['bytes']:,} bytes, {http['events']:,} events (icalendar)")
        assert http["events"] == items, (http["events"], items)
        figures = [
            *http["figures"],
            *engine_figures(engine, token, base_url, args.repeat, args.repeat_cheap),
        ]
        report(figures)
        if args.profile:
            profile_build(engine, token, base_url)
    finally:
        engine.close()
    return {
        "database": sa.make_url(url).get_backend_name(),
        "items": items,
        "bytes": http["bytes"],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "ms": {
            f.label: {"n": len(f.seconds), **f.ms(), "new_connections": f.connections}
            for f in figures
        },
    }


def main() -> None:
    args = arguments()
    with (
        tempfile.TemporaryDirectory(prefix="nhiemvu-bench-") as folder,
        scratch_database(args.database_url, Path(folder)) as url,
    ):
        results = measure(Path(folder), url, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
