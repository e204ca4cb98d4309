"""publisher worker: delivery processes beside the scheduler, sharing one outbox.

Real parts: the example site, a SQLite file or PostgreSQL (the ``db``
fixture), aiosmtpd on 127.0.0.1 (tests/smtp_server.py) and, for the process
tests, `publisher worker` subprocesses. Editions are created the way the
scheduler creates them (``send_digest``), stopped before the first batch.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clock_support import FakeClock
from newsletter_support import SECRET, Newsletter
from smtp_server import RecordingHandler, running_smtp
from sqlalchemy import Engine

from publisher.app.context import Context
from publisher.app.deliveries import DeliveryWorker, wait_seconds
from publisher.app.sending import send_digest
from publisher.store import edition_counts, list_editions, unfinished_edition

NOW = datetime.fromisoformat("2025-11-20T09:00:00+09:00")
DELIVERED = re.compile(r"deliver: (\d+) delivered;")


def _context(news: Newsletter, now: datetime | None = NOW) -> Context:
    return Context(
        site_dir=news.site,
        now=now,
        environ={"PUBLISHER_SECRET": SECRET},
        wall=FakeClock(now or NOW),
    )


def _subscribe(news: Newsletter, n: int) -> list[str]:
    emails = [f"s{i:04d}@example.org" for i in range(n)]
    (news.root / "list.csv").write_text("email\n" + "\n".join(emails) + "\n", encoding="utf-8")
    news.run("subscribers", "import", "list.csv")
    return emails


def _create_edition(news: Newsletter) -> int:
    """What the scheduler does, stopped before the first batch: the edition and its outbox."""
    ctx = _context(news)
    try:
        report = send_digest(ctx, should_stop=lambda: True)
        assert report.edition is not None and report.created
        return report.edition.id
    finally:
        ctx.close()


def _worker(news: Newsletter, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env["PUBLISHER_SECRET"] = SECRET
    return subprocess.Popen(
        [sys.executable, "-m", "publisher", "worker", "--site", "site", "--poll", "0.2", *args],
        cwd=news.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _tune(news: Newsletter, digest: str) -> None:
    """Add keys to the test site's [digest] section."""
    toml = news.site / "publisher.toml"
    text = toml.read_text(encoding="utf-8").replace("[digest]\n", f"[digest]\n{digest}", 1)
    toml.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("due_in", "wait"), [(None, 5.0), (2.0, 2.0), (9.0, 5.0), (-3.0, 0.0), (0.0, 0.0)]
)
def test_wait_seconds(due_in: float | None, wait: float) -> None:
    now = datetime(2025, 11, 20, tzinfo=UTC)
    due = None if due_in is None else now + timedelta(seconds=due_in)
    assert wait_seconds(now, 5.0, due) == wait


def test_once_delivers_an_unfinished_edition_and_never_creates_one(
    tmp_path: Path, db: Engine
) -> None:
    handler = RecordingHandler()
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        emails = _subscribe(news, 30)
        idle = _worker(news, "--once")
        _out, err = idle.communicate(timeout=120)
        assert idle.returncode == 0, err
        assert handler.messages == [] and list_editions(db) == []  # new posts, yet no edition
        edition_id = _create_edition(news)
        busy = _worker(news, "--once")
        _out, err = busy.communicate(timeout=120)
    assert busy.returncode == 0, err
    assert "deliver: 30 delivered; edition 1 finished" in err
    assert sorted(r for m in handler.messages for r in m.recipients) == emails
    assert edition_counts(db, edition_id)["sent"] == 30
    assert unfinished_edition(db) is None


def test_two_workers_share_one_edition_and_send_each_message_once(
    tmp_path: Path, db: Engine
) -> None:
    handler = RecordingHandler(delay=0.01)  # 400 messages take a few seconds: both get some
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        emails = _subscribe(news, 400)
        edition_id = _create_edition(news)
        workers = [_worker(news, "--once") for _ in range(2)]
        logs = [w.communicate(timeout=300)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], logs
    counts = Counter(r for m in handler.messages for r in m.recipients)
    assert sorted(counts) == emails and set(counts.values()) == {1}
    assert edition_counts(db, edition_id)["sent"] == 400
    assert unfinished_edition(db) is None
    # Each claimed batches of its own (SKIP LOCKED on PostgreSQL, turns at SQLite's write lock).
    shares = [sum(int(n) for n in DELIVERED.findall(log)) for log in logs]
    assert sum(shares) == 400 and all(share > 0 for share in shares), shares


def test_sigterm_stops_after_the_batch_and_leaves_nothing_claimed(
    tmp_path: Path, db: Engine
) -> None:
    handler = RecordingHandler(delay=0.01)
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        emails = _subscribe(news, 300)
        edition_id = _create_edition(news)
        worker = _worker(news)
        deadline = time.monotonic() + 120
        while len(handler.messages) < 60 and time.monotonic() < deadline:
            time.sleep(0.02)
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert "publisher worker: stopped" in err
        stopped = edition_counts(db, edition_id)
        assert stopped["sending"] == 0 and 0 < stopped["sent"] < 300, stopped
        rest = _worker(news, "--once")
        _out, err = rest.communicate(timeout=120)
        assert rest.returncode == 0, err
    counts = Counter(r for m in handler.messages for r in m.recipients)
    assert sorted(counts) == emails and set(counts.values()) == {1}


def test_a_retry_goes_when_its_backoff_ends(tmp_path: Path, db: Engine) -> None:
    handler = RecordingHandler(rcpt_fault=1.0)  # every RCPT: 451
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        _tune(news, "retry_seconds = 600\nmax_consecutive_errors = 50\n")
        emails = _subscribe(news, 3)
        edition_id = _create_edition(news)
        ctx = _context(news)
        worker = DeliveryWorker(ctx, poll=30.0)
        first = worker.step()
        assert first.outcome is not None and first.outcome.delivered == 0
        assert edition_counts(db, edition_id)["pending"] == 3
        waiting = worker.step()  # nothing due yet: no render, no connection
        assert waiting.outcome is None and waiting.wait == 30.0
        handler.rcpt_fault = 0.0
        ctx.wall.advance(timedelta(minutes=11))
        done = worker.step()
        ctx.close()
    assert done.outcome is not None and done.outcome.delivered == 3 and done.progressed
    assert sorted(r for m in handler.messages for r in m.recipients) == emails
    assert unfinished_edition(db) is None


def test_a_paused_edition_is_left_alone_then_resumed(tmp_path: Path, db: Engine) -> None:
    handler = RecordingHandler(rcpt_fault=1.0)
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        _tune(news, "max_consecutive_errors = 2\n")
        emails = _subscribe(news, 5)
        _create_edition(news)
        ctx = _context(news)
        worker = DeliveryWorker(ctx, poll=30.0)
        paused = worker.step()
        assert paused.outcome is not None and paused.outcome.state == "paused"
        assert paused.outcome.retry_at == NOW + timedelta(minutes=15)  # [run] paused_retry_minutes
        edition = unfinished_edition(db)
        assert edition is not None and edition.state == "paused"
        handler.rcpt_fault = 0.0
        ctx.wall.advance(timedelta(minutes=14))
        assert worker.step().outcome is None  # still cooling down
        assert handler.messages == []
        ctx.wall.advance(timedelta(minutes=1))
        resumed = worker.drain()
        ctx.close()
    assert sum(o.delivered for o in resumed) == 5
    assert sorted(r for m in handler.messages for r in m.recipients) == emails
    assert unfinished_edition(db) is None
