"""Relay faults are not recipient faults: drains against aiosmtpd on 127.0.0.1 and a real outbox.

Each test fills an outbox on the ``db`` fixture (a SQLite file, and
PostgreSQL when ``PUBLISHER_TEST_DATABASE_URL`` is set), drains it through
``SmtpTransport`` and ``OutboxStore``, and reads the rows back.
"""

from __future__ import annotations

import socket
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from smtp_server import (
    Accounts,
    Certificate,
    RecordingHandler,
    free_port,
    greeting_server,
    running_smtp,
    self_signed_certificate,
)
from sqlalchemy import Engine, select

from publisher.delivery import Policy, SmtpTransport, Tally, drain
from publisher.errors import RelayError, SendPaused
from publisher.models import OutboxItem
from publisher.store import OutboxStore, create_edition, import_subscribers
from publisher.store.schema import outbox

NOW = datetime(2025, 11, 24, 9, 0, tzinfo=UTC)
SENDER = "news@example.com"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def outbox_with(db: Engine, count: int) -> tuple[int, list[str]]:
    """An edition for ``count`` active subscribers; its id and their addresses."""
    emails = [f"s{n:03d}@example.org" for n in range(count)]
    rows = ((n + 2, {"email": email}) for n, email in enumerate(emails))
    import_subscribers(db, rows, default_status="active", now=NOW)
    edition = create_edition(
        db,
        cutoff_from=NOW - timedelta(days=7),
        cutoff_to=NOW,
        subject="weekly",
        post_ids=(),
        now=NOW,
    )
    return edition.id, emails


def rows(db: Engine, edition_id: int) -> dict[str, tuple[str, int]]:
    """Each address of the edition's outbox: (state, attempts)."""
    query = select(outbox.c.email, outbox.c.state, outbox.c.attempts).where(
        outbox.c.edition_id == edition_id
    )
    with db.connect() as conn:
        return {email: (state, attempts) for email, state, attempts in conn.execute(query)}


def compose(item: OutboxItem) -> tuple[str, bytes]:
    return SENDER, (
        f"From: {SENDER}\r\nTo: {item.email}\r\nSubject: weekly\r\n"
        f"Message-ID: <e1.{item.subscriber_id}@example.com>\r\n\r\nhello\r\n"
    ).encode()


def send(db: Engine, edition_id: int, transport: SmtpTransport, worker: str) -> Tally:
    queue = OutboxStore(db, worker)
    return drain(queue, transport, compose, edition_id, Policy(batch_size=10), lambda: NOW)


def delivered(handler: RecordingHandler) -> Counter[str]:
    return Counter(rcpt for message in handler.messages for rcpt in message.recipients)


def untouched(emails: list[str]) -> dict[str, tuple[str, int]]:
    return dict.fromkeys(emails, ("pending", 0))


@pytest.mark.parametrize("pipelining", [False, True])
def test_530_at_mail_from_pauses_charges_nobody_and_a_rerun_sends_everyone_once(
    db: Engine, pipelining: bool
) -> None:
    edition_id, emails = outbox_with(db, 25)
    handler = RecordingHandler(
        mail_reply="530 5.7.0 Authentication required", pipelining=pipelining
    )
    with running_smtp(handler) as (host, port):
        with pytest.raises(SendPaused) as paused:
            send(db, edition_id, SmtpTransport(host, port, security="none"), "w1")
        assert paused.value.reply == "530 5.7.0 Authentication required"
        assert "MAIL FROM" in paused.value.reason and "[digest] from" in paused.value.reason
        assert handler.mails == 1  # paused at the first refusal, not 50 of them
        assert rows(db, edition_id) == untouched(emails)
        handler.mail_reply = ""  # the relay is fixed
        tally = send(db, edition_id, SmtpTransport(host, port, security="none"), "w2")
    assert (tally.sent, tally.failed, tally.retrying) == (25, 0, 0)
    assert delivered(handler) == Counter(emails)
    assert rows(db, edition_id) == dict.fromkeys(emails, ("sent", 1))


def test_a_closed_port_pauses_and_charges_nobody(db: Engine) -> None:
    edition_id, emails = outbox_with(db, 12)
    port = free_port()
    with pytest.raises(SendPaused) as paused:
        send(db, edition_id, SmtpTransport("127.0.0.1", port, security="none", timeout=5), "w")
    assert f"cannot connect to 127.0.0.1:{port}" in paused.value.reply
    assert "[smtp] host, port" in paused.value.reason
    assert rows(db, edition_id) == untouched(emails)


@pytest.mark.parametrize(
    ("code", "text"), [(554, "5.7.1 this relay does not serve you"), (421, "4.3.2 too busy")]
)
def test_a_refused_greeting_is_a_relay_error_and_charges_nobody(
    db: Engine, code: int, text: str
) -> None:
    edition_id, emails = outbox_with(db, 5)
    with greeting_server(f"{code} {text}\r\n".encode()) as relay:
        transport = SmtpTransport("127.0.0.1", relay.port, security="none", timeout=5)
        with pytest.raises(RelayError) as info:
            transport.send(SENDER, "a@example.org", b"Subject: x\r\n\r\nx\r\n")
        assert (info.value.smtp_code, info.value.reply) == (code, text)
        with pytest.raises(SendPaused) as paused:
            send(db, edition_id, transport, "w")
    assert paused.value.reply == f"{code} {text}"
    assert relay.connections == 2  # one each: a refused greeting is not retried at once
    assert rows(db, edition_id) == untouched(emails)


def test_a_relay_that_never_greets_times_out_as_a_relay_error() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        transport = SmtpTransport("127.0.0.1", silent.getsockname()[1], timeout=0.3)
        with pytest.raises(RelayError, match=r"cannot connect to .*timed out") as info:
            transport.send(SENDER, "a@example.org", b"Subject: x\r\n\r\nx\r\n")
    assert info.value.smtp_code is None


def test_rcpt_550_fails_only_that_address_and_the_rest_are_sent(db: Engine) -> None:
    edition_id, emails = outbox_with(db, 15)
    gone = emails[6]
    handler = RecordingHandler(permanent={gone: "550 5.1.1 no such user"}, pipelining=True)
    with running_smtp(handler) as (host, port):
        tally = send(db, edition_id, SmtpTransport(host, port, security="none"), "w")
    assert (tally.sent, tally.failed, tally.bounced) == (14, 1, 1)
    assert delivered(handler) == Counter(e for e in emails if e != gone)
    expected = dict.fromkeys(emails, ("sent", 1)) | {gone: ("failed", 1)}
    assert rows(db, edition_id) == expected
    assert handler.sessions == 1  # the refusal did not cost the connection


def test_a_connection_dropped_once_mid_send_is_reopened_without_a_pause(db: Engine) -> None:
    edition_id, emails = outbox_with(db, 20)
    handler = RecordingHandler(drop_at={8}, pipelining=True)  # the 8th DATA: connection cut
    with running_smtp(handler) as (host, port):
        tally = send(db, edition_id, SmtpTransport(host, port, security="none"), "w")
    assert (tally.sent, tally.failed, tally.retrying, tally.given_back) == (20, 0, 0, 0)
    assert delivered(handler) == Counter(emails)
    assert rows(db, edition_id) == dict.fromkeys(emails, ("sent", 1))
    assert handler.sessions == 2


@pytest.mark.parametrize("connections", [1, 3])
def test_a_relay_that_closes_after_some_messages_costs_a_reconnect_not_a_pause(
    db: Engine, connections: int
) -> None:
    # Like relays limiting messages per connection: 421 at the next MAIL FROM, then closed.
    edition_id, emails = outbox_with(db, 30)
    handler = RecordingHandler(per_connection=4, pipelining=True)
    with running_smtp(handler) as (host, port):
        transport = SmtpTransport(host, port, security="none", connections=connections)
        queue = OutboxStore(db, "w")
        policy = Policy(batch_size=10, connections=connections)
        tally = drain(queue, transport, compose, edition_id, policy, lambda: NOW)
    assert (tally.sent, tally.failed, tally.retrying) == (30, 0, 0)
    assert delivered(handler) == Counter(emails)
    assert rows(db, edition_id) == dict.fromkeys(emails, ("sent", 1))
    assert handler.sessions >= 30 // 4


def test_a_relay_that_drops_every_connection_pauses_after_one_message(db: Engine) -> None:
    edition_id, emails = outbox_with(db, 12)
    handler = RecordingHandler(drop_fault=1.0)
    with running_smtp(handler) as (host, port):
        with pytest.raises(SendPaused) as paused:
            send(db, edition_id, SmtpTransport(host, port, security="none"), "w")
        assert "connection lost" in paused.value.reply
        assert handler.sessions == 2 and handler.datas == 2  # one message, tried twice
        handler.drop_fault = 0.0
        tally = send(db, edition_id, SmtpTransport(host, port, security="none"), "w2")
    assert tally.sent == 12
    assert delivered(handler) == Counter(emails)
    assert rows(db, edition_id) == dict.fromkeys(emails, ("sent", 1))


def test_a_wrong_password_pauses_charges_nobody_and_the_right_one_sends_everyone_once(
    db: Engine, certificate: Certificate
) -> None:
    edition_id, emails = outbox_with(db, 25)
    handler = RecordingHandler(pipelining=True)
    accounts = Accounts({"editor": "right horse"})
    ca_file = str(certificate.cert)
    with running_smtp(handler, tls=certificate.server_context(), accounts=accounts) as (h, p):
        wrong = SmtpTransport(h, p, username="editor", password="wrong horse", ca_file=ca_file)
        with pytest.raises(SendPaused) as paused:
            send(db, edition_id, wrong, "w1")
        assert paused.value.reply == "535 5.7.8 Authentication credentials invalid"
        assert "[smtp] username and PUBLISHER_SMTP_PASSWORD" in paused.value.reason
        assert rows(db, edition_id) == untouched(emails)
        assert handler.mails == 0
        right = SmtpTransport(h, p, username="editor", password="right horse", ca_file=ca_file)
        tally = send(db, edition_id, right, "w2")
    assert (tally.sent, tally.failed, tally.retrying) == (25, 0, 0)
    assert delivered(handler) == Counter(emails)
    assert rows(db, edition_id) == dict.fromkeys(emails, ("sent", 1))


def test_an_untrusted_certificate_pauses_and_charges_nobody(
    db: Engine, certificate: Certificate
) -> None:
    edition_id, emails = outbox_with(db, 8)
    handler = RecordingHandler()
    with running_smtp(handler, tls=certificate.server_context()) as (h, p):
        with pytest.raises(SendPaused) as paused:
            send(db, edition_id, SmtpTransport(h, p), "w1")  # no ca_file: the system's CAs
        assert "certificate" in paused.value.reply
        assert "[smtp] ca_file" in paused.value.reason
        assert rows(db, edition_id) == untouched(emails)
        trusted = SmtpTransport(h, p, ca_file=str(certificate.cert))
        assert send(db, edition_id, trusted, "w2").sent == 8
    assert delivered(handler) == Counter(emails)
