"""publisher.app.runner_jobs: the jobs of `publisher run`, called with an injected clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from publisher.app.context import Context
from publisher.app.runner_jobs import RunOutcome, refresh_feeds, retry_deliveries, schedule_overview
from publisher.joblog import outcome_line

DUE = datetime(2025, 11, 24, 9, 0, tzinfo=UTC)


def _titles(output: Path) -> list[str]:
    feed = feedparser.parse((output / "feeds" / "atom.xml").read_bytes())
    return [entry.title for entry in feed.entries]


def test_a_future_dated_post_appears_at_its_time(
    site: Path, write_post: Callable[..., Path], tmp_path: Path
) -> None:
    write_post("2025-11-01-old.md", "title: Old\ndate: 2025-11-01 10:00:00 +0000")
    write_post("2025-11-24-later.md", "title: Later\ndate: 2025-11-24 09:00:00 +0000")
    output = tmp_path / "out"

    before = refresh_feeds(Context(site_dir=site, now=DUE - timedelta(minutes=1)), output)
    assert _titles(output) == ["Old"]
    assert before.next_due == DUE
    assert "next post due 2025-11-24T09:00:00+00:00" in outcome_line(before)

    after = refresh_feeds(Context(site_dir=site, now=DUE), output)
    assert _titles(output) == ["Later", "Old"]
    assert after.next_due is None
    assert "feeds/atom.xml" in after.changed

    again = refresh_feeds(Context(site_dir=site, now=DUE + timedelta(minutes=1)), output)
    assert again.changed == ()


def test_a_removed_post_disappears(
    site: Path, write_post: Callable[..., Path], tmp_path: Path
) -> None:
    write_post("2025-11-01-old.md", "title: Old\ndate: 2025-11-01 10:00:00 +0000")
    gone = write_post("2025-11-02-gone.md", "title: Gone\ndate: 2025-11-02 10:00:00 +0000")
    output = tmp_path / "out"
    refresh_feeds(Context(site_dir=site, now=DUE), output)
    assert _titles(output) == ["Gone", "Old"]
    gone.unlink()
    refresh_feeds(Context(site_dir=site, now=DUE), output)
    assert _titles(output) == ["Old"]


def test_one_line_per_run() -> None:
    outcome = RunOutcome("feeds", 0.123, "built", ("a.md: bad", "b.md: bad"), written=2)
    assert outcome_line(outcome) == (
        "feeds: wrote 2, removed 0 (0.12 s; 2 problems: a.md: bad; b.md: bad)"
    )
    one = RunOutcome(
        "digest", 1.5, "finished", ("x@example.com: 550 no",), edition=3, counts={"sent": 4}
    )
    assert outcome_line(one) == (
        "digest: edition 3 finished (sent 4) (1.50 s; 1 problem: x@example.com: 550 no)"
    )
    quiet = RunOutcome("retry", 0, "nothing_to_retry")
    assert outcome_line(quiet) == "retry: no unfinished edition: nothing to retry (0.00 s)"
    worker = RunOutcome("deliver", 2, "waiting", edition=3, delivered=7, counts={"pending": 2})
    assert outcome_line(worker) == (
        "deliver: 7 delivered; edition 3: 2 waiting for a retry (pending 2) (2.00 s)"
    )


def test_the_console_says_it_in_the_site_language() -> None:
    one = RunOutcome("digest", 1.5, "finished", edition=3)
    assert outcome_line(one, "ja") == "digest: 第3号の配信が完了しました。 (1.50 s)"


def test_retries_never_start_an_edition(site: Path, write_post: Callable[..., Path]) -> None:
    write_post("2025-11-19-new.md", "title: New\ndate: 2025-11-19 10:00:00 +0000")
    ctx = Context(site_dir=site, now=DUE)
    try:
        outcome = retry_deliveries(ctx)
        assert (outcome.state, outcome.edition) == ("nothing_to_retry", 0)
        from publisher.app.sending import digest_status

        assert digest_status(ctx) == []
    finally:
        ctx.close()


def test_schedule_overview(site: Path, write_post: Callable[..., Path]) -> None:
    write_post("2025-11-24-later.md", "title: Later\ndate: 2025-11-24 09:00:00 +0000")
    ctx = Context(site_dir=site, now=datetime(2025, 11, 20, tzinfo=UTC))
    try:
        rows = {row.job: row for row in schedule_overview(ctx)}
    finally:
        ctx.close()
    assert rows["digest"].next_at is not None
    assert rows["digest"].next_at.isoformat() == "2025-11-24T09:00:00+09:00"
    assert "'mon 09:00' in Asia/Tokyo" in rows["digest"].detail
    assert rows["feeds"].next_at == DUE
    assert rows["retry"].next_at is None
    assert rows["runner"].detail == "no `publisher run` now"
    assert rows["bounces"].detail == "no bounce mailbox ([bounces] host)"
    (site / "publisher.toml").write_text(
        '[bounces]\nhost = "imap.example.com"\nfolder = "Returns"\npoll_minutes = 5\n',
        encoding="utf-8",
    )
    ctx = Context(site_dir=site, now=datetime(2025, 11, 20, tzinfo=UTC))
    try:
        rows = {row.job: row for row in schedule_overview(ctx)}
    finally:
        ctx.close()
    assert rows["bounces"].detail == "every 5 min: Returns at imap.example.com"
