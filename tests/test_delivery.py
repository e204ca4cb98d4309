"""Transports against a real SMTP server on 127.0.0.1, and the worker's retry policy."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from smtp_server import RecordingHandler, running_smtp

from publisher.delivery import (
    FileTransport,
    MemoryTransport,
    Policy,
    SmtpTransport,
    drain,
)
from publisher.errors import (
    PermanentDeliveryError,
    RelayError,
    SendPaused,
    TransientDeliveryError,
)
from publisher.models import OutboxItem, Outcome

NOW = datetime(2025, 11, 24, 0, 0, tzinfo=UTC)


def _message(n: int) -> bytes:
    return (
        f"From: news@example.com\r\nTo: r{n}@example.org\r\nSubject: test {n}\r\n"
        f"Message-ID: <e1.s{n}@example.com>\r\n\r\nbody {n}\r\n"
    ).encode()


class ListQueue:
    """An in-memory outbox satisfying delivery.worker.Queue (the real one is store.outbox)."""

    def __init__(self, count: int) -> None:
        self.rows = {
            i: OutboxItem(id=i, edition_id=1, subscriber_id=i, email=f"r{i}@example.org")
            for i in range(1, count + 1)
        }
        self.claimed: set[int] = set()
        self.records: list[list[Outcome]] = []

    def claim(self, edition_id: int, limit: int, now: datetime) -> list[OutboxItem]:
        ready = [
            r
            for r in self.rows.values()
            if r.state == "pending"
            and r.id not in self.claimed
            and (r.next_attempt_at is None or r.next_attempt_at <= now)
        ][:limit]
        self.claimed.update(r.id for r in ready)
        return ready

    def record(self, outcomes: Sequence[Outcome]) -> None:
        self.records.append(list(outcomes))
        for o in outcomes:
            row = self.rows[o.item_id]
            self.rows[o.item_id] = OutboxItem(
                id=row.id,
                edition_id=1,
                subscriber_id=row.subscriber_id,
                email=row.email,
                state=o.state,
                attempts=o.attempts,
                last_reply=o.reply,
                next_attempt_at=o.next_attempt_at,
                sent_at=o.sent_at,
            )
            self.claimed.discard(o.item_id)

    def release(self, item_ids: Sequence[int]) -> None:
        self.claimed.difference_update(item_ids)


def _compose(item: OutboxItem) -> tuple[str, bytes]:
    return "news@example.com", _message(item.subscriber_id)


def test_smtp_transport_delivers_many_messages_over_one_connection() -> None:
    handler = RecordingHandler()
    with running_smtp(handler) as (host, port):
        transport = SmtpTransport(host, port, security="none")
        for n in range(20):
            assert transport.send("news@example.com", f"r{n}@example.org", _message(n)).startswith(
                "250"
            )
        transport.close()
    assert len(handler.messages) == 20 and handler.sessions == 1
    parsed = email.message_from_bytes(handler.messages[3].data, policy=email.policy.default)
    assert parsed["Subject"] == "test 3"


def test_smtp_refusal_is_classified_and_does_not_poison_the_next_message() -> None:
    handler = RecordingHandler(permanent={"gone@example.org": "550 5.1.1 no such user"})
    with running_smtp(handler) as (host, port):
        transport = SmtpTransport(host, port, security="none")
        with pytest.raises(PermanentDeliveryError) as info:
            transport.send("news@example.com", "gone@example.org", _message(1))
        assert info.value.smtp_code == 550
        # The session was reset: the next message goes through (no "503 sender already specified").
        assert transport.send("news@example.com", "ok@example.org", _message(2)).startswith("250")
        transport.close()
    assert [m.recipients for m in handler.messages] == [["ok@example.org"]]


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_refused_envelope_is_reset_with_or_without_pipelining(pipelining: bool) -> None:
    handler = RecordingHandler(
        permanent={"gone@example.org": "550 5.1.1 no such user"}, pipelining=pipelining
    )
    with running_smtp(handler) as (host, port):
        transport = SmtpTransport(host, port, security="none")
        for n in range(3):
            with pytest.raises(PermanentDeliveryError) as info:
                transport.send("news@example.com", "gone@example.org", _message(n))
            assert info.value.smtp_code == 550
            # The server's own reply is what the outbox keeps.
            reply = transport.send("news@example.com", f"r{n}@example.org", _message(n))
            assert reply == "250 Message accepted for delivery"
        transport.close()
    assert [m.recipients for m in handler.messages] == [[f"r{n}@example.org"] for n in range(3)]
    assert handler.sessions == 1


def test_lines_starting_with_a_dot_arrive_unchanged() -> None:
    # RFC 5321 §4.5.2: the client doubles a leading dot, the server takes it away again.
    handler = RecordingHandler(pipelining=True)
    body = b"Subject: dots\r\n\r\n.hidden\r\n..two\r\n.\r\n.\r\nno newline at the end"
    with running_smtp(handler) as (host, port):
        transport = SmtpTransport(host, port, security="none")
        transport.send("news@example.com", "r@example.org", body)
        transport.close()
    assert handler.messages[0].data == body + b"\r\n"


def test_an_address_beyond_ascii_needs_a_server_with_smtputf8() -> None:
    for offered in (True, False):
        handler = RecordingHandler(smtputf8=offered)
        with running_smtp(handler) as (host, port):
            transport = SmtpTransport(host, port, security="none")
            if offered:
                transport.send("news@example.com", "山田@example.jp", _message(1))
            else:
                with pytest.raises(PermanentDeliveryError, match="SMTPUTF8") as info:
                    transport.send("news@example.com", "山田@example.jp", _message(1))
                assert info.value.smtp_code is None  # the relay's limit, not a bounce
            transport.send("news@example.com", "r@example.org", _message(2))
            transport.close()
        expected = [["山田@example.jp"], ["r@example.org"]] if offered else [["r@example.org"]]
        assert [m.recipients for m in handler.messages] == expected


def test_a_4xx_to_rcpt_is_transient_but_a_relay_dropping_every_connection_is_a_relay_fault() -> (
    None
):
    handler = RecordingHandler(drop_fault=1.0)  # every DATA: the connection closed, no reply
    with running_smtp(handler) as (host, port):
        transport = SmtpTransport(host, port, security="none")
        with pytest.raises(RelayError, match="connection lost") as lost:
            transport.send("news@example.com", "a@example.org", _message(1))
        assert lost.value.smtp_code is None
        assert handler.sessions == 2  # tried once more on a new connection, then given up
        handler.drop_fault = 0.0
        handler.rcpt_fault = 1.0
        with pytest.raises(TransientDeliveryError) as info:
            transport.send("news@example.com", "a@example.org", _message(1))
        assert info.value.smtp_code == 451 and not isinstance(info.value, RelayError)
        handler.rcpt_fault = 0.0
        assert transport.send("news@example.com", "a@example.org", _message(1)).startswith("250")
        transport.close()
    assert [m.recipients for m in handler.messages] == [["a@example.org"]]


def test_unreachable_server_is_a_relay_error() -> None:
    from smtp_server import free_port

    port = free_port()
    transport = SmtpTransport("127.0.0.1", port, security="none", timeout=2)
    with pytest.raises(RelayError, match=f"cannot connect to 127.0.0.1:{port}") as info:
        transport.send("a@example.com", "b@example.org", _message(1))
    assert info.value.smtp_code is None


def test_file_transport_writes_one_eml_per_message_id(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path / "outbox")
    transport.send("a@example.com", "r1@example.org", _message(1))
    transport.send("a@example.com", "r1@example.org", _message(1))  # a resend overwrites
    transport.send("a@example.com", "r2@example.org", _message(2))
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [
        "e1.s1@example.com.eml",
        "e1.s2@example.com.eml",
    ]


@pytest.mark.parametrize(("connections", "pipelining"), [(1, False), (1, True), (3, True)])
def test_drain_with_faults_delivers_every_message_exactly_once(
    connections: int, pipelining: bool
) -> None:
    # 30 % of RCPT or DATA answered 4xx, some connections dropped: all arrive once after retries.
    # A drop is retried on a new connection; two in a row pause the send, which a rerun resumes.
    handler = RecordingHandler(
        rcpt_fault=0.15, data_fault=0.1, drop_fault=0.05, seed=3, pipelining=pipelining
    )
    pauses = 0
    queue = ListQueue(200)
    clock = [NOW]
    policy = Policy(
        batch_size=50,
        max_attempts=20,
        retry_seconds=1,
        max_consecutive_errors=1000,
        connections=connections,
    )
    with running_smtp(handler) as (host, port):
        for _ in range(40):
            try:
                drain(
                    queue,
                    SmtpTransport(host, port, security="none", connections=connections),
                    _compose,
                    1,
                    policy,
                    lambda: clock[0],
                )
            except SendPaused as paused:
                assert "connection lost" in paused.reply, paused
                pauses += 1
                continue
            if all(r.state == "sent" for r in queue.rows.values()):
                break
            clock[0] += timedelta(hours=1)  # let every backoff pass
    assert all(r.state == "sent" for r in queue.rows.values())
    recipients = sorted(rcpt for m in handler.messages for rcpt in m.recipients)
    assert recipients == sorted(f"r{i}@example.org" for i in range(1, 201))
    assert max(r.attempts for r in queue.rows.values()) > 1
    assert all(len(batch) >= 1 for batch in queue.records)
    assert pauses < 40


def test_550_fails_at_once_and_is_never_retried() -> None:
    transport = MemoryTransport(
        handler=_refuse({"r2@example.org": PermanentDeliveryError("5.1.1 unknown user", 550)})
    )
    queue = ListQueue(3)
    tally = drain(queue, transport, _compose, 1, Policy(), lambda: NOW)
    assert (tally.sent, tally.failed, tally.bounced) == (2, 1, 1)
    assert queue.rows[2].state == "failed" and queue.rows[2].attempts == 1
    assert drain(queue, transport, _compose, 1, Policy(), lambda: NOW + timedelta(days=9)).sent == 0
    assert len(transport.sent) == 2


def test_4xx_backs_off_exponentially_then_fails_after_max_attempts() -> None:
    transport = MemoryTransport(
        handler=_refuse({"r1@example.org": TransientDeliveryError("try later", 451)})
    )
    queue = ListQueue(1)
    now = NOW
    delays = []
    for _ in range(3):
        drain(
            queue, transport, _compose, 1, Policy(max_attempts=3, retry_seconds=10), lambda n=now: n
        )
        row = queue.rows[1]
        if row.next_attempt_at is not None:
            delays.append((row.next_attempt_at - now).total_seconds())
            assert (
                drain(queue, transport, _compose, 1, Policy(), lambda n=now: n).batches == 0
            )  # not before its time
            now = row.next_attempt_at
    assert delays == [10, 20]
    assert queue.rows[1].state == "failed" and queue.rows[1].attempts == 3


def test_too_many_consecutive_errors_pause_the_send_and_lose_nothing() -> None:
    transport = MemoryTransport(handler=_refuse_all(TransientDeliveryError("4.3.0 full", 452)))
    queue = ListQueue(30)
    with pytest.raises(SendPaused, match="5 messages in a row were refused"):
        drain(
            queue,
            transport,
            _compose,
            1,
            Policy(batch_size=10, max_consecutive_errors=5),
            lambda: NOW,
        )
    states = [r.state for r in queue.rows.values()]
    assert states.count("pending") == 30 and not queue.claimed
    assert sum(r.attempts for r in queue.rows.values()) == 5


def test_a_relay_error_gives_the_message_back_and_pauses_at_once() -> None:
    fault = RelayError("4.7.0 Authentication required", 530)  # a plain one: no advice given
    transport = MemoryTransport(handler=_refuse({"r3@example.org": fault}))
    queue = ListQueue(10)
    with pytest.raises(SendPaused) as paused:
        drain(queue, transport, _compose, 1, Policy(batch_size=5), lambda: NOW)
    assert paused.value.reply == "530 4.7.0 Authentication required"
    assert "not a subscriber" in paused.value.reason
    assert [m.recipient for m in transport.sent] == ["r1@example.org", "r2@example.org"]
    assert [(r.state, r.attempts) for r in queue.rows.values()] == [("sent", 1)] * 2 + [
        ("pending", 0)
    ] * 8
    assert not queue.claimed  # r3, r4 and r5 were given back
    transport.handler = None  # the relay is fixed
    assert drain(queue, transport, _compose, 1, Policy(batch_size=5), lambda: NOW).sent == 8
    assert sorted(m.recipient for m in transport.sent) == sorted(
        f"r{i}@example.org" for i in range(1, 11)
    )


def test_a_relay_fault_with_several_connections_records_what_was_on_its_way() -> None:
    def relay(sender: str, recipient: str, data: bytes) -> None:
        if recipient == "r5@example.org":
            raise RelayError("4.7.0 Authentication required", 530, fix="set [smtp] username")
        time.sleep(0.02)

    queue = ListQueue(40)
    transport = MemoryTransport(handler=relay)
    policy = Policy(batch_size=40, connections=4)
    with pytest.raises(SendPaused, match="Set \\[smtp\\] username"):
        drain(queue, transport, _compose, 1, policy, lambda: NOW)
    sent = {m.recipient for m in transport.sent}
    # r1-r4 were taken before r5, so they were on their way: finished and recorded as sent.
    assert {f"r{i}@example.org" for i in range(1, 5)} <= sent and len(sent) < 39
    assert {r.email for r in queue.rows.values() if r.state == "sent"} == sent
    rest = [r for r in queue.rows.values() if r.email not in sent]
    assert rest and all((r.state, r.attempts) == ("pending", 0) for r in rest)
    assert not queue.claimed and len(queue.records) == 1


def test_an_outbox_folder_that_cannot_be_written_pauses_and_charges_nobody(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "var"
    blocker.write_text("a file where the folder should be\n")
    queue = ListQueue(3)
    with pytest.raises(SendPaused) as paused:
        drain(queue, FileTransport(blocker / "outbox"), _compose, 1, Policy(), lambda: NOW)
    assert paused.value.reply.startswith(f"cannot write {blocker / 'outbox'}")
    assert "can be written" in paused.value.reason
    assert [(r.state, r.attempts) for r in queue.rows.values()] == [("pending", 0)] * 3
    blocker.unlink()
    assert (
        drain(queue, FileTransport(blocker / "outbox"), _compose, 1, Policy(), lambda: NOW).sent
        == 3
    )
    assert len(list((blocker / "outbox").iterdir())) == 3


def test_several_connections_send_at_once() -> None:
    handler = RecordingHandler(delay=0.05)
    queue = ListQueue(30)
    with running_smtp(handler) as (host, port):
        transport = SmtpTransport(host, port, security="none", connections=3)
        tally = drain(queue, transport, _compose, 1, Policy(connections=3), lambda: NOW)
    assert tally.sent == 30 and tally.batches == 1
    assert sorted(r for m in handler.messages for r in m.recipients) == sorted(
        f"r{i}@example.org" for i in range(1, 31)
    )
    assert handler.sessions == 3  # each thread its own connection, none more
    assert [len(batch) for batch in queue.records] == [30]


def test_a_pause_with_several_connections_records_every_message_on_its_way() -> None:
    tried: list[str] = []
    lock = threading.Lock()

    def refuse(sender: str, recipient: str, data: bytes) -> None:
        with lock:
            tried.append(recipient)
        time.sleep(0.01)
        raise TransientDeliveryError("4.3.0 full", 452)

    queue = ListQueue(40)
    policy = Policy(batch_size=40, max_consecutive_errors=5, connections=4)
    with pytest.raises(SendPaused, match="messages in a row were refused"):
        drain(queue, MemoryTransport(handler=refuse), _compose, 1, policy, lambda: NOW)
    # Every message tried was recorded (none is released to be sent again), the rest given back.
    attempted = {r.email for r in queue.rows.values() if r.attempts}
    assert attempted == set(tried) and 5 <= len(tried) < 40
    assert not queue.claimed and all(r.state == "pending" for r in queue.rows.values())


def test_a_stop_between_batches_leaves_nothing_claimed() -> None:
    queue = ListQueue(30)
    transport = MemoryTransport()
    tally = drain(
        queue,
        transport,
        _compose,
        1,
        Policy(batch_size=10),
        lambda: NOW,
        should_stop=lambda: len(transport.sent) >= 10,
    )
    assert tally.sent == 10 and len(queue.records) == 1
    assert not queue.claimed
    assert drain(queue, transport, _compose, 1, Policy(batch_size=10), lambda: NOW).sent == 20


def test_rate_limit_spaces_messages() -> None:
    queue = ListQueue(5)
    transport = MemoryTransport()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    drain(queue, transport, _compose, 1, Policy(rate_limit=50), lambda: NOW, sleep=sleep)
    assert len(transport.sent) == 5
    # Each message after the first waits for its slot, 1/50 s after the previous one.
    assert len(sleeps) == 4 and all(0 < s <= 1 / 50 + 1e-6 for s in sleeps)


def _refuse(errors: dict[str, Exception]):  # type: ignore[no-untyped-def]
    def handler(sender: str, recipient: str, data: bytes) -> None:
        if recipient in errors:
            raise errors[recipient]

    return handler


def _refuse_all(error: Exception):  # type: ignore[no-untyped-def]
    def handler(sender: str, recipient: str, data: bytes) -> None:
        raise error

    return handler
