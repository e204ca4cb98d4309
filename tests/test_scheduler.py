"""publisher.scheduler and `publisher run`: missed runs, one runner, the file watcher."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from publisher.app.context import Context
from publisher.app.runner_jobs import runner_job_store
from publisher.app.schedule import digest_trigger
from publisher.app.sending import digest_status
from publisher.errors import RunnerBusy
from publisher.scheduler import Runner, run_job
from publisher.store import add_subscriber

SCRIPT = Path(sys.executable).with_name("publisher")
ENV = {"PUBLISHER_SECRET": "test-secret-0123456789abcdef"}


def _newsletter(site: Path, write_post: Callable[..., Path], spec: str) -> Context:
    (site / "publisher.toml").write_text(
        f'[database]\nurl = "sqlite:///{site.parent / "var" / "publisher.db"}"\n'
        f'[digest]\nfrom = "News <news@blog.example.com>"\nschedule = "{spec}"\n'
        "misfire_grace_hours = 12\n",
        encoding="utf-8",
    )
    yesterday = datetime.now(UTC) - timedelta(days=1)
    write_post(
        f"{yesterday:%Y-%m-%d}-new.md", f"title: New\ndate: {yesterday:%Y-%m-%d %H:%M:%S} +0000"
    )
    ctx = Context(site_dir=site, environ=dict(ENV))
    add_subscriber(ctx.engine, "ann@example.com", status="active", now=datetime.now(UTC))
    return ctx


def _leave_missed_run(ctx: Context, spec: str, missed: datetime) -> None:
    """What a runner that was stopped before ``missed`` left in the job store."""
    scheduler = BackgroundScheduler(jobstores={"default": runner_job_store(ctx)})
    scheduler.start(paused=True)
    trigger = digest_trigger(spec, ctx.config.site.tz)
    scheduler.add_job(run_job, trigger, args=["digest"], id="digest", next_run_time=missed)
    scheduler.remove_jobstore("default", shutdown=False)  # see Runner.shutdown
    scheduler.shutdown(wait=False)


def _daily_spec_outside(window_end: datetime, hours: int) -> str:
    """A daily time that does not fall in the ``hours`` before ``window_end`` (the test's now)."""
    at = (window_end + timedelta(hours=24 - hours - 3)).astimezone(ZONE)
    return f"daily {at:%H}:00"


ZONE = __import__("zoneinfo").ZoneInfo("Asia/Tokyo")


def _settled_digest(ctx: Context, now: datetime, sent: int) -> datetime | None:
    """Start a runner, let it deal with the missed run, stop it; the digest's next run.

    Dealing with it means the scheduler has moved the digest job past ``now`` (run
    within the grace time, or skipped past it) and, if it was run, the edition
    exists: a state to wait for, not a length of time in which nothing happened.
    """
    runner = Runner(ctx, ctx.site_dir.parent / "out")
    runner.start()
    try:

        def settled() -> bool:
            planned = runner.next_runs()["digest"]
            return planned is not None and planned > now and len(digest_status(ctx)) >= sent

        deadline = time.monotonic() + 60
        while not settled() and time.monotonic() < deadline:
            time.sleep(0.05)
        return runner.next_runs()["digest"]
    finally:
        runner.shutdown()


@pytest.mark.parametrize(("late_hours", "sent"), [(1, 1), (13, 0)])
def test_a_missed_digest_is_sent_once_within_the_grace_time(
    site: Path, write_post: Callable[..., Path], late_hours: int, sent: int
) -> None:
    now = datetime.now(UTC)
    spec = _daily_spec_outside(now, late_hours + 1)
    ctx = _newsletter(site, write_post, spec)
    try:
        _leave_missed_run(ctx, spec, now - timedelta(hours=late_hours))
        planned = _settled_digest(ctx, now, sent)
        assert planned is not None and planned > now  # never again for that time
        assert len(digest_status(ctx)) == sent  # run once within the grace time, else skipped
        # Started again: the edition is not sent a second time.
        again = _settled_digest(ctx, now, sent)
        assert again is not None and again > now
        assert len(digest_status(ctx)) == sent
    finally:
        ctx.close()


def test_a_second_runner_on_the_same_database_refuses(site: Path) -> None:
    first = Runner(Context(site_dir=site, environ=dict(ENV)), site.parent / "out")
    first.start()
    try:
        second = Runner(Context(site_dir=site, environ=dict(ENV)), site.parent / "out")
        with pytest.raises(Exception, match="another `publisher run` is already running"):
            second.start()
    finally:
        first.shutdown()
        first.ctx.close()


def test_the_runner_lock_follows_the_real_clock_never_now(site: Path) -> None:
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)  # a lock stamped with this expired long ago
    first = Runner(Context(site_dir=site, environ=dict(ENV), now=long_ago), site.parent / "out")
    first.start()
    try:
        second = Runner(Context(site_dir=site, environ=dict(ENV)), site.parent / "out")
        with pytest.raises(RunnerBusy):
            second.start()
        first.run("heartbeat")
        assert not first.stop.is_set()
        with pytest.raises(RunnerBusy):
            second.start()
        second.ctx.close()
    finally:
        first.shutdown()
        first.ctx.close()


def _command() -> list[str]:
    return [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "publisher"]


def _wait_for(check: Callable[[], bool], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _atom(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def test_publisher_run_rebuilds_when_posts_change_and_stops_on_sigterm(
    site: Path, write_post: Callable[..., Path]
) -> None:
    write_post("2025-11-01-first.md", "title: First post\ndate: 2025-11-01 10:00:00 +0000")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")} | ENV
    atom = site / "out" / "feeds" / "atom.xml"  # a relative --output is relative to the site
    process = subprocess.Popen(
        [*_command(), "run", "--site", "site", "--output", "out"],
        cwd=site.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for(lambda: "First post" in _atom(atom)), "no feed"
        second = subprocess.run(
            [*_command(), "run", "--site", "site", "--output", "out", "--no-wait"],
            cwd=site.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 1
        assert "another `publisher run` is already running" in second.stderr

        added = write_post(
            "2025-11-02-dropped.md", "title: Dropped in\ndate: 2025-11-02 10:00:00 +0000"
        )
        assert _wait_for(lambda: "Dropped in" in _atom(atom)), "the new post did not show up"
        added.unlink()
        assert _wait_for(lambda: "Dropped in" not in _atom(atom)), "the removed post stayed"

        config = site / "_config.yml"  # settings are picked up too, no restart
        renamed = config.read_text(encoding="utf-8").replace(
            "title: テストブログ", "title: Renamed Blog"
        )
        config.write_text(renamed, encoding="utf-8")
        assert _wait_for(lambda: "<title>Renamed Blog</title>" in _atom(atom)), "old settings"
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "feeds: wrote" in err
    assert "settings: reloaded (site changed)" in err
    assert "publisher run: stopped" in err


def test_changed_settings_replan_the_digest_and_rebuild_the_feeds(
    site: Path, write_post: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    ctx = _newsletter(site, write_post, "mon 09:00")
    write_post("2025-11-01-older.md", "title: Older\ndate: 2025-11-01 10:00:00 +0000")
    toml = site / "publisher.toml"
    runner = Runner(ctx, site.parent / "out")
    runner.start()
    try:
        runner.refresh()
        atom = site.parent / "out" / "feeds" / "atom.xml"
        assert _atom(atom).count("<entry>") == 2
        monday = runner.next_runs()["digest"]
        assert monday is not None and monday.weekday() == 0
        assert runner.check_settings() is None  # nothing changed: not even a reload

        toml.write_text(
            toml.read_text(encoding="utf-8").replace('"mon 09:00"', '"daily 07:30"')
            + "[feeds]\nlimit = 1\n",
            encoding="utf-8",
        )
        change = runner.check_settings()
        assert change is not None and change.applied
        daily = runner.next_runs()["digest"]
        assert daily is not None and (daily.hour, daily.minute) == (7, 30)
        assert _atom(atom).count("<entry>") == 1  # rebuilt with the new limit

        good = ctx.config
        toml.write_text(toml.read_text(encoding="utf-8") + "[oops]\n", encoding="utf-8")
        with caplog.at_level("INFO", logger="publisher.run"):
            change = runner.check_settings()
        assert change is not None and change.error and ctx.config is good
        assert "settings: not reloaded, keeping the old ones: oops" in caplog.text
        assert runner.next_runs()["digest"] == daily
    finally:
        runner.shutdown()
        ctx.close()


def test_a_settings_change_waits_for_no_send_and_a_running_send_keeps_its_settings(
    site: Path,
) -> None:
    """The settings job swaps in a new context while a send holds the mail lock; the send's
    context (the one it started with) still has the old settings."""
    import threading

    (site / "publisher.toml").write_text("[feeds]\nlimit = 20\n", encoding="utf-8")
    runner = Runner(Context(site_dir=site, environ=dict(ENV)), site.parent / "out")
    sending = runner.ctx  # what a send that is running now was given
    (site / "publisher.toml").write_text("[feeds]\nlimit = 3\n", encoding="utf-8")
    changes: list[object] = []
    with runner._mail:  # a send is in progress
        checker = threading.Thread(target=lambda: changes.append(runner.check_settings()))
        checker.start()
        checker.join(timeout=60)  # a deadlock guard, not a measured time
        assert not checker.is_alive(), "the settings job waited for the send"
    assert runner.ctx.config.feeds.limit == 3 and sending.config.feeds.limit == 20
    assert runner.ctx is not sending
