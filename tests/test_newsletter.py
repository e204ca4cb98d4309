"""The newsletter end to end: CLI → app → store (SQLite and PostgreSQL) → SMTP on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

import pytest
from newsletter_support import SECRET, Newsletter
from smtp_server import RecordingHandler, running_smtp
from sqlalchemy import Engine

from publisher.tokens import verify


@pytest.fixture
def smtp() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def newsletter(tmp_path: Path, db: Engine, smtp: RecordingHandler):  # type: ignore[no-untyped-def]
    url = db.url.render_as_string(hide_password=False)
    with running_smtp(smtp) as address:
        yield Newsletter(tmp_path, url, address)


def _parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_send_delivers_one_edition_to_each_active_subscriber(
    newsletter: Newsletter, smtp: RecordingHandler
) -> None:
    newsletter.run("subscribers", "add", "ann@example.org", "--name", "山田 花子")
    newsletter.run("subscribers", "add", "bob@example.org", "--categories", "Engineering")
    newsletter.run("subscribers", "add", "pending@example.org", "--pending")
    result = newsletter.run("digest", "send")
    assert "edition 1 finished" in result.stdout
    assert sorted(r for m in smtp.messages for r in m.recipients) == [
        "ann@example.org",
        "bob@example.org",
    ]
    by_rcpt = {m.recipients[0]: _parse(m.data) for m in smtp.messages}
    ann = by_rcpt["ann@example.org"]
    assert ann.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in ann.iter_parts()] == ["text/plain", "text/html"]
    assert ann["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    links = ann["List-Unsubscribe"]
    assert (
        "<https://news.example.com/unsubscribe/" in links
        and "<mailto:news@blog.example.com?" in links
    )
    token = links.split("/unsubscribe/")[1].split(">")[0]
    html = ann.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f"https://news.example.com/unsubscribe/{token}" in html
    assert verify(SECRET.encode(), "unsubscribe", token) > 0
    assert "'Hiragino Sans'" in html and "@media" in html
    # Bob chose Engineering: only those posts.
    bob_text = by_rcpt["bob@example.org"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    ann_text = ann.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert len(bob_text) < len(ann_text)
    assert ann["Message-ID"] != by_rcpt["bob@example.org"]["Message-ID"]
    status = newsletter.run("digest", "status")
    assert "#1  finished" in status.stdout and "sent 2" in status.stdout


def test_no_new_posts_no_edition_and_never_twice(
    newsletter: Newsletter, smtp: RecordingHandler
) -> None:
    newsletter.run("subscribers", "add", "ann@example.org")
    newsletter.run("digest", "send")
    again = newsletter.run("digest", "send", now="2025-11-20T10:00:00+09:00")
    assert "no new posts since the last edition" in again.stdout
    assert len(smtp.messages) == 1
    # The future post becomes due: the next edition holds it and nothing else.
    later = newsletter.run("digest", "send", now="2027-01-16T09:00:00+09:00")
    assert "edition 2 finished" in later.stdout
    second = _parse(smtp.messages[1].data).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "2027" in second
    first = _parse(smtp.messages[0].data).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "2027" not in first


def test_unsubscribed_gets_nothing_more(newsletter: Newsletter, smtp: RecordingHandler) -> None:
    newsletter.run("subscribers", "add", "ann@example.org")
    newsletter.run("subscribers", "add", "bob@example.org")
    newsletter.run("subscribers", "remove", "bob@example.org")
    newsletter.run("digest", "send")
    assert [m.recipients for m in smtp.messages] == [["ann@example.org"]]


def test_dry_run_and_preview_send_nothing(
    newsletter: Newsletter, smtp: RecordingHandler, tmp_path: Path
) -> None:
    newsletter.run("subscribers", "add", "ann@example.org")
    dry = newsletter.run("digest", "send", "--dry-run")
    assert (
        "dry run: nothing was sent" in dry.stdout
        and "1 active subscribers choosing all categories" in dry.stdout
    )
    html = newsletter.run("digest", "preview", "--format", "html").stdout
    assert "<html" in html and "%%" not in html
    text = newsletter.run("digest", "preview", "--format", "text").stdout
    assert "https://blog.example.com/" in text
    eml = newsletter.run("digest", "preview", "--format", "eml", "--output", "next.eml")
    assert "wrote next.eml" in eml.stdout
    assert _parse((newsletter.root / "next.eml").read_bytes())["List-Id"]
    assert smtp.messages == []
    assert "no edition yet" in newsletter.run("digest", "status").stdout


def test_test_send_goes_to_one_address_with_subscriber_headers(
    newsletter: Newsletter, smtp: RecordingHandler
) -> None:
    newsletter.run("subscribers", "add", "ann@example.org")
    result = newsletter.run("digest", "test", "--to", "editor@example.com")
    assert "sent a test" in result.stdout
    assert [m.recipients for m in smtp.messages] == [["editor@example.com"]]
    test = _parse(smtp.messages[0].data)
    for header in (
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "List-Id",
        "Message-ID",
        "Date",
        "From",
        "Subject",
    ):
        assert test[header], header
    assert "no edition yet" in newsletter.run("digest", "status").stdout


def test_subscribers_import_export(newsletter: Newsletter) -> None:
    csv_file = newsletter.root / "in.csv"
    rows = ["email,name,categories,status"] + [
        f"user{i}@example.org,User {i},Engineering;Policy," for i in range(300)
    ]
    rows[10] = "not-an-email,Bad,,"
    rows[20] = "user999@example.org,Bad status,,maybe"
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = newsletter.run("subscribers", "import", "in.csv", check=False)
    assert result.returncode == 1
    assert "added 298" in result.stdout
    assert "line 11:" in result.stderr and "line 21:" in result.stderr
    out = newsletter.run("subscribers", "export", "out.csv")
    assert "exported 298" in out.stderr
    exported = (newsletter.root / "out.csv").read_text(encoding="utf-8").splitlines()
    assert exported[0] == "email,name,categories,status" and len(exported) == 299
    assert "user0@example.org,User 0,Engineering;Policy,active" in exported


def test_smtp_faults_are_retried_until_every_message_is_sent(tmp_path: Path, db: Engine) -> None:
    handler = RecordingHandler(rcpt_fault=0.2, data_fault=0.1, seed=11)
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        (news.site / "publisher.toml").write_text(
            (news.site / "publisher.toml")
            .read_text(encoding="utf-8")
            .replace(
                "batch_size = 50\n", "batch_size = 50\nretry_seconds = 1.0\nmax_attempts = 30\n"
            ),
            encoding="utf-8",
        )
        (news.root / "list.csv").write_text(
            "email\n" + "".join(f"u{i}@example.org\n" for i in range(40)), encoding="utf-8"
        )
        news.run("subscribers", "import", "list.csv")
        first = news.run("digest", "send")
        assert "waiting for a retry" in first.stdout
        # Rerun in-process with the real clock moved on, as the scheduler would.
        from datetime import UTC, datetime, timedelta

        from clock_support import FakeClock

        from publisher.app.context import Context
        from publisher.app.sending import send_digest

        clock = FakeClock(datetime.now(UTC))
        environ = {"PUBLISHER_SECRET": SECRET}
        for _ in range(30):
            clock.advance(timedelta(hours=1))
            ctx = Context(site_dir=news.site, environ=environ, wall=clock)
            try:
                report = send_digest(ctx)
            finally:
                ctx.close()
            if report.outcome == "finished":
                break
        assert report.outcome == "finished"
    counts = Counter(r for m in handler.messages for r in m.recipients)
    assert sorted(counts) == sorted(f"u{i}@example.org" for i in range(40))
    assert set(counts.values()) == {1}


def test_permanent_refusal_is_not_retried(tmp_path: Path, db: Engine) -> None:
    handler = RecordingHandler(permanent={"gone@example.org": "550 5.1.1 no such user"})
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        news.run("subscribers", "add", "gone@example.org")
        news.run("subscribers", "add", "ok@example.org")
        result = news.run("digest", "send")
        assert "edition 1 finished" in result.stdout and "failed 1" in result.stdout
        # The reason, not just "exit 1" (rss2email's "sendmail exited 1").
        assert "failed: gone@example.org: 550 5.1.1 no such user" in result.stderr
        news.run("digest", "send", now="2025-11-21T09:00:00+09:00")
    assert [m.recipients for m in handler.messages] == [["ok@example.org"]]


def test_a_failing_relay_pauses_the_send_and_a_rerun_resumes(tmp_path: Path, db: Engine) -> None:
    handler = RecordingHandler(rcpt_fault=1.0)
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        config = news.site / "publisher.toml"
        config.write_text(
            config.read_text(encoding="utf-8").replace(
                "batch_size = 50\n",
                "batch_size = 50\nmax_consecutive_errors = 3\nretry_seconds = 0.0\n",
            ),
            encoding="utf-8",
        )
        (news.root / "list.csv").write_text(
            "email\n" + "".join(f"p{i}@example.org\n" for i in range(10)), encoding="utf-8"
        )
        news.run("subscribers", "import", "list.csv")
        paused = news.run("digest", "send", check=False)
        assert paused.returncode == 1
        assert (
            "edition 1 paused: 3 messages in a row were refused" in paused.stderr
            and "451" in paused.stderr
        )
        assert "#1  paused" in news.run("digest", "status").stdout
        handler.rcpt_fault = 0.0
        resumed = news.run("digest", "send", now="2025-11-20T09:05:00+09:00")
        assert "edition 1 finished" in resumed.stdout
    counts = Counter(r for m in handler.messages for r in m.recipients)
    assert sorted(counts) == sorted(f"p{i}@example.org" for i in range(10)) and set(
        counts.values()
    ) == {1}


def test_several_connections_send_each_message_once_and_report_progress(
    tmp_path: Path, db: Engine
) -> None:
    handler = RecordingHandler(rcpt_fault=0.1, pipelining=True, seed=5)
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        config = news.site / "publisher.toml"
        config.write_text(
            config.read_text(encoding="utf-8").replace(
                'security = "none"\n', 'security = "none"\nconnections = 3\n'
            ),
            encoding="utf-8",
        )
        (news.root / "list.csv").write_text(
            "email\n" + "".join(f"c{i}@example.org\n" for i in range(120)), encoding="utf-8"
        )
        news.run("subscribers", "import", "list.csv")
        from datetime import datetime

        from publisher.app.context import Context
        from publisher.app.sending import send_digest

        seen: list[dict[str, int]] = []
        ctx = Context(
            site_dir=news.site,
            now=datetime.fromisoformat("2025-11-20T09:00:00+09:00"),
            environ={"PUBLISHER_SECRET": SECRET, "PUBLISHER_PATHS__VAR": str(news.root / "var")},
        )
        try:
            report = send_digest(ctx, on_progress=lambda tally, counts: seen.append(counts))
        finally:
            ctx.close()
    assert report.tally is not None and report.tally.batches == 3  # batch_size = 50
    # Counted once, then carried forward by what the send did: the last call is exact.
    assert len(seen) == 3 and seen[-1] == report.counts
    assert report.counts["sent"] + report.counts["pending"] == 120
    counts = Counter(r for m in handler.messages for r in m.recipients)
    assert len(counts) == report.counts["sent"] and set(counts.values()) == {1}
