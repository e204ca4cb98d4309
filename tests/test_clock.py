"""One clock for coordination: ``--now`` picks posts and the edition window, nothing else.

``digest send --now <a preview time>`` used to date its claims' leases at that
time, which real-time workers saw as long expired and took over: the same
messages went out twice. Leases, claims, backoff and "is this claim dead" now
use the real clock. Real parts: PostgreSQL, three ``publisher worker``
processes, the ``publisher`` command, aiosmtpd on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from newsletter_support import SECRET, Newsletter
from smtp_server import RecordingHandler, running_smtp
from sqlalchemy import Engine, text

SUBSCRIBERS = 4000
WORKERS = 3


def _worker(news: Newsletter) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env["PUBLISHER_SECRET"] = SECRET
    return subprocess.Popen(
        [sys.executable, "-m", "publisher", "worker", "--site", "site", "--poll", "0.2"],
        cwd=news.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_send_with_now_beside_real_time_workers_sends_each_message_once(
    tmp_path: Path, db: Engine
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("several processes claiming at once: the PostgreSQL case (SKIP LOCKED)")
    handler = RecordingHandler(delay=0.001)
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        emails = [f"c{i:05d}@example.org" for i in range(SUBSCRIBERS)]
        (news.root / "list.csv").write_text("email\n" + "\n".join(emails) + "\n", encoding="utf-8")
        news.run("subscribers", "import", "list.csv")
        workers = [_worker(news) for _ in range(WORKERS)]
        try:
            # A preview time a year before the real clock: posts of that week, sent now.
            send = news.run("digest", "send", now="2025-11-20T09:00:00+09:00", check=False)
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                with db.connect() as conn:
                    left = conn.execute(
                        text("SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')")
                    ).scalar_one()
                if not left:
                    break
                time.sleep(0.2)
        finally:
            for worker in workers:
                worker.terminate()
            logs = [worker.communicate(timeout=60) for worker in workers]
    assert send.returncode == 0, send.stdout + send.stderr
    counts = Counter(r for m in handler.messages for r in m.recipients)
    assert sorted(counts) == emails
    twice = {address: n for address, n in counts.items() if n > 1}
    assert twice == {}, f"{len(twice)} sent more than once; workers said: {logs}"
    with db.connect() as conn:
        leases = conn.execute(text("SELECT min(sent_at), max(sent_at) FROM outbox")).one()
    real_now = datetime.now(UTC)
    # Timestamps are real: the preview time never reached the outbox.
    assert real_now - timedelta(minutes=10) < leases[0] <= leases[1] <= real_now
