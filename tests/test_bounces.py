"""Mail that comes back: delivery reports and complaints read from a real Dovecot, recorded once.

The digests are sent for real (to ``.eml`` files); the reports are written
here as Postfix, Exim and mailbox providers write them, about those very
messages (their ``Message-ID`` taken from the sent files), and put in the
mailbox over IMAP.
"""

from __future__ import annotations

import email
import email.policy
import hmac
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imap_server import ACCOUNT, PASSWORD, Imap, running_imap
from newsletter_support import SECRET, Newsletter
from smtp_server import self_signed_certificate
from sqlalchemy import create_engine, text

from publisher.delivery.returns import OurCopy, our_copy, read_return

SCRIPT = Path(sys.executable).with_name("publisher")
DOMAIN = "blog.example.com"

POSTFIX_DSN = """\
Return-Path: <>
Date: Thu, 20 Nov 2025 09:00:03 +0900 (JST)
From: MAILER-DAEMON@relay.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: news@blog.example.com
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="B0FA23C0E1.1763942403/relay.example.net"
Message-Id: <20251120000003.B0FA23C0E1@relay.example.net>

This is a MIME-encapsulated message.

--B0FA23C0E1.1763942403/relay.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--B0FA23C0E1.1763942403/relay.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net
X-Postfix-Queue-ID: B0FA23C0E1
Arrival-Date: Thu, 20 Nov 2025 09:00:01 +0900 (JST)

Final-Recipient: rfc822; {to}
Original-Recipient: rfc822;{to}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; {code} {status} <{to}>: Recipient address rejected:
    User unknown in virtual mailbox table

--B0FA23C0E1.1763942403/relay.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: =?utf-8?b?44Gk44G/44GN44OO44O844OI?= <news@blog.example.com>
To: {to}
Subject: Tsumiki Notes
Message-ID: {message_id}

--B0FA23C0E1.1763942403/relay.example.net--
"""

EXIM_DSN = """\
From: Mail Delivery System <Mailer-Daemon@mx.example.jp>
To: news@blog.example.com
Subject: Mail delivery failed: returning message to sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type="delivery-status"; boundary="1763-eximdsn"

--1763-eximdsn
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

--1763-eximdsn
Content-type: message/delivery-status

Reporting-MTA: dns; mx.example.jp

Action: failed
Final-Recipient: rfc822;{to}
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 mailbox full

--1763-eximdsn
Content-type: message/rfc822

From: news@blog.example.com
To: {to}
Message-ID: {message_id}
Subject: =?utf-8?b?6YCx5YiK?=
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

本文
--1763-eximdsn--
"""

ARF = """\
From: staff@abuse.example.net
To: news@blog.example.com
Subject: complaint about message from 192.0.2.1
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="part1"

--part1
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP 192.0.2.1.

--part1
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1

--part1
Content-Type: text/rfc822-headers

From: news@blog.example.com
Message-ID: {message_id}

--part1--
"""

AUTO_REPLY = b"""From: hanako@example.com
To: news@blog.example.com
Subject: =?utf-8?b?5LiN5Zyo44Gu44GK55+l44KJ44Gb?=
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=utf-8

\xe4\xb8\x8d\xe5\x9c\xa8\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82
"""


def _mac_id(edition: int, subscriber: int, secret: bytes = SECRET.encode()) -> str:
    """A message id as the digests write it, made here from its definition."""
    mac = hmac.digest(secret, f"{edition}/{subscriber}".encode(), "sha256").hex()[:12]
    return f"<digest.{edition}.{subscriber}.{mac}@{DOMAIN}>"


def _dsn(to: str, message_id: str, status: str = "5.1.1", action: str = "failed") -> bytes:
    code = {"5": "550", "4": "450", "2": "250"}[status[0]]
    body = POSTFIX_DSN.format(to=to, message_id=message_id, status=status, action=action, code=code)
    return body.replace("\n", "\r\n").encode()


# -- reading one report --------------------------------------------------------------------


def test_a_postfix_bounce_is_read_with_the_id_of_the_mail_it_returns() -> None:
    report = read_return(_dsn("ann@example.org", "<digest.3.17.0123456789ab@x.org>"))
    assert report is not None and report.kind == "bounce" and report.status == "5.1.1"
    assert report.message_id == "<digest.3.17.0123456789ab@x.org>"
    assert report.reply.startswith("550 5.1.1 <ann@example.org>: Recipient address rejected")


def test_an_exim_bounce_returning_the_whole_message_is_read() -> None:
    data = EXIM_DSN.format(to="ann@example.org", message_id="<a@b>").encode()
    report = read_return(data)
    assert report is not None and (report.kind, report.status) == ("bounce", "5.2.2")
    assert report.message_id == "<a@b>" and "mailbox full" in report.reply


@pytest.mark.parametrize(("action", "status"), [("delayed", "4.4.7"), ("failed", "4.2.2")])
def test_a_delay_is_not_a_bounce(action: str, status: str) -> None:
    report = read_return(_dsn("ann@example.org", "<a@b>", status=status, action=action))
    assert report is not None and report.kind == "delay"


def test_a_complaint_is_read() -> None:
    report = read_return(ARF.format(message_id="<a@b>").encode())
    assert report is not None and (report.kind, report.message_id) == ("complaint", "<a@b>")
    assert report.reply == "complaint: abuse"


@pytest.mark.parametrize(
    "data",
    [
        AUTO_REPLY,
        b"",
        b"\x00\xff\xfe garbage",
        b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\nno parts",
        _dsn("ann@example.org", "").replace(b"Message-ID: \r\n", b""),  # no id to match
        _dsn("ann@example.org", "<a@b>", action="delivered", status="2.0.0"),
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n"
        + b"--x\r\nContent-Type: message/delivery-status\r\n\r\n" * 2000,
        _dsn("ann@example.org", "<a@b>") + b"x" * 2_100_000,  # larger than a report can be
    ],
    ids=["auto-reply", "empty", "binary", "no-parts", "no-id", "delivered", "repeated", "huge"],
)
def test_what_is_no_report_is_none(data: bytes) -> None:
    assert read_return(data) is None


def test_only_our_own_message_ids_name_a_copy() -> None:
    secret = SECRET.encode()
    assert our_copy(_mac_id(3, 17), secret, DOMAIN) == OurCopy(3, 17)
    assert our_copy(_mac_id(3, 17).upper().replace("DIGEST", "digest"), secret, DOMAIN) is None
    assert our_copy(_mac_id(3, 18)[:-20] + "000000000000@" + DOMAIN + ">", secret, DOMAIN) is None
    assert our_copy(_mac_id(3, 17, b"another secret"), secret, DOMAIN) is None
    assert our_copy(_mac_id(3, 17).replace(DOMAIN, "evil.example"), secret, DOMAIN) is None
    assert our_copy("<confirm.17.abc@blog.example.com>", secret, DOMAIN) is None
    assert our_copy("<digest.3.17.0123@" + "x" * 300 + ">", secret, DOMAIN) is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.integers(min_value=0, max_value=2000))
def test_no_mail_makes_the_reader_fail(noise: bytes, cut: int) -> None:
    """Arbitrary bytes, and real reports cut short or with noise inside, give a report or None."""
    for data in (noise, _dsn("a@b.c", "<a@b>")[:cut] + noise, noise + ARF.encode()):
        found = read_return(data)
        assert found is None or found.kind in ("bounce", "delay", "complaint")


# -- the whole path: a real send, a real mailbox -------------------------------------------


@pytest.fixture
def imap() -> Iterator[Imap]:
    with running_imap() as server:
        yield server


class Sent:
    """The example site after one real send (to .eml files), with a bounce mailbox set."""

    def __init__(self, root: Path, imap: Imap, extra: str = "") -> None:
        self.news = Newsletter(root, f"sqlite:///{root / 'var' / 'publisher.db'}", None)
        (root / "var").mkdir()
        self.database = root / "var" / "publisher.db"
        self.imap = imap
        with (self.news.site / "publisher.toml").open("a", encoding="utf-8") as toml:
            toml.write(
                f'[bounces]\nhost = "127.0.0.1"\nport = {imap.port}\nsecurity = "none"\n'
                f'username = "{ACCOUNT}"\n{extra}'
            )
        self.run(
            "subscribers",
            "import",
            str(Path(__file__).parent.parent / "examples" / "subscribers.csv"),
        )
        self.run("digest", "send")
        outbox = self.news.site / ".publisher" / "outbox" / "edition-1"
        self.ids: dict[str, str] = {}
        for path in sorted(outbox.glob("*.eml")):
            sent = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            self.ids[str(sent["To"].addresses[0].addr_spec)] = str(sent["Message-ID"])

    def run(
        self, *args: str, password: str = PASSWORD, code: int = 0
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
        env |= {
            "PUBLISHER_SECRET": SECRET,
            "PUBLISHER_IMAP_PASSWORD": password,
            "PUBLISHER_DIGEST__BOUNCE_LIMIT": "1",
        }
        command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "publisher"]
        result = subprocess.run(
            [*command, *args, "--site", "site", "--now", "2025-11-20T09:00:00+09:00"],
            cwd=self.news.root,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert result.returncode == code, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        return result

    def rows(self) -> dict[str, tuple[str, int, str, str]]:
        """address → (status, bounces, outbox state, outbox last reply)."""
        engine = create_engine(f"sqlite:///{self.database}")
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT s.email, s.status, s.bounces, o.state, o.last_reply"
                    " FROM subscribers s JOIN outbox o ON o.subscriber_id = s.id"
                )
            ).all()
        engine.dispose()
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in found}


def test_bounces_and_complaints_are_recorded_once_and_every_message_filed(
    tmp_path: Path, imap: Imap
) -> None:
    sent = Sent(tmp_path / "news", imap)
    assert sorted(sent.ids) == [
        "alex@example.com", "hanako@example.com", "mei@example.com", "taro@example.com"
    ]  # fmt: skip
    forged = sent.ids["mei@example.com"][:-30] + "ffffffffffff@blog.example.com>"
    imap.append(_dsn("hanako@example.com", sent.ids["hanako@example.com"]))
    imap.append(_dsn("taro@example.com", sent.ids["taro@example.com"], "4.4.7", "delayed"))
    imap.append(ARF.format(message_id=sent.ids["alex@example.com"]).encode())
    imap.append(_dsn("mei@example.com", forged))  # someone else's, or forged: nothing
    imap.append(AUTO_REPLY)

    out = sent.run("bounces", "read").stdout
    assert "read 5 messages" in out and "1 bounces recorded" in out and "1 complaints" in out
    assert "1 delays" in out and "2 not a report about our mail" in out
    rows = sent.rows()
    assert rows["hanako@example.com"][:3] == ("bounced", 1, "failed")
    assert rows["hanako@example.com"][3].startswith("returned: 550 5.1.1 <hanako@example.com>")
    assert rows["alex@example.com"][:3] == ("unsubscribed", 0, "sent")
    assert rows["taro@example.com"][:3] == ("active", 0, "sent")
    assert rows["mei@example.com"][:3] == ("active", 0, "sent")
    assert (imap.count("INBOX"), imap.count("publisher-done"), imap.count("publisher-ignored")) == (
        0, 3, 2
    )  # fmt: skip
    assert AUTO_REPLY.replace(b"\n", b"\r\n") in imap.messages("publisher-ignored")  # kept whole
    status = sent.run("digest", "status").stdout
    assert "failed 1" in status and "sent 3" in status

    # The same report again (a copy of the mailbox, a crash before the move): counted once.
    imap.append(_dsn("hanako@example.com", sent.ids["hanako@example.com"]))
    again = sent.run("bounces", "read").stdout
    assert "read 1 messages" in again and "1 read before" in again
    assert sent.rows()["hanako@example.com"][:2] == ("bounced", 1)
    assert sent.run("bounces", "read").stdout.strip() == "read 0 messages"


def test_a_dry_run_changes_nothing(tmp_path: Path, imap: Imap) -> None:
    sent = Sent(tmp_path / "news", imap)
    imap.append(_dsn("hanako@example.com", sent.ids["hanako@example.com"]))
    before = sent.rows()
    out = sent.run("bounces", "read", "--dry-run").stdout
    assert "would find 1 messages" in out and "1 bounces recorded" in out
    assert sent.rows() == before and imap.count("INBOX") == 1


def test_a_wrong_password_is_one_line_and_changes_nothing(tmp_path: Path, imap: Imap) -> None:
    sent = Sent(tmp_path / "news", imap)
    imap.append(_dsn("hanako@example.com", sent.ids["hanako@example.com"]))
    before = sent.rows()
    result = sent.run("bounces", "read", password="a mistyped one", code=1)
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert "refused the login" in line and "PUBLISHER_IMAP_PASSWORD" in line
    assert sent.rows() == before and imap.count("INBOX") == 1


def test_a_mailbox_that_does_not_answer_is_one_line(tmp_path: Path, imap: Imap) -> None:
    from smtp_server import free_port

    sent = Sent(tmp_path / "news", imap)
    toml = sent.news.site / "publisher.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(f"port = {imap.port}", f"port = {free_port()}"),
        encoding="utf-8",
    )
    result = sent.run("bounces", "read", code=1)
    assert "cannot connect to 127.0.0.1" in result.stderr and "[bounces] host" in result.stderr


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('done_folder = "INBOX"\n', "bounces"),
        ('ignored_folder = "bad\\u0007name"\n', "bounces"),
        ('security = "ssl"\n', "bounces.security"),
        ("poll_minutes = 0\n", "bounces.poll_minutes"),
    ],
)
def test_bad_bounce_settings_name_the_key(tmp_path: Path, imap: Imap, toml: str, key: str) -> None:
    sent = Sent(tmp_path / "news", imap)
    path = sent.news.site / "publisher.toml"
    head, bounces = path.read_text(encoding="utf-8").split("[bounces]\n")
    name = toml.split(" = ")[0]
    kept = [line for line in bounces.splitlines(keepends=True) if not line.startswith(name)]
    path.write_text(head + "[bounces]\n" + "".join(kept) + toml, encoding="utf-8")
    result = sent.run("bounces", "read", code=2)
    assert key in result.stderr


def test_over_tls_the_certificate_is_verified(tmp_path: Path) -> None:
    certificate = self_signed_certificate(tmp_path / "tls")
    with running_imap(certificate) as server:
        trusted = f'ca_file = "{certificate.cert}"\n'
        sent = Sent(tmp_path / "news", server, extra=trusted)
        toml = sent.news.site / "publisher.toml"
        text_ = toml.read_text(encoding="utf-8")
        toml.write_text(
            text_.replace('security = "none"', 'security = "tls"').replace(
                f"port = {server.port}", f"port = {server.tls_port}"
            ),
            encoding="utf-8",
        )
        server.append(_dsn("hanako@example.com", sent.ids["hanako@example.com"]))
        assert "1 bounces recorded" in sent.run("bounces", "read").stdout
        toml.write_text(toml.read_text(encoding="utf-8").replace(trusted, ""), encoding="utf-8")
        refused = sent.run("bounces", "read", code=1)
        assert "TLS with 127.0.0.1" in refused.stderr and "ca_file" in refused.stderr


def test_publisher_run_reads_the_mailbox_and_a_fault_is_one_log_line(
    tmp_path: Path, imap: Imap, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from publisher.app.context import Context
    from publisher.scheduler import Runner

    sent = Sent(tmp_path / "news", imap)
    imap.append(_dsn("hanako@example.com", sent.ids["hanako@example.com"]))
    environ = {"PUBLISHER_SECRET": SECRET, "PUBLISHER_IMAP_PASSWORD": PASSWORD}  # limit 3
    runner = Runner(Context(site_dir=sent.news.site, environ=environ), tmp_path / "out")
    with caplog.at_level(logging.INFO, logger="publisher.run"):
        runner.run("bounces")
    assert "bounces: read 1 messages (1 bounce)" in caplog.text
    assert sent.rows()["hanako@example.com"][:2] == ("active", 1)  # one of three
    caplog.clear()
    wrong = Runner(
        Context(site_dir=sent.news.site, environ={**environ, "PUBLISHER_IMAP_PASSWORD": "no"}),
        tmp_path / "out",
    )
    with caplog.at_level(logging.INFO, logger="publisher.run"):
        wrong.run("bounces")  # logged, not raised: the runner goes on
    [record] = [r for r in caplog.records if r.name == "publisher.run"]
    assert record.levelno == logging.ERROR and "refused the login" in record.getMessage()
    assert "trying again in 15 minutes" in record.getMessage()


def test_publisher_run_plans_the_mailbox_only_when_there_is_one(tmp_path: Path, imap: Imap) -> None:
    from publisher.app.context import Context
    from publisher.scheduler import Runner

    sent = Sent(tmp_path / "news", imap)
    environ = {"PUBLISHER_SECRET": SECRET, "PUBLISHER_IMAP_PASSWORD": PASSWORD}
    runner = Runner(Context(site_dir=sent.news.site, environ=environ), tmp_path / "out")
    runner.start()
    try:
        job = runner.scheduler.get_job("bounces")
        assert job is not None and job.trigger.interval.total_seconds() == 15 * 60
    finally:
        runner.shutdown()
    toml = sent.news.site / "publisher.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('host = "127.0.0.1"', 'host = ""'))
    plain = Runner(Context(site_dir=sent.news.site, environ=environ), tmp_path / "out")
    plain.start()
    try:
        assert plain.scheduler.get_job("bounces") is None
    finally:
        plain.shutdown()


def test_without_move_only_our_message_is_expunged_and_none_is_read_twice(
    tmp_path: Path,
) -> None:
    """A server without MOVE: each message is copied, flagged and expunged alone (UID
    EXPUNGE); a message a person flagged for deletion is neither read nor expunged."""
    with running_imap(extra="imap_capability = IMAP4rev1 LITERAL+ UIDPLUS\n") as server:
        sent = Sent(tmp_path / "news", server)
        server.append(b"Subject: flagged by a person\r\n\r\nkeep me until I expunge\r\n")
        client = server.client()
        client.select('"INBOX"')
        client.uid("STORE", "1", "+FLAGS", r"(\Deleted)")
        client.logout()
        server.append(_dsn("hanako@example.com", sent.ids["hanako@example.com"]))
        assert "read 1 messages" in sent.run("bounces", "read").stdout
        assert server.count("INBOX") == 1 and server.count("publisher-done") == 1
        assert sent.run("bounces", "read").stdout.strip() == "read 0 messages"
