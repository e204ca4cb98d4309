"""Mail headers against hostile settings and names: what arrives is what was configured.

The site title, ``[digest] from``, ``reply_to`` and subscriber names are
written into headers; each test sends real mail (aiosmtpd on 127.0.0.1, or
``FileTransport``'s ``.eml`` files) through the real CLI or the signup use case,
and reads back the SMTP envelope and the parsed headers.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from smtp_server import RecordingHandler, running_smtp
from web_support import make_context

from publisher.app.signup import subscribe
from publisher.cli import main
from publisher.config import Settings, SiteSettings, load_settings
from publisher.digest.address import clean_name
from publisher.digest.message import MessageTemplate, build_template, personalize
from publisher.digest.render import DigestContent
from publisher.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "site"
NOW = "2025-11-20T09:00:00+09:00"
SECRET = "test-secret-0123456789abcdef"


class MailSite:
    """The example site's posts under a title of the test's, sending to aiosmtpd."""

    def __init__(
        self, root: Path, title: str, smtp: tuple[str, int] | None, digest: str = ""
    ) -> None:
        self.site, self.var = root / "site", root / "var"
        shutil.copytree(EXAMPLE / "_posts", self.site / "_posts")
        config = (EXAMPLE / "_config.yml").read_text(encoding="utf-8")
        config = config.replace('title: "Tsumiki Notes"', f"title: {json.dumps(title)}")
        (self.site / "_config.yml").write_text(config, encoding="utf-8")
        relay = f'[smtp]\nhost = "{smtp[0]}"\nport = {smtp[1]}\nsecurity = "none"\n' if smtp else ""
        (self.site / "publisher.toml").write_text(
            f'[paths]\nvar = "{self.var.as_posix()}"\n{relay}'
            f"[digest]\nfirst_edition_days = 60\n{digest}"
            '[web]\nbase_url = "https://news.example.com"\n',
            encoding="utf-8",
        )

    def run(self, *args: str) -> Result:
        env = {"PUBLISHER_SECRET": SECRET}
        result = CliRunner().invoke(main, [*args, "--site", str(self.site), "--now", NOW], env=env)
        assert "Traceback" not in result.output
        return result


@pytest.fixture
def smtp() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def relay(smtp: RecordingHandler) -> Iterator[tuple[str, int]]:
    with running_smtp(smtp) as address:
        yield address


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def header_lines(data: bytes) -> list[bytes]:
    return data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


# --- the site title as the sender ---------------------------------------------------

TITLES = ["Smith, Jones & Co", "News <attacker@evil.example>, Inc"]


@pytest.mark.parametrize("title", TITLES)
def test_a_title_with_specials_is_the_senders_name_and_never_its_address(
    tmp_path: Path, smtp: RecordingHandler, relay: tuple[str, int], title: str
) -> None:
    mail = MailSite(tmp_path, title, relay)
    assert mail.run("subscribers", "add", "ann@example.org").exit_code == 0
    sent = mail.run("digest", "send")
    assert sent.exit_code == 0, sent.output
    (received,) = smtp.messages
    assert received.sender == "noreply@blog.example.com"
    assert received.recipients == ["ann@example.org"]
    (sender,) = parse(received.data)["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (title, "noreply@blog.example.com")


@pytest.mark.parametrize("title", TITLES)
def test_the_confirmation_mail_has_the_same_sender(
    tmp_path: Path, smtp: RecordingHandler, relay: tuple[str, int], title: str
) -> None:
    mail = MailSite(tmp_path, title, relay)
    subscribe(make_context(mail.site), "bob@example.org")
    (received,) = smtp.messages
    assert received.sender == "noreply@blog.example.com"
    (sender,) = parse(received.data)["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (title, "noreply@blog.example.com")


@pytest.mark.parametrize(
    ("title", "reason"),
    [
        ("News\r\nBcc: all@example.org", "a line break"),
        ("News\nReply-To: x@evil.example", "a line break"),
        ("News\x1b]0;owned\x07", "a control character"),
        ("=?utf-8?b?QWxpY2U=?=", "'=?utf-8?b?QWxpY2U=?=' is an RFC 2047 encoded word"),
    ],
)
def test_a_title_that_cannot_be_a_header_stops_every_command_naming_the_key(
    tmp_path: Path, smtp: RecordingHandler, relay: tuple[str, int], title: str, reason: str
) -> None:
    mail = MailSite(tmp_path, title, relay)
    with pytest.raises(ConfigError) as raised:
        load_settings(mail.site)
    assert raised.value.key == "site.title" and raised.value.reason.startswith(reason)
    for command in (("digest", "send"), ("serve", "--port", "1")):  # serve: the subscribe form
        result = mail.run(*command)
        assert result.exit_code == 2 and result.exc_info is not None
        assert result.exc_info[0] is SystemExit
        assert result.output.startswith(f"Error: site.title: {reason}")
    assert smtp.messages == []


def test_a_trailing_line_break_of_a_folded_yaml_title_is_harmless(  # a guard
    tmp_path: Path, relay: tuple[str, int]
) -> None:
    mail = MailSite(tmp_path, "Tsumiki Notes\n", relay)
    assert load_settings(mail.site).site.title == "Tsumiki Notes\n"


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("from", "News <attacker@evil.example>, Inc", "expected an address such as"),
        ("from", "Smith, Jones & Co <news@blog.example.com>", "expected an address such as"),
        ("from", "a@x.org, b@x.org", "expected one address, got 2"),
        ("from", "news", "expected an address such as"),
        ("from", "News <news@>", "expected an address such as"),
        ("from", "News\r\n <news@blog.example.com>", "a line break"),
        ("reply_to", "editor@blog.example.com\nBcc: x@evil.example", "a line break"),
        ("reply_to", "undisclosed: ;", "expected an address such as"),
        ("reply_to", '"=?utf-8?b?QQ==?=" <a@x.org>', "'=?utf-8?b?QQ==?=' is an RFC 2047"),
        ("subject", "{site}\r\nBcc: x@evil.example", "a line break"),
    ],
)
def test_unusable_header_settings_are_config_errors_naming_the_key(
    tmp_path: Path, relay: tuple[str, int], key: str, value: str, reason: str
) -> None:
    mail = MailSite(tmp_path, "Tsumiki Notes", relay, digest=f"{key} = {json.dumps(value)}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(mail.site)
    assert raised.value.key == f"digest.{key}"
    assert raised.value.reason.startswith(reason), raised.value.reason


def test_configured_sender_and_reply_to_are_written_quoted_or_encoded(  # a guard
    tmp_path: Path, smtp: RecordingHandler, relay: tuple[str, int]
) -> None:
    digest = (
        'from = "\\"Smith, Jones & Co\\" <news@blog.example.com>"\n'
        'reply_to = "\\"Editors, The\\" <ed@blog.example.com>, 山田 <yamada@blog.example.com>"\n'
    )
    mail = MailSite(tmp_path, "Tsumiki Notes", relay, digest=digest)
    mail.run("subscribers", "add", "ann@example.org")
    assert mail.run("digest", "send").exit_code == 0
    (received,) = smtp.messages
    assert received.sender == "news@blog.example.com"
    message = parse(received.data)
    assert [(a.display_name, a.addr_spec) for a in message["From"].addresses] == [
        ("Smith, Jones & Co", "news@blog.example.com")
    ]
    assert [(a.display_name, a.addr_spec) for a in message["Reply-To"].addresses] == [
        ("Editors, The", "ed@blog.example.com"),
        ("山田", "yamada@blog.example.com"),
    ]


# --- subscriber names in To ---------------------------------------------------------

CONTENT = DigestContent(subject="News", html="<p>Hi</p>\n", text="Hi\n", posts=1, omitted=0)
LINKS = {
    "message_id": "<7.1@blog.example.com>",
    "unsubscribe_url": "https://news.example.com/unsubscribe/x",
    "unsubscribe_mailto": "news@blog.example.com",
    "preferences_url": "https://news.example.com/preferences/x",
}


def make_template() -> MessageTemplate:
    site = SiteSettings(title="Tsumiki Notes", url="https://blog.example.com")
    date = datetime.fromisoformat(NOW)
    return build_template(
        CONTENT, settings=Settings(site=site), edition_number=7, date=date, list_id="x"
    )


TEMPLATE = make_template()
HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
           "List-Unsubscribe-Post", "MIME-Version", "Content-Type"]  # fmt: skip


def expected_name(name: str) -> str:
    """The documented cleaning: whitespace collapsed, unprintables dropped, 200 characters."""
    kept = "".join(c for c in name if c.isprintable() or c.isspace())
    return " ".join(kept.split())[:200].rstrip()


def client_name(data: bytes) -> str:
    """The To display name as a mail client decodes it (RFC 2047 §6.2), unquoted."""
    lines = header_lines(data)
    start = next(i for i, line in enumerate(lines) if line.startswith(b"To: "))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(b" "))
    value = b"".join(lines[start:end])[4:].decode("utf-8")
    decoded = str(make_header(decode_header(value)))
    name = decoded.rpartition(" <")[0] if decoded.endswith(">") and " <" in decoded else ""
    if name.startswith('"') and name.endswith('"'):
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    return name


@pytest.mark.parametrize(
    "name",
    ["=?utf-8?b?QWRtaW4=?=", "=?utf-8?q?Admin?= team", "Bob =?us-ascii?q?x?= Smith"],
)
def test_a_name_that_looks_like_an_encoded_word_arrives_as_typed(name: str) -> None:
    data = personalize(TEMPLATE, to="bob@example.org", name=name, **LINKS)
    (to,) = parse(data)["To"].addresses
    assert (to.display_name, to.addr_spec) == (name, "bob@example.org")
    assert client_name(data) == name
    assert name.encode() not in data


LOOK_ALIKES = st.builds(
    "{}=?{}?{}?{}?={}".format,
    st.text(max_size=5),
    st.sampled_from(["utf-8", "us-ascii", "iso-8859-1", "x"]),
    st.sampled_from("bBqQ"),
    st.text(alphabet="QWRtaW4=_", max_size=12),
    st.text(max_size=5),
)
NAMES = st.one_of(
    st.text(max_size=300), LOOK_ALIKES, st.text(alphabet='"\\ ,<>@;:()[].', max_size=30)
)


@settings(max_examples=400, deadline=None)
@given(name=NAMES, address=st.emails())
def test_personalize_writes_any_name_and_address_as_exactly_themselves(
    name: str, address: str
) -> None:
    data = personalize(TEMPLATE, to=address, name=name, **LINKS)
    message = parse(data)
    assert not message.defects and list(message.keys()) == HEADERS
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    to = message["To"]
    assert not to.defects
    (mailbox,) = to.addresses
    assert mailbox.addr_spec == address
    wanted = expected_name(name)
    assert client_name(data) == wanted
    if (wanted.isascii() and "=?" not in wanted) or len(wanted.encode()) <= 45:
        assert mailbox.display_name == wanted  # one word: Python's parser agrees with RFC 2047
    else:  # Python 3.11 keeps the folding space between encoded words (RFC 2047 §6.2: not text)
        assert mailbox.display_name.replace(" ", "") == wanted.replace(" ", "")


# --- sizes --------------------------------------------------------------------------


def test_a_post_with_a_huge_title_and_excerpt_is_mailed_within_gmails_limit(
    tmp_path: Path,
) -> None:
    mail = MailSite(tmp_path, "Tsumiki Notes", None)
    (mail.site / "_posts" / "2025-09-30-broken-front-matter.md").unlink()
    title, excerpt = "漢" * 100_000, "字" * 100_000
    (mail.site / "_posts" / "2025-11-18-huge.md").write_text(
        f"---\ntitle: {title}\nexcerpt: {excerpt}\n---\nBody.\n", encoding="utf-8"
    )
    built = mail.run("build")
    assert built.exit_code == 0, built.output
    assert (
        "_posts/2025-11-18-huge.md:2: title cut to 300 characters (it has 100,000)" in built.output
    )
    feed = (mail.site / "feeds" / "atom.xml").read_text(encoding="utf-8")
    assert "漢" * 299 + "…</title>" in feed and "漢" * 300 not in feed
    mail.run("subscribers", "add", "ann@example.org")
    assert mail.run("digest", "send").exit_code == 0
    (eml,) = (mail.var / "outbox" / "edition-1").glob("*.eml")
    message = parse(eml.read_bytes())
    html = message.get_body(("html",))
    assert html is not None
    markup = html.get_content()
    assert len(markup.encode("utf-8")) <= 100_000
    assert "漢" * 299 + "…" in markup  # the newest post, its title cut
    unsubscribe = message["List-Unsubscribe"].split("<")[1].split(">")[0]
    assert f'href="{unsubscribe}"' in markup  # the footer is inside what Gmail shows


@pytest.mark.parametrize("folder", ["../outside", "{root}/outside"])
def test_feeds_are_never_written_outside_the_output_folder(tmp_path: Path, folder: str) -> None:
    mail = MailSite(tmp_path, "Tsumiki Notes", None)
    value = folder.format(root=tmp_path.as_posix())
    toml = mail.site / "publisher.toml"
    toml.write_text(f"[feeds]\ndir = {json.dumps(value)}\n" + toml.read_text(), encoding="utf-8")
    result = mail.run("build")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: feeds.dir: expected a folder inside the output folder")
    assert not (tmp_path / "outside").exists()


# --- names shown to operators -------------------------------------------------------

HOSTILE_NAME = "\x1b]0;owned\x07Ann\u202eeiL\u202c\x1b[2J\tvan\nDam\x00"


def stored_names(mail: MailSite) -> dict[str, str]:
    with sqlite3.connect(mail.var / "publisher.db") as conn:
        return dict(conn.execute("SELECT email, name FROM subscribers"))


def test_names_are_stored_without_control_characters_from_the_cli_and_the_form(
    tmp_path: Path,
) -> None:
    mail = MailSite(tmp_path, "Tsumiki Notes", None)
    added = mail.run("subscribers", "add", "ann@example.org", "--name", HOSTILE_NAME)
    assert added.exit_code == 0, added.output
    subscribe(make_context(mail.site), "bob@example.org", name=HOSTILE_NAME)
    assert stored_names(mail) == {
        "ann@example.org": "]0;ownedAnneiL[2J van Dam",
        "bob@example.org": "]0;ownedAnneiL[2J van Dam",
    }


def test_subscribers_list_escapes_what_a_terminal_would_obey(tmp_path: Path) -> None:
    mail = MailSite(tmp_path, "Tsumiki Notes", None)
    assert mail.run("subscribers", "add", "ann@example.org").exit_code == 0
    with sqlite3.connect(mail.var / "publisher.db") as conn:  # stored by an older version
        conn.execute(
            "UPDATE subscribers SET name = ?, categories = ?", (HOSTILE_NAME, '["a\\u001bb"]')
        )
    listed = mail.run("subscribers", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.output == (
        "ann@example.org\tactive\t"
        "\\u001b]0;owned\\u0007Ann\\u202eeiL\\u202c\\u001b[2J\\u0009van\\u000aDam\\u0000\ta\\u001bb\n"
    )


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=260),
        st.text(alphabet=" \t\r\n\u3000\u2028\x1bAb山", max_size=30),
        st.text(alphabet="Ab ", min_size=195, max_size=210),
    )
)
def test_a_name_is_cleaned_by_one_rule_whatever_it_holds(name: str) -> None:
    """The rule, written out: unprintable characters but whitespace dropped, whitespace runs
    one space, trimmed, at most 200 characters (the quick path for clean names included)."""
    kept = "".join(char for char in name if char.isprintable() or char.isspace())
    assert clean_name(name) == " ".join(kept.split())[:200].rstrip()
