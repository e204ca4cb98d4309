"""The digest's MIME bytes: built once, personalised by splicing; parsed back to check."""

from __future__ import annotations

import email
import email.policy
import html
import re
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage

import pytest
from digest_support import GOLDEN, example_digest, style_blocks, with_digest

from publisher.config import Settings
from publisher.digest.message import MessageTemplate, build_template, encode_body, personalize
from publisher.digest.render import (
    PREFERENCES_URL,
    SUBSCRIBER_NAME,
    UNSUBSCRIBE_URL,
    DigestContent,
)
from publisher.models import DotSafe

DATE = datetime.fromisoformat("2025-11-20T09:00:00+09:00")
LIST_ID = "digest.blog.example.com"
TEXT = (
    f"{SUBSCRIBER_NAME}さん、こんにちは。\n"
    "今週の記事です。\n\n" + "とても長い行です。" * 30 + f" {UNSUBSCRIBE_URL}{PREFERENCES_URL}\n"
    f"配信停止: {UNSUBSCRIBE_URL}\n"
    "行末の空白   \n"
    ".\n"
    f"設定: {PREFERENCES_URL}"
)
HTML = (
    "<!DOCTYPE html>\n<html><head><style>body { font-family: 'Hiragino Sans', sans-serif; }\n"
    "@media (max-width: 600px) { td { padding: 0 !important; } }</style></head>\n"
    f"<body><p>{SUBSCRIBER_NAME} 様</p><p>" + "x=y " * 60 + "</p>"
    f'<a href="{UNSUBSCRIBE_URL}">配信停止</a> <a href="{PREFERENCES_URL}">設定</a></body></html>\n'
)
CONTENT = DigestContent(
    subject="テストブログ — 2025年11月20日", html=HTML, text=TEXT, posts=1, omitted=0
)
ALICE = {
    "to": "alice@example.org",
    "message_id": "<digest.7.1.abc@blog.example.com>",
    "unsubscribe_url": "https://news.example.com/unsubscribe/AbC.dEf_123=?x=1&y=2",
    "unsubscribe_mailto": "mailto:news@blog.example.com?subject=unsubscribe%20AbC",
    "preferences_url": "https://news.example.com/preferences/" + "Zz9=" * 40,
    "name": "山田 花子",
}
BOB = {
    "to": "bob@example.net",
    "message_id": "digest.7.2.def@blog.example.com",
    "unsubscribe_url": "https://news.example.com/unsubscribe/b0b",
    "unsubscribe_mailto": "news@blog.example.com",
    "preferences_url": "https://news.example.com/preferences/b0b",
    "name": "",
}


@pytest.fixture
def template(settings: Settings) -> MessageTemplate:
    settings = with_digest(settings, sender="テストブログ <news@blog.example.com>")
    return build_template(CONTENT, settings=settings, edition_number=7, date=DATE, list_id=LIST_ID)


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, rich = list(message.iter_parts())
    assert not plain.defects and not rich.defects
    return (
        plain.get_content().replace("\r\n", "\n"),
        rich.get_content().replace("\r\n", "\n"),
    )


def expected(body: str, values: dict[str, str], escape: bool) -> str:
    fill = html.escape if escape else str
    for token, key in (
        (UNSUBSCRIBE_URL, "unsubscribe_url"),
        (PREFERENCES_URL, "preferences_url"),
        (SUBSCRIBER_NAME, "name"),
    ):
        body = body.replace(token, fill(values[key]))
    return body


TRICKY = [
    {**BOB, "name": "<script>alert('x')</script> & Co"},
    {**BOB, "name": "名前=テスト 🎉", "unsubscribe_url": "https://x.org/u?" + "a=b&" * 120},
    {**BOB, "name": "=?utf-8?q?not_a_word?=", "preferences_url": "https://x.org/p/%E8%A8%AD%3D"},
]


@pytest.mark.parametrize(
    "who", [ALICE, BOB, *TRICKY], ids=["alice", "bob", "html", "long-url", "lookalikes"]
)
def test_bodies_decode_to_the_rendered_text_with_the_values_in_place(
    template: MessageTemplate, who: dict[str, str]
) -> None:
    message = parse(personalize(template, **who))
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    assert (plain.get_content_type(), rich.get_content_type()) == ("text/plain", "text/html")
    for part in (plain, rich):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    text, markup = parts(message)
    assert text == expected(TEXT, who, escape=False)
    assert markup == expected(HTML, who, escape=True)


def test_headers(template: MessageTemplate) -> None:
    message = parse(personalize(template, **ALICE))
    assert message["From"] == "テストブログ <news@blog.example.com>"
    assert message["To"] == "山田 花子 <alice@example.org>"
    assert message["To"].addresses[0].display_name == "山田 花子"
    assert message["Subject"] == "テストブログ — 2025年11月20日"
    assert message["Date"] == "Thu, 20 Nov 2025 09:00:00 +0900"
    assert message["Date"].datetime == DATE
    assert message["Message-ID"] == "<digest.7.1.abc@blog.example.com>"
    assert message["List-Id"] == "<digest.blog.example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["MIME-Version"] == "1.0"
    assert "Reply-To" not in message
    links = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    assert links == [ALICE["unsubscribe_url"], ALICE["unsubscribe_mailto"]]
    assert template.sender == "news@blog.example.com"


@pytest.mark.parametrize(
    ("name", "display"),
    [
        ("", ""),
        ("Bob Smith", "Bob Smith"),
        ("Smith, Bob", "Smith, Bob"),
        ('Bob "the builder" J.', 'Bob "the builder" J.'),
        ("山田\r\nBcc: evil@example.com", "山田 Bcc: evil@example.com"),
        ("  山田\t 花子 ", "山田 花子"),
        ("A" * 80, "A" * 80),
        ("とても長い名前" * 12, "とても長い名前" * 12),
        ("x" * 300, "x" * 200),
    ],
)
def test_to_header(template: MessageTemplate, name: str, display: str) -> None:
    data = personalize(template, **{**BOB, "name": name})
    message = parse(data)
    assert "Bcc" not in message
    (address,) = message["To"].addresses
    assert address.addr_spec == "bob@example.net"
    raw = re.search(rb"^To: (.*?)\r\n(?! )", data, re.M | re.S)
    assert raw is not None
    # RFC 2047 §6.2: the space between adjacent encoded words is not text. Python's
    # address parser keeps it (so it only gets single-word names right); decode_header
    # follows the RFC, as mail clients do.
    assert display_name(raw[1].decode()) == display
    if len(display.encode()) <= 45 or display.isascii():
        assert address.display_name == display
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        assert len(line) <= (998 if display.isascii() else 78), line


def display_name(raw: str) -> str:
    """The display name of a raw To value, decoded per RFC 2047 and unquoted."""
    decoded = str(make_header(decode_header(raw)))
    name = decoded.rpartition("<")[0].strip() if "<" in decoded else ""
    if name.startswith('"') and name.endswith('"'):
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    return name


def test_raw_subject_is_rfc2047_and_has_no_line_breaks(settings: Settings) -> None:
    content = DigestContent(
        subject="週刊\r\nテスト  ブログ", html=HTML, text=TEXT, posts=1, omitted=0
    )
    template = build_template(
        content, settings=settings, edition_number=1, date=DATE, list_id=LIST_ID
    )
    data = personalize(template, **BOB)
    assert data.isascii() and b"=?utf-8?" in data.split(b"\r\n\r\n", 1)[0]
    assert parse(data)["Subject"] == "週刊 テスト ブログ"


def test_from_defaults_to_noreply_and_reply_to_when_set(settings: Settings) -> None:
    template = build_template(
        CONTENT,
        settings=with_digest(settings, reply_to="editor@blog.example.com"),
        edition_number=1,
        date=DATE,
        list_id=LIST_ID,
    )
    message = parse(personalize(template, **BOB))
    assert message["From"] == "テストブログ <noreply@blog.example.com>"
    assert message["Reply-To"] == "editor@blog.example.com"
    assert template.sender == "noreply@blog.example.com"


def test_wire_format(template: MessageTemplate) -> None:
    data = personalize(template, **ALICE)
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    head, _, body = data.partition(b"\r\n\r\n")
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    boundary = b"--" + template.boundary.encode()
    for section in body.split(boundary)[1:-1]:
        _, _, encoded = section.partition(b"\r\n\r\n")
        for line in encoded.split(b"\r\n"):
            assert len(line) <= 76, line
            assert not line.endswith((b" ", b"\t")), line  # trailing space is eaten in transit
    # RFC 2046: parts in order of preference, HTML last
    assert body.index(b"text/plain") < body.index(b"text/html")
    assert body.rstrip(b"\r\n").endswith(boundary + b"--")


DOTS_TEXT = (
    ".starts with a dot\n"
    + "x" * 75
    + ".a dot where the line is broken\n"
    + "." * 80
    + "\n"
    + ".é"
    + "é" * 40
    + f"\n{SUBSCRIBER_NAME}\n.{UNSUBSCRIBE_URL}\n"
)
DOTS_HTML = (
    f"<style>\n.a {{ color: red; }}\n</style>\n<p>{SUBSCRIBER_NAME}</p>\n.{PREFERENCES_URL}\n"
)


@pytest.mark.parametrize("name", [".dot", "." * 90, "山田"])
def test_no_line_starts_with_a_dot_so_smtp_sends_the_bytes_as_they_are(
    settings: Settings, name: str
) -> None:
    content = DigestContent(subject="s", html=DOTS_HTML, text=DOTS_TEXT, posts=1, omitted=0)
    dotted = build_template(content, settings=settings, edition_number=1, date=DATE, list_id="l")
    who = {**BOB, "name": name, "unsubscribe_url": "https://x.org/u/" + "." * 100}
    data = personalize(dotted, **who)
    assert isinstance(data, DotSafe)
    assert not data.startswith(b".") and b"\n." not in data
    _, _, body = data.partition(b"\r\n\r\n")
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    text, markup = parts(parse(data))
    assert text == expected(DOTS_TEXT, who, escape=False)
    assert markup == expected(DOTS_HTML, who, escape=True)


def test_two_subscribers_differ_only_in_their_values(template: MessageTemplate) -> None:
    first, second = personalize(template, **ALICE), personalize(template, **BOB)
    assert first != second
    for data in (first, second):
        position = 0
        for part in template.parts:  # every fixed byte is there, in order
            found = data.find(part, position)
            assert found == position or (found > position and part != template.parts[0])
            position = found + len(part)
        assert position == len(data)
    for data, who in ((first, ALICE), (second, BOB)):
        text, markup = parts(parse(data))
        assert text == expected(TEXT, who, escape=False)
        assert markup == expected(HTML, who, escape=True)


def test_template_is_deterministic(settings: Settings) -> None:
    one = build_template(CONTENT, settings=settings, edition_number=7, date=DATE, list_id=LIST_ID)
    two = build_template(CONTENT, settings=settings, edition_number=7, date=DATE, list_id=LIST_ID)
    assert one == two
    other = build_template(CONTENT, settings=settings, edition_number=8, date=DATE, list_id=LIST_ID)
    assert other.boundary != one.boundary


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", "a@example.org\r\nBcc: x@example.org"),
        ("to", ""),
        ("to", "a b@example.org"),
        ("unsubscribe_url", "https://example.org/解除"),
        ("unsubscribe_url", "https://example.org/a b"),
        ("preferences_url", "https://example.org/\n"),
        ("message_id", "a\r\nb@example.org"),
        ("unsubscribe_mailto", "mailto:a@example.org>\r\nX: y"),
    ],
)
def test_unsafe_values_are_refused(template: MessageTemplate, field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field):
        personalize(template, **{**BOB, field: value})


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("Hi %%SUBSCRIBER_NAME%%!\n", [b"Hi=20=\r\n", SUBSCRIBER_NAME, b"=\r\n!\r\n"]),
        ("%%SUBSCRIBER_NAME%%", [SUBSCRIBER_NAME, b"=\r\n"]),
        (
            "a\n%%UNSUBSCRIBE_URL%%%%PREFERENCES_URL%%",
            [b"a\r\n", UNSUBSCRIBE_URL, b"=\r\n", PREFERENCES_URL, b"=\r\n"],
        ),
        ("tail \n", [b"tail=20\r\n"]),
        ("x=1\r\ny", [b"x=3D1\r\ny"]),
    ],
)
def test_encode_body(text: str, pieces: list[bytes | str]) -> None:
    assert encode_body(text) == pieces


def test_example_site_message_keeps_fonts_and_media_queries(
    settings: Settings, update_golden: bool
) -> None:
    content, site_settings = example_digest()
    template = build_template(
        content, settings=site_settings, edition_number=7, date=DATE, list_id=LIST_ID
    )
    data = personalize(template, **ALICE)
    golden = GOLDEN / "edition.eml"
    if update_golden:
        golden.write_bytes(data)
    assert data == golden.read_bytes(), "edition.eml differs: run pytest --update-golden"
    text, markup = parts(parse(data))
    styles = style_blocks(markup)
    assert "'Hiragino Sans', 'Noto Sans JP'" in styles  # quoted, not &#39;-escaped
    assert "@media (max-width: 600px)" in styles
    assert "@media (prefers-color-scheme: dark)" in styles
    assert f'href="{html.escape(ALICE["unsubscribe_url"])}"' in markup
    assert markup == expected(content.html, ALICE, escape=True)
    assert text == expected(content.text, ALICE, escape=False)


# binascii.b2a_qp writes a 77-character line when a line ends in whitespace
# right at the limit ("=E3=81=82=20" after 65 ASCII characters).
WHITESPACE_ENDS = "".join(
    "a" * n + tail + "\n" for n in range(55, 80) for tail in ("あ ", " ", "\t", "= ", "é\t")
)


def test_lines_ending_in_whitespace_stay_within_76_characters(settings: Settings) -> None:
    content = DigestContent(
        subject="s", html="<p>x</p>\n", text=WHITESPACE_ENDS, posts=1, omitted=0
    )
    template = build_template(content, settings=settings, edition_number=1, date=DATE, list_id="l")
    data = personalize(template, **BOB)
    _, _, body = data.partition(b"\r\n\r\n")
    for line in body.split(b"\r\n"):
        assert len(line) <= 76, line
        assert not line.endswith((b" ", b"\t")), line
    text, _ = parts(parse(data))
    assert text == expected(WHITESPACE_ENDS, BOB, escape=False)
