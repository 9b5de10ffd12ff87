"""E-mail delivery against a real SMTP server (aiosmtpd on a free local port): what arrives, once;
refusals, an unreachable server and a silent one; the back-off; crashes before delivery and
between delivery and marking; two deliverers at once; TLS and login; the CLI."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.conftest import user
from tests.test_cli import nhiemvu, ok, refused
from workflow.config import Smtp
from workflow.context import Engine
from workflow.escalation import sweep
from workflow.mail import (
    LEASE,
    MAX_ATTEMPTS,
    DeliveryResult,
    deliver,
    outbox_summary,
    problems,
    unsent,
)
from workflow.models import Notification, OutboxMessage
from workflow.notices import Notice, notify

SUBJECT = "[nhiemvu] Còn 7 ngày: Báo cáo tháng 11/2026 – Xây dựng đề án chuyển đổi số"
TEXT = (
    "Kính gửi Lò Thị Hương,\n\n"
    "Còn 7 ngày đến hạn 14/12/2026: Báo cáo tháng 11/2026.\n"
    "Nhiệm vụ 1: Xây dựng đề án chuyển đổi số <& “số hoá”>\n"
    "Xem: https://nhiemvu.example.vn/tasks/1"
)
NOTICE = Notice(SUBJECT, TEXT, "https://nhiemvu.example.vn/tasks/1")
OFFICE = "vps.office@example.gov.vn"


# --- a real SMTP server --------------------------------------------------------------------------


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives and refuses the addresses in ``refuse``."""

    received: list[bytes] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    on_data: object = None  # called after a message is kept, before the server answers

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.original_content or envelope.content)
        if callable(self.on_data):
            self.on_data()
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for raw in self.received]

    def message_ids(self) -> list[str]:
        return [m["Message-ID"].strip() for m in self.messages()]  # folded when long


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox
    options: dict = field(default_factory=dict)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def restart(self, **options: object) -> None:
        """The same port, with these options of aiosmtpd's Controller and SMTP."""
        self.stop()
        self.options = options
        self.start()


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    running = SmtpServer(free_port(), Mailbox())
    running.start()
    yield running
    running.stop()


def engine_for(engine: Engine, **smtp: object) -> Engine:
    """Another engine on the same database and clock, with these SMTP settings."""
    return Engine(replace(engine.settings, smtp=Smtp(**smtp)), engine.clock)


@pytest.fixture
def mailer(organisation: Engine, server: SmtpServer) -> Iterator[Engine]:
    """The demo organisation, its e-mail going to ``server``."""
    mailing = engine_for(organisation, host="127.0.0.1", port=server.port, timeout=5)
    yield mailing
    mailing.close()


def queue_and_deliver(engine: Engine, **smtp: object) -> DeliveryResult:
    """Queue a notice to the Office and deliver it, through an engine with these SMTP settings."""
    mailing = engine_for(engine, **smtp)
    try:
        queue(mailing, "vps.office")
        return deliver(mailing)
    finally:
        mailing.close()


def queue(engine: Engine, *usernames: str, notice: Notice = NOTICE) -> list[str]:
    """Tell these people ``notice`` in one transaction; the Message-IDs of the e-mails queued."""
    ids = []
    with engine.context() as ctx:
        for username in usernames:
            _notification, mail = notify(
                ctx.session,
                ctx.settings,
                user(ctx, username),
                notice,
                key=f"test:{uuid.uuid4().hex}",
                kind="reminder",
                now=ctx.now(),
            )
            if mail is not None:
                ids.append(mail.message_id)
    return ids


def outbox(engine: Engine) -> dict[str, sa.Row]:
    """Each e-mail in the outbox by its address, as the database holds it now."""
    with engine.context(write=False) as ctx:
        rows = ctx.session.execute(sa.select(OutboxMessage.__table__).order_by(OutboxMessage.id))
        return {row.to_address: row for row in rows}


def minutes(delta: timedelta) -> int:
    return round(delta.total_seconds() / 60)


# --- what arrives --------------------------------------------------------------------------------


def test_a_queued_notice_arrives_once_with_its_vietnamese_intact(mailer, server, clock):
    [message_id] = queue(mailer, "vps.office")
    result = deliver(mailer)
    assert (result.enabled, result.sent, result.failed, result.waiting) == (True, 1, 0, 0)
    [mail] = server.mailbox.messages()
    assert mail["Subject"] == SUBJECT
    assert mail["To"] == OFFICE
    assert mail["From"] == mailer.settings.smtp.sender
    assert mail["Message-ID"].strip() == message_id
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Date"].datetime == clock.now().replace(microsecond=0)
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",)).get_content()
    assert plain.replace("\r\n", "\n").rstrip("\n") == TEXT  # CRLF: text's canonical form
    html = mail.get_body(("html",)).get_content()
    assert "Kính gửi Lò Thị Hương" in html
    assert "chuyển đổi số &lt;&amp; “số hoá”&gt;" in html
    assert 'href="https://nhiemvu.example.vn/tasks/1"' in html
    assert all(byte < 128 for byte in server.mailbox.received[0])  # passes any relay

    row = outbox(mailer)[OFFICE]
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.sent_at - clock.now() < timedelta(seconds=5)

    again = deliver(mailer)
    assert (again.sent, again.failed, again.waiting) == (0, 0, 0)
    assert len(server.mailbox.received) == 1


def test_oldest_first_and_no_more_than_the_limit(mailer, server, clock):
    queue(mailer, "qlkhcn.head")
    clock.instant -= timedelta(hours=1)
    queue(mailer, "vps.office")
    clock.instant += timedelta(hours=1)
    first = deliver(mailer, limit=1)
    assert (first.sent, first.waiting) == (1, 1)
    assert server.mailbox.messages()[0]["To"] == OFFICE
    assert deliver(mailer).sent == 1
    assert [m["To"] for m in server.mailbox.messages()] == [OFFICE, "qlkhcn.head@example.gov.vn"]


def test_a_message_not_yet_due_waits(mailer, server, clock):
    queue(mailer, "vps.office")
    result = deliver(mailer, now=clock.now() - timedelta(minutes=1))
    assert (result.sent, result.waiting) == (0, 1)
    assert server.mailbox.received == []


# --- refusals and an unreachable server ----------------------------------------------------------


def test_a_refused_recipient_waits_with_its_error_while_the_others_leave(mailer, server, clock):
    server.mailbox.refuse.add(OFFICE)
    queue(mailer, "qlkhcn.head", "vps.office", "qltdc.head")
    result = deliver(mailer)
    assert (result.sent, result.failed, result.gave_up, result.waiting) == (2, 1, 0, 1)
    assert result.server_error == ""
    assert sorted(m["To"] for m in server.mailbox.messages()) == [
        "qlkhcn.head@example.gov.vn",
        "qltdc.head@example.gov.vn",
    ]
    row = outbox(mailer)[OFFICE]
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == f"{OFFICE} refused: 550 5.1.1 No such user here"
    assert minutes(row.next_attempt_at - clock.now()) == 1

    with mailer.context(write=False) as ctx:
        [problem] = problems(ctx.session)
        summary = outbox_summary(ctx.session, ctx.now())
    assert (problem.to_address, problem.last_error) == (OFFICE, row.last_error)
    assert (summary.pending, summary.due, summary.retrying, summary.sent) == (1, 0, 1, 2)
    assert summary.oldest_pending == clock.now()


def test_while_the_server_is_down_everything_waits_then_arrives_exactly_once(mailer, server, clock):
    server.stop()
    ids = queue(mailer, "qlkhcn.head", "vps.office")
    result = deliver(mailer)  # never raises
    assert (result.sent, result.failed, result.waiting) == (0, 2, 2)
    assert result.server_error == (f"mail server 127.0.0.1:{server.port}: Connection refused")
    for row in outbox(mailer).values():
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, result.server_error)
        assert row.next_attempt_at > clock.now()

    server.start()
    assert deliver(mailer).sent == 0  # not before the back-off
    clock.instant += timedelta(minutes=2)
    assert deliver(mailer).sent == 2
    assert deliver(mailer).sent == 0
    assert sorted(server.mailbox.message_ids()) == sorted(ids)
    assert {(r.status, r.attempts) for r in outbox(mailer).values()} == {("sent", 2)}


def test_a_silent_server_times_out_and_nothing_raises(organisation, clock):
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        result = queue_and_deliver(
            organisation, host="127.0.0.1", port=silent.getsockname()[1], timeout=1
        )
    assert (result.sent, result.failed, result.waiting) == (0, 1, 1)
    assert result.server_error.endswith(": timed out")
    assert outbox(organisation)[OFFICE].last_error == result.server_error


def test_back_off_then_failed_after_the_last_attempt(mailer, server, clock):
    server.mailbox.refuse.add(OFFICE)
    queue(mailer, "vps.office")
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = deliver(mailer)
        assert result.failed == 1
        row = outbox(mailer)[OFFICE]
        assert row.attempts == attempt
        if row.status == "failed":
            break
        waits.append(minutes(row.next_attempt_at - clock.now()))
        clock.instant = row.next_attempt_at
    assert waits == [1, 5, 15, 60, 360, 360, 360]
    assert (row.status, row.attempts, result.gave_up, result.waiting) == ("failed", 8, 1, 0)
    assert "550" in row.last_error

    clock.instant += timedelta(days=2)
    assert deliver(mailer).failed == 0  # given up: never tried again
    assert outbox(mailer)[OFFICE].attempts == 8
    with mailer.context(write=False) as ctx:
        [listed] = unsent(ctx.session)
        assert outbox_summary(ctx.session, ctx.now()).failed == 1
    assert (listed.status, listed.attempts) == ("failed", 8)


# --- crashes and rivals --------------------------------------------------------------------------


def test_a_crash_between_queueing_and_delivery_loses_nothing(mailer, server, clock):
    [message_id] = queue(mailer, "vps.office")
    settings = mailer.settings
    mailer.close()  # the process dies; the queued message is committed
    fresh = Engine(settings, clock)
    try:
        assert deliver(fresh).sent == 1
        assert deliver(fresh).sent == 0
    finally:
        fresh.close()
    assert server.mailbox.message_ids() == [message_id]


def test_a_crash_between_delivery_and_marking_resends_with_the_same_message_id(
    mailer, server, clock, tmp_path
):
    """The documented window of at-least-once delivery: `nhiemvu mail send` is killed while the
    server holds the message and before it is marked sent."""
    [message_id] = queue(mailer, "vps.office")
    instance = cli_instance(tmp_path / "instance", server.port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NHIEMVU_")}
    command = [sys.executable, "-m", "workflow.cli", "--instance", str(instance)]
    command += ["--database-url", mailer.settings.database_url, "--today", "2026-11-22"]
    server.mailbox.on_data = lambda: os.kill(sender.pid, signal.SIGKILL)
    sender = subprocess.Popen([*command, "mail", "send"], env=env, stderr=subprocess.PIPE)
    sender.wait(timeout=60)
    assert sender.returncode == -signal.SIGKILL, sender.stderr.read()

    row = outbox(mailer)[OFFICE]
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.next_attempt_at > clock.now()  # still leased to the dead run
    server.mailbox.on_data = None
    assert deliver(mailer).sent == 0
    clock.instant += LEASE + timedelta(minutes=1)
    assert deliver(mailer).sent == 1
    assert server.mailbox.message_ids() == [message_id, message_id]
    assert (outbox(mailer)[OFFICE].status, outbox(mailer)[OFFICE].attempts) == ("sent", 1)


def test_two_deliverers_at_once_send_each_message_once(mailer, server):
    people = ["vps.office", "qlkhcn.head", "qltdc.head", "vps.head", "skhcn.head"]
    ids = [i for _ in range(4) for i in queue(mailer, *people)]
    rivals = [Engine(mailer.settings, mailer.clock) for _ in range(2)]
    start = threading.Barrier(len(rivals))
    results = []

    def run(engine: Engine) -> None:
        start.wait()
        results.append(deliver(engine))

    threads = [threading.Thread(target=run, args=(e,)) for e in rivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for engine in rivals:
        engine.close()
    assert sum(r.sent for r in results) == len(ids) == 20
    assert sorted(server.mailbox.message_ids()) == sorted(ids)
    with mailer.context(write=False) as ctx:
        summary = outbox_summary(ctx.session, ctx.now())
    assert (summary.sent, summary.pending, summary.failed) == (20, 0, 0)


# --- who gets e-mail -----------------------------------------------------------------------------


def test_a_person_without_an_address_is_told_in_the_app_only(mailer, server):
    with mailer.context() as ctx:
        user(ctx, "vps.office").email = None
    queue(mailer, "vps.office", "qlkhcn.head")
    with mailer.context(write=False) as ctx:
        told = ctx.session.scalars(sa.select(Notification.user_id)).all()
        assert sorted(told) == sorted([user(ctx, "vps.office").id, user(ctx, "qlkhcn.head").id])
    assert list(outbox(mailer)) == ["qlkhcn.head@example.gov.vn"]
    assert deliver(mailer).sent == 1


def test_with_e_mail_off_nothing_is_queued_and_deliver_says_so(organisation, server):
    assert not organisation.settings.smtp.enabled
    queue(organisation, "vps.office")
    assert outbox(organisation) == {}
    result = deliver(organisation)
    assert (result.enabled, result.sent, result.waiting) == (False, 0, 0)
    assert server.mailbox.received == []


def test_the_sweep_s_reminder_reaches_the_lead_unit_by_e_mail(make_plan, mailer, server, clock):
    clock.set(date(2026, 12, 24))  # 7 days before the deadline of 12/2026
    make_plan([["1", "Xây dựng đề án chuyển đổi số", "Phòng Quản lý KH&CN", "", "12/2026"]])
    with mailer.context() as ctx:
        queued = sweep(ctx).emailed
    assert queued >= 1
    assert deliver(mailer).sent == queued
    subjects = {m["To"]: m["Subject"] for m in server.mailbox.messages()}
    assert subjects["qlkhcn.head@example.gov.vn"].startswith("[nhiemvu] Còn 7 ngày: ")
    assert subjects["qlkhcn.head@example.gov.vn"].endswith("Xây dựng đề án chuyển đổi số")


# --- TLS and login -------------------------------------------------------------------------------


def test_login_with_the_configured_account(organisation, server, clock):
    def authenticate(server_, session, envelope, mechanism, auth_data):
        accepted = (auth_data.login, auth_data.password) == (b"nhiemvu", b"dung")
        return AuthResult(success=accepted, handled=False)

    server.restart(authenticator=authenticate, auth_require_tls=False)
    for password, error in (
        ("sai", "535 5.7.8 Authentication credentials invalid"),
        ("mật-khẩu", "the SMTP username and password must be ASCII"),
    ):
        refused_login = queue_and_deliver(
            organisation, host="127.0.0.1", port=server.port, username="nhiemvu", password=password
        )
        assert refused_login.sent == 0
        assert refused_login.server_error == f"mail server 127.0.0.1:{server.port}: {error}"
    clock.instant += timedelta(minutes=2)
    mailing = engine_for(
        organisation, host="127.0.0.1", port=server.port, username="nhiemvu", password="dung"
    )
    try:
        assert deliver(mailing).sent == 2
    finally:
        mailing.close()
    assert len(server.mailbox.received) == 2


def test_starttls_asked_of_a_server_without_it_is_an_error_not_a_crash(organisation, server):
    result = queue_and_deliver(
        organisation, host="127.0.0.1", port=server.port, security="starttls"
    )
    assert result.sent == 0
    assert "STARTTLS extension not supported" in result.server_error


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, trusted by clients through SSL_CERT_FILE."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        capture_output=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr.decode(errors="replace")  # .ci/run installs openssl
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_a_verified_certificate(organisation, server, certificate, security):
    if security == "ssl":
        server.restart(ssl_context=certificate)
    else:
        server.restart(tls_context=certificate, require_starttls=True)
    result = queue_and_deliver(organisation, host="127.0.0.1", port=server.port, security=security)
    assert result.sent == 1
    assert server.mailbox.messages()[0]["Subject"] == SUBJECT


# --- the command line ----------------------------------------------------------------------------


def cli_instance(folder: Path, port: int | None = None) -> Path:
    """An instance folder whose config sends e-mail to ``port`` (None: e-mail off)."""
    folder.mkdir()
    smtp = f'[smtp]\nhost = "127.0.0.1"\nport = {port}\n' if port else ""
    (folder / "config.toml").write_text(smtp, encoding="utf-8")
    return folder


def test_mail_send_and_queue_on_the_command_line(mailer, server, tmp_path):
    server.mailbox.refuse.add(OFFICE)
    queue(mailer, "vps.office", "qlkhcn.head")
    instance = cli_instance(tmp_path / "instance", server.port)
    common = ["--database-url", mailer.settings.database_url, "--today", "2026-11-22"]
    assert ok(nhiemvu(instance, *common, "mail", "send")) == "sent 1, failed 1, waiting 1\n"
    listing = ok(nhiemvu(instance, *common, "mail", "queue"))
    assert OFFICE in listing and "550 5.1.1 No such user here" in listing
    assert SUBJECT[:50] in listing
    assert listing.endswith("1 waiting (0 due now, 1 after an error), 0 failed, 1 sent\n")


def test_mail_send_refuses_clearly_when_e_mail_is_off_or_the_server_is_down(
    mailer, server, tmp_path
):
    common = ["--database-url", mailer.settings.database_url, "--today", "2026-11-22"]
    off = refused(nhiemvu(cli_instance(tmp_path / "off"), *common, "mail", "send"))
    assert off == "error: e-mail is off: set host in the [smtp] table of instance/config.toml\n"

    queue(mailer, "vps.office")
    server.stop()
    down = cli_instance(tmp_path / "down", server.port)
    result = nhiemvu(down, *common, "mail", "send")
    assert refused(result) == f"error: mail server 127.0.0.1:{server.port}: Connection refused\n"
    assert result.stdout == "sent 0, failed 1, waiting 1\n"
