"""An edition keeps what its mails need: resuming never reads the posts again.

And a relay or sender fault pauses the send, says why and when it is tried
again, and charges no subscriber: once the relay is fixed, the stored edition
reaches everyone exactly once, even when the site's posts changed meanwhile
or are gone. Real parts: the example site, the ``publisher`` command, aiosmtpd
on 127.0.0.1, a SQLite file or PostgreSQL.
"""

from __future__ import annotations

import email
import email.policy
import shutil
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

from newsletter_support import Newsletter
from smtp_server import Received, RecordingHandler, running_smtp
from sqlalchemy import Engine, text

from publisher.store import edition_counts, list_editions, unfinished_edition

SUBSCRIBERS = 12


def _subscribe(news: Newsletter) -> list[str]:
    emails = [f"r{i:02d}@example.org" for i in range(SUBSCRIBERS)]
    (news.root / "list.csv").write_text("email\n" + "\n".join(emails) + "\n", encoding="utf-8")
    news.run("subscribers", "import", "list.csv")
    return emails


def _parsed(message: Received) -> EmailMessage:
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _text(message: Received) -> str:
    body = _parsed(message).get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _titles(news: Newsletter) -> list[str]:
    """The titles of the two newest example posts, read from their files (the digest leads with them)."""
    titles = []
    for path in sorted((news.site / "_posts").glob("2025-11-1*.md")) + sorted(
        (news.site / "_posts").glob("2025-11-08-*.md")
    ):
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            if line.startswith("title:"):
                titles.append(line.split(":", 1)[1].strip().strip('"'))
                break
    return titles


def test_a_relay_refusing_the_sender_pauses_and_charges_no_one(tmp_path: Path, db: Engine) -> None:
    handler = RecordingHandler(mail_reply="530 5.7.0 Authentication required")
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        emails = _subscribe(news)
        titles = _titles(news)
        paused = news.run("digest", "send", check=False)
        assert paused.returncode == 1, paused.stdout + paused.stderr
        assert "Traceback" not in paused.stderr
        assert "edition 1 paused" in paused.stderr
        assert "the server said: 530 5.7.0 Authentication required" in paused.stderr
        assert "next attempt at " in paused.stderr and " JST" in paused.stderr
        counts = edition_counts(db, 1)
        assert counts["failed"] == 0 and counts["sent"] == 0
        assert counts["pending"] == SUBSCRIBERS
        with db.connect() as conn:
            attempts = conn.execute(text("SELECT DISTINCT attempts FROM outbox")).scalars().all()
        assert attempts == [0]  # nobody was charged for the relay's fault
        status = news.run("digest", "status")
        assert "paused" in status.stdout and "530 5.7.0 Authentication required" in status.stdout
        assert "next attempt at" in status.stdout

        # The relay is fixed; meanwhile the posts were edited and then all deleted.
        handler.mail_reply = ""
        for post in (news.site / "_posts").glob("*.md"):
            post.write_text(post.read_text(encoding="utf-8").replace("title:", "title: EDITED"))
        shutil.rmtree(news.site / "_posts")
        (news.site / "_posts").mkdir()
        resumed = news.run("digest", "send")
        assert "edition 1 finished" in resumed.stdout
    counts_by_address = Counter(r for m in handler.messages for r in m.recipients)
    assert sorted(counts_by_address) == emails
    assert set(counts_by_address.values()) == {1}
    body = _text(handler.messages[0])
    assert len(titles) == 2 and all(title in body for title in titles), (titles, body[:500])
    assert "EDITED" not in body
    assert unfinished_edition(db) is None


def test_a_resumed_send_sends_what_was_planned_not_the_edited_posts(
    tmp_path: Path, db: Engine
) -> None:
    handler = RecordingHandler()
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        news.run("subscribers", "add", "first@example.org")
        handler.mail_reply = "421 4.3.2 Service shutting down"
        assert news.run("digest", "send", check=False).returncode == 1  # paused, nothing sent
        news.run("subscribers", "add", "later@example.org")  # after the edition: next one
        for post in (news.site / "_posts").glob("*.md"):
            text_ = post.read_text(encoding="utf-8")
            post.write_text(text_.replace("title:", "title: CHANGED"), encoding="utf-8")
        handler.mail_reply = ""
        news.run("digest", "send")
    assert [m.recipients for m in handler.messages] == [["first@example.org"]]
    subject = _parsed(handler.messages[0])["Subject"]
    assert "CHANGED" not in _text(handler.messages[0]) and "CHANGED" not in subject
    editions = list_editions(db)
    assert [e.subject for e, _ in editions] == [subject]


def test_a_worker_needs_only_the_database_the_settings_and_the_secret(
    tmp_path: Path, db: Engine
) -> None:
    """`publisher worker` on another machine: a folder with the settings and no posts."""
    handler = RecordingHandler(mail_reply="530 5.7.0 Authentication required")
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        emails = _subscribe(news)
        assert news.run("digest", "send", check=False).returncode == 1  # created, then paused
        elsewhere = tmp_path / "elsewhere"
        (elsewhere / "site").mkdir(parents=True)
        for name in ("_config.yml", "publisher.toml"):
            shutil.copyfile(news.site / name, elsewhere / "site" / name)
        handler.mail_reply = ""
        other = Newsletter.__new__(Newsletter)
        other.root, other.site = elsewhere, elsewhere / "site"
        # A paused edition waits [run] paused_retry_minutes for workers: resume it by hand first.
        with db.begin() as conn:
            conn.execute(text("UPDATE editions SET state = 'sending', resume_at = NULL"))
        result = other.run("worker", "--once", now="")
        assert "Traceback" not in result.stderr
    assert sorted(r for m in handler.messages for r in m.recipients) == emails
    assert not (elsewhere / "site" / "_posts").exists()


def test_an_edition_from_before_revision_0004_is_still_sent_from_the_posts(
    tmp_path: Path, db: Engine
) -> None:
    handler = RecordingHandler(mail_reply="530 5.7.0 Authentication required")
    with running_smtp(handler) as address:
        news = Newsletter(tmp_path, db.url.render_as_string(hide_password=False), address)
        emails = _subscribe(news)
        titles = _titles(news)
        assert news.run("digest", "send", check=False).returncode == 1
        with db.begin() as conn:  # what an edition created by an earlier version looks like
            conn.execute(text("DELETE FROM edition_messages"))
        handler.mail_reply = ""
        news.run("digest", "send")
    assert sorted(r for m in handler.messages for r in m.recipients) == emails
    assert all(title in _text(handler.messages[0]) for title in titles)
