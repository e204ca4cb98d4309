"""`publisher run` as a hot standby: a second runner waits, runs nothing, takes over, stops on SIGTERM.

Real processes on a copy of the example site, on SQLite and (when configured)
PostgreSQL. Every wait has a generous deadline and none is a timing claim.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from newsletter_support import SECRET, Newsletter
from sqlalchemy import Engine

SCRIPT = Path(sys.executable).with_name("publisher")
HOST = socket.gethostname()
DEADLINE = 60.0
STANDING_BY = "run: standing by: the lock is held by"
LOCK_SECONDS = 5


def _command() -> list[str]:
    return [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "publisher"]


def _wait_for(check: Callable[[], bool], timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


class Runs:
    """The `publisher run` processes of one test, each with its own output folder and log."""

    def __init__(self, news: Newsletter, var: Path) -> None:
        self.news = news
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
        self.env |= {"PUBLISHER_SECRET": SECRET, "PUBLISHER_PATHS__VAR": str(var)}
        self.started: list[subprocess.Popen[bytes]] = []

    def args(self, name: str) -> list[str]:
        return [*_command(), "run", "--site", "site", "--output", f"out-{name}"]

    def start(self, name: str) -> subprocess.Popen[bytes]:
        with self.log_path(name).open("wb") as log:
            process = subprocess.Popen(
                self.args(name),
                cwd=self.news.root,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.started.append(process)
        return process

    def log_path(self, name: str) -> Path:
        return self.news.root / f"{name}.log"

    def log(self, name: str) -> str:
        return self.log_path(name).read_text(encoding="utf-8", errors="replace")

    def feed(self, name: str) -> Path:
        return (
            self.news.site / f"out-{name}" / "feeds" / "atom.xml"
        )  # --output is relative to the site

    def kill_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=DEADLINE)


@pytest.fixture
def runs(tmp_path: Path, db: Engine) -> Iterator[Runs]:
    """A copy of the example site on the test database, `[run] lock_seconds = 5`."""
    news = Newsletter(tmp_path / "blog", db.url.render_as_string(hide_password=False), None)
    toml = news.site / "publisher.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + f"[run]\nlock_seconds = {LOCK_SECONDS}\n", "utf-8"
    )
    started = Runs(news, tmp_path / "state")
    try:
        yield started
    finally:
        started.kill_all()


def _stopped_cleanly(process: subprocess.Popen[bytes], log: Callable[[], str]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=DEADLINE) == 0, log()
    assert "publisher run: stopped" in log()


def test_a_second_runner_stands_by_and_takes_over_when_the_first_dies(runs: Runs) -> None:
    a = runs.start("a")
    assert _wait_for(runs.feed("a").exists), runs.log("a")
    a_id = f"{HOST}:{a.pid}:"

    b = runs.start("b")
    assert _wait_for(lambda: STANDING_BY in runs.log("b")), runs.log("b")
    standing = next(line for line in runs.log("b").splitlines() if STANDING_BY in line)
    assert a_id in standing

    refused = subprocess.run(
        [*runs.args("c"), "--no-wait"],
        cwd=runs.news.root,
        env=runs.env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert refused.returncode == 1, refused.stderr
    assert "another `publisher run` is already running" in refused.stderr
    assert a_id in refused.stderr
    assert not runs.feed("c").exists()

    assert b.poll() is None, runs.log("b")  # still standing by, and it has done nothing
    assert not runs.feed("b").exists()
    assert "feeds:" not in runs.log("b")

    a.send_signal(signal.SIGKILL)
    a.wait(timeout=DEADLINE)
    took_over = f"run: took over the lock from {a_id}"
    assert _wait_for(lambda: took_over in runs.log("b")), runs.log("b")
    assert _wait_for(lambda: "feeds: wrote" in runs.log("b")), runs.log("b")
    assert runs.feed("b").exists()

    d = runs.start("d")  # behind the new runner: SIGTERM while standing by ends it at once
    assert _wait_for(lambda: f"{STANDING_BY} {HOST}:{b.pid}:" in runs.log("d")), runs.log("d")
    _stopped_cleanly(d, lambda: runs.log("d"))
    assert not runs.feed("d").exists()
    assert "took over" not in runs.log("d")

    _stopped_cleanly(b, lambda: runs.log("b"))


def test_a_hung_runner_is_taken_over_and_stops_when_it_wakes(runs: Runs, db: Engine) -> None:
    if db.dialect.name != "sqlite":
        pytest.skip("a hung PostgreSQL runner keeps its session, and so its lock")
    a = runs.start("a")
    assert _wait_for(runs.feed("a").exists), runs.log("a")
    b = runs.start("b")
    assert _wait_for(lambda: STANDING_BY in runs.log("b")), runs.log("b")

    took_over = f"run: took over the lock from {HOST}:{a.pid}:"
    # Hung: alive, but its heartbeat stops. A runner stopped in the middle of one of
    # its (millisecond) SQLite write transactions holds the file's write lock, and
    # nobody can take over until it wakes: SQLite's locking, not the runner's. So
    # when no takeover comes within three lock periods, wake it and hang it again.
    for _attempt in range(5):
        a.send_signal(signal.SIGSTOP)
        try:
            if _wait_for(lambda: took_over in runs.log("b"), timeout=3 * LOCK_SECONDS):
                break
        finally:
            a.send_signal(signal.SIGCONT)
        time.sleep(0.3)
    assert took_over in runs.log("b"), runs.log("b")
    assert a.wait(timeout=DEADLINE) == 1, runs.log("a")  # for Restart=on-failure
    assert "run: another runner took over the lock; stopping" in runs.log("a")
    assert b.poll() is None, runs.log("b")
    _stopped_cleanly(b, lambda: runs.log("b"))
