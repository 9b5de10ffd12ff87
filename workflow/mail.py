"""E-mail leaves here: the outbox delivered through the configured SMTP server, and what the
Office sees of it (what waits, what failed and why).

**Delivery is at least once.** A run reads the pending messages whose time has come, oldest
first, opens one SMTP connection and sends them one by one. Each message is marked sent in a
short transaction of its own right after the server accepted it: a crash after message *k*
loses nothing and repeats nothing of messages 1…*k*. The one window left is between the
server's acceptance of a message and the commit that marks it: a crash there sends that message
again on a later run, with the same ``Message-ID`` (the outbox row's), so mail systems and
readers can recognise the copy. No transaction is held open while talking to the server.

**Two deliverers never send one message twice** (the scheduler and ``nhiemvu mail send`` at the
same moment, or two hosts): before sending, a run claims the row with one conditional UPDATE
(pending, due, not retried meanwhile) that moves ``next_attempt_at`` to the end of a lease; only
the run whose UPDATE changed the row sends it. The lease also covers a crash: a row claimed by a
run that died comes due again when its lease ends. This needs nothing but row-level atomic
updates, so it works the same on SQLite and PostgreSQL.

**Failures.** Whatever the server refuses for one message (a recipient refused, 4xx or 5xx, the
sender or the data refused) counts one failed attempt for that message, records a short error
and sets the next attempt after a back-off (1, 5, 15 and 60 minutes, then every 6 hours); the run
goes on with the next message. After :data:`MAX_ATTEMPTS` failed attempts the message is
``failed`` and stays for the Office to see. A 5xx is retried too: misconfigured servers refuse
with 5xx what is only temporary, and a day of retries costs little.

When the server cannot be reached or the connection breaks (refused, timed out, TLS or login
refused, disconnected), the run stops: every message still due in it counts the same failed
attempt with the server's error. Messages due together then share one back-off, so an outage
costs one connection attempt per retry, not one per message, and each message shows why it
waits. :func:`deliver` never raises for a mail problem; a database error does raise.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.errors import MessageError
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.clock import LOCAL_TZ
from workflow.config import Smtp
from workflow.context import Engine
from workflow.db import Database
from workflow.models import OutboxMessage
from workflow.notices import mail_host

MAX_ATTEMPTS = 8
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
)
LAST_BACKOFF = timedelta(hours=6)
LEASE = timedelta(minutes=15)  # far longer than one message takes to send
ERROR_LENGTH = 500

# Base64 or quoted-printable bodies and encoded-word headers: the message is plain ASCII on the
# wire and passes any relay, with or without 8BITMIME.
MESSAGE_POLICY = SMTP_POLICY.clone(cte_type="7bit")

_MAIL_ERRORS = (OSError, smtplib.SMTPException)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt (counting from 1)."""
    return BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else LAST_BACKOFF


@dataclass
class DeliveryResult:
    enabled: bool = True  # False: no [smtp] host, nothing was tried
    sent: int = 0
    failed: int = 0  # failed attempts in this run (retried later or given up)
    gave_up: int = 0  # of those, messages now failed for good
    waiting: int = 0  # messages still pending after the run (due later, or beyond the limit)
    server_error: str = ""  # why the run stopped early: the server unreachable or lost


@dataclass(frozen=True)
class _Queued:
    """One outbox row as read at the start of a run; ``attempts`` guards every later update."""

    id: int
    message_id: str
    to_address: str
    subject: str
    text_body: str
    html_body: str
    attempts: int


def deliver(engine: Engine, now: datetime | None = None, limit: int = 100) -> DeliveryResult:
    """Send up to ``limit`` pending messages due at ``now`` (default: the engine's clock)."""
    now = now or engine.clock.now()
    settings = engine.settings
    if not settings.smtp.enabled:
        return DeliveryResult(enabled=False, waiting=_pending(engine.database))
    run = _Run(engine.database, settings.smtp, _helo_name(mail_host(settings)), now)
    queued = run.due(limit)
    if queued:
        run.send(queued)
    run.result.waiting = _pending(engine.database)
    return run.result


@dataclass
class _Run:
    database: Database
    smtp: Smtp
    helo: str
    now: datetime
    started: float = field(default_factory=time.monotonic)
    result: DeliveryResult = field(default_factory=DeliveryResult)

    def at(self) -> datetime:
        """``now`` moved on by the time this run has taken: stamps and leases stay true on a
        slow server, while every decision about what is due uses ``now``."""
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def due(self, limit: int) -> list[_Queued]:
        with self.database.unit_of_work(write=False) as session:
            rows = session.execute(
                sa.select(
                    OutboxMessage.id,
                    OutboxMessage.message_id,
                    OutboxMessage.to_address,
                    OutboxMessage.subject,
                    OutboxMessage.text_body,
                    OutboxMessage.html_body,
                    OutboxMessage.attempts,
                )
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= self.now)
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
                .limit(limit)
            )
            return [_Queued(*row) for row in rows]

    def send(self, queued: list[_Queued]) -> None:
        try:
            connection = connect(self.smtp, self.helo)
        except _MAIL_ERRORS as exc:
            self.stop(queued, self.server_failed(exc))
            return
        try:
            for index, message in enumerate(queued):
                if not self.send_one(connection, message):
                    self.stop(queued[index + 1 :], self.result.server_error)
                    return
        finally:
            _quit(connection)

    def server_failed(self, exc: BaseException) -> str:
        self.result.server_error = f"mail server {self.smtp.host}:{self.smtp.port}: {describe(exc)}"
        return self.result.server_error

    def send_one(self, connection: smtplib.SMTP, message: _Queued) -> bool:
        """Claim, send and mark one message; False when the connection is lost."""
        lease = self.claim(message)
        if lease is None:
            return True  # another run has it, or sent it
        try:
            mail = build(message, self.smtp.sender, self.at())
        except (ValueError, MessageError) as exc:
            self.fail([message], f"the message cannot be written: {exc}", lease, final=True)
            return True
        try:
            refused = connection.send_message(mail)
            if refused:  # one recipient per message: accepted or refused, never in part
                raise smtplib.SMTPRecipientsRefused(refused)
        except _MAIL_ERRORS as exc:
            lost = _lost(connection, exc)
            self.fail([message], self.server_failed(exc) if lost else describe(exc), lease)
            return not lost
        self.mark_sent(message)
        return True

    def claim(self, message: _Queued) -> datetime | None:
        """Take the row for this run until the lease ends; None if another run took it."""
        lease = self.at() + LEASE
        with self.database.unit_of_work() as session:
            claimed = session.execute(
                sa.update(OutboxMessage)
                .where(_unchanged(message), OutboxMessage.next_attempt_at <= self.now)
                .values(next_attempt_at=lease)
            ).rowcount
        return lease if claimed == 1 else None

    def mark_sent(self, message: _Queued) -> None:
        """Sent is final: it overrides whatever a rival run wrote meanwhile."""
        with self.database.unit_of_work() as session:
            session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(
                    status="sent",
                    sent_at=self.at(),
                    attempts=OutboxMessage.attempts + 1,
                )
            )
        self.result.sent += 1

    def stop(self, rest: Sequence[_Queued], error: str) -> None:
        """The server is gone: every message left in this run counts the failed attempt."""
        self.fail(rest, error, lease=None)

    def fail(
        self, messages: Sequence[_Queued], error: str, lease: datetime | None, final: bool = False
    ) -> None:
        """Record a failed attempt on each message this run holds (by ``lease``, or still due
        and untouched when it never claimed them), in one transaction."""
        held = (
            OutboxMessage.next_attempt_at <= self.now
            if lease is None
            else OutboxMessage.next_attempt_at == lease
        )
        at = self.at()
        with self.database.unit_of_work() as session:
            for message in messages:
                attempts = message.attempts + 1
                gave_up = final or attempts >= MAX_ATTEMPTS
                changed = session.execute(
                    sa.update(OutboxMessage)
                    .where(_unchanged(message), held)
                    .values(
                        attempts=attempts,
                        last_error=error[:ERROR_LENGTH],
                        status="failed" if gave_up else "pending",
                        next_attempt_at=at if gave_up else at + backoff(attempts),
                    )
                ).rowcount
                self.result.failed += changed
                self.result.gave_up += changed if gave_up else 0


def _unchanged(message: _Queued) -> sa.ColumnElement[bool]:
    """The row is still pending and no other run has counted an attempt on it since we read it."""
    return sa.and_(
        OutboxMessage.id == message.id,
        OutboxMessage.status == "pending",
        OutboxMessage.attempts == message.attempts,
    )


def _pending(database: Database) -> int:
    with database.unit_of_work(write=False) as session:
        return session.scalar(sa.select(sa.func.count()).where(OutboxMessage.status == "pending"))


# --- SMTP ----------------------------------------------------------------------------------------


def connect(smtp: Smtp, helo: str) -> smtplib.SMTP:
    """A connection ready to send: TLS as configured (certificates verified), logged in when a
    username is set. Raises OSError or SMTPException."""
    if not (smtp.username + smtp.password).isascii():  # smtplib's AUTH sends ASCII only
        raise smtplib.SMTPException("the SMTP username and password must be ASCII")
    if smtp.security == "ssl":
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host,
            smtp.port,
            local_hostname=helo,
            timeout=smtp.timeout,
            context=ssl.create_default_context(),
        )
    else:
        connection = smtplib.SMTP(smtp.host, smtp.port, local_hostname=helo, timeout=smtp.timeout)
    try:
        if smtp.security == "starttls":
            connection.starttls(context=ssl.create_default_context())
        if smtp.username:
            connection.login(smtp.username, smtp.password)
    except BaseException:
        connection.close()
        raise
    return connection


def build(message: _Queued, sender: str, at: datetime) -> EmailMessage:
    """The e-mail of an outbox row: plain text with an HTML alternative, dated ``at`` in
    Vietnamese time, marked automatic so that out-of-office replies stay away (RFC 3834)."""
    mail = EmailMessage(policy=MESSAGE_POLICY)
    mail["From"] = sender
    mail["To"] = message.to_address
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(at.astimezone(LOCAL_TZ))
    mail["Message-ID"] = message.message_id
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text_body)
    mail.add_alternative(message.html_body, subtype="html")
    return mail


def describe(exc: BaseException) -> str:
    """A short text for the Office: the server's own words where it gave some."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address} refused: {code} {_text(reply)}"
            for address, (code, reply) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _lost(connection: smtplib.SMTP, exc: BaseException) -> bool:
    """Whether a failure ended the connection (a 421 closes it too), not just one message."""
    if isinstance(exc, smtplib.SMTPServerDisconnected) or connection.sock is None:
        return True
    return not isinstance(exc, smtplib.SMTPException)  # a socket error (SMTPException is one too)


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except _MAIL_ERRORS:
        connection.close()


def _helo_name(host: str) -> str:
    """The name we greet the server with: our public host, an address in brackets."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[{host}]"


# --- what the Office sees ------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxSummary:
    pending: int  # waiting to leave, due now or later
    due: int  # of those, due now
    retrying: int  # of those, after at least one failed attempt
    failed: int  # given up
    sent: int
    oldest_pending: datetime | None


def outbox_summary(session: Session, now: datetime) -> OutboxSummary:
    pending = OutboxMessage.status == "pending"
    row = session.execute(
        sa.select(
            sa.func.count().filter(pending),
            sa.func.count().filter(pending, OutboxMessage.next_attempt_at <= now),
            sa.func.count().filter(pending, OutboxMessage.attempts > 0),
            sa.func.count().filter(OutboxMessage.status == "failed"),
            sa.func.count().filter(OutboxMessage.status == "sent"),
            sa.func.min(OutboxMessage.created_at).filter(pending),
        )
    ).one()
    return OutboxSummary(*row)


_UNSENT_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.status,
    OutboxMessage.to_address,
    OutboxMessage.subject,
    OutboxMessage.attempts,
    OutboxMessage.created_at,
    OutboxMessage.next_attempt_at,
    OutboxMessage.last_error,
)


def unsent(session: Session, limit: int = 100) -> Sequence[sa.Row]:
    """Every message not sent: given up first, then waiting ones by their next attempt."""
    return _unsent(session, limit)


def _unsent(session: Session, limit: int, *where: sa.ColumnElement[bool]) -> Sequence[sa.Row]:
    return session.execute(
        sa.select(*_UNSENT_COLUMNS)
        .where(OutboxMessage.status.in_(("pending", "failed")), *where)
        .order_by(
            (OutboxMessage.status == "pending").asc(),
            OutboxMessage.next_attempt_at,
            OutboxMessage.id,
        )
        .limit(limit)
    ).all()


def problems(session: Session, limit: int = 50) -> Sequence[sa.Row]:
    """The messages that failed for good or wait after an error, in the order of :func:`unsent`."""
    return _unsent(session, limit, OutboxMessage.attempts > 0)
