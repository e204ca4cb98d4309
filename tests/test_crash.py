"""A send killed with SIGKILL loses nothing and repeats at most the batch in flight;
two senders at once never send a message twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from newsletter_support import SECRET, Newsletter
from smtp_server import RecordingHandler, running_smtp
from sqlalchemy import Engine

BATCH = 50
SUBSCRIBERS = 400


def _start_send(news: Newsletter, now: str = "2025-11-20T09:00:00+09:00") -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env["PUBLISHER_SECRET"] = SECRET
    return subprocess.Popen(
        [sys.executable, "-m", "publisher", "digest", "send", "--site", "site", "--now", now],
        cwd=news.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _subscribe_many(news: Newsletter) -> None:
    rows = "".join(f"s{i:04d}@example.org\n" for i in range(SUBSCRIBERS))
    (news.root / "list.csv").write_text("email\n" + rows, encoding="utf-8")
    news.run("subscribers", "import", "list.csv")


def test_sigkill_mid_send_then_rerun_delivers_everyone(tmp_path: Path, db: Engine) -> None:
    handler = RecordingHandler(delay=0.004)
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        _subscribe_many(news)
        proc = _start_send(news)
        deadline = time.monotonic() + 120
        while len(handler.messages) < 120 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        assert proc.poll() is None, "the send finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        killed_at = len(handler.messages)
        assert killed_at < SUBSCRIBERS
        rerun = news.run("digest", "send")
        assert "edition 1 finished" in rerun.stdout
    counts = Counter(r for m in handler.messages for r in m.recipients)
    assert sorted(counts) == [f"s{i:04d}@example.org" for i in range(SUBSCRIBERS)]
    resent = sum(n - 1 for n in counts.values())
    assert resent <= BATCH, (
        f"{resent} messages sent twice; at most the in-flight batch ({BATCH}) may be"
    )


def test_two_senders_at_once_send_each_message_once(tmp_path: Path, db: Engine) -> None:
    handler = RecordingHandler(delay=0.001)
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        _subscribe_many(news)
        # An editor's manual send and the scheduler's, a minute apart: one edition, no duplicates.
        first = _start_send(news, "2025-11-20T09:00:00+09:00")
        second = _start_send(news, "2025-11-20T09:01:00+09:00")
        outputs = [p.communicate(timeout=180) for p in (first, second)]
        assert first.returncode == 0 and second.returncode == 0, outputs
        status = news.run("digest", "status", now="2025-11-20T09:02:00+09:00")
    counts = Counter(r for m in handler.messages for r in m.recipients)
    assert status.stdout.count("#") == 1, (status.stdout, outputs)
    assert len(counts) == SUBSCRIBERS
    assert set(counts.values()) == {1}, (status.stdout, outputs)
