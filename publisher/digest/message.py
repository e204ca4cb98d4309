"""The digest as MIME bytes: built once per audience group, then filled in per subscriber.

Building an ``EmailMessage`` per subscriber runs at a few hundred a second;
this module builds the message once, as bytes split where the per-subscriber
values go, and :func:`personalize` joins the parts with each subscriber's
values (tens of thousands a second).

The message is ``multipart/alternative`` with the text part first and the
HTML part last (RFC 2046 §5.1.4: the last part is the preferred one), both
UTF-8 in quoted-printable, CRLF line endings. A value inside a body must keep
it valid quoted-printable, so every placeholder stands on a line of its own
between soft line breaks (``=\\r\\n``, RFC 2045 §6.7 rule 5): the value is
encoded alone, wrapped at 76 characters, and spliced in without touching the
encoded text around it. A dot that would start a line is encoded (``=2E``):
no line of the message starts with ".", so SMTP sends it as it is
(:class:`~publisher.models.DotSafe`, RFC 5321 §4.5.2).

>>> template = build_template(content, settings=settings, edition_number=3,
...                           date=now, list_id="digest.blog.example.com")  # doctest: +SKIP
>>> data = personalize(template, to="a@example.org", message_id="<3.1@blog.example.com>",
...                    unsubscribe_url="https://…", unsubscribe_mailto="mailto:…",
...                    preferences_url="https://…", name="山田")          # doctest: +SKIP
"""

from __future__ import annotations

import binascii
import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.utils import format_datetime
from typing import TYPE_CHECKING

import msgspec

from publisher.config import Settings
from publisher.digest.address import (
    address_bytes,
    clean_name,
    envelope_sender,
    reply_to_bytes,
    sender_bytes,
    sender_of,
)
from publisher.digest.placeholders import PREFERENCES_URL, SUBSCRIBER_NAME, UNSUBSCRIBE_URL
from publisher.models import DotSafe

if TYPE_CHECKING:  # only the type: importing render would load Jinja2 and premailer
    from publisher.digest.render import DigestContent

__all__ = ["MessageTemplate", "build_template", "encode_body", "personalize", "sender_of"]

_FIELDS = {UNSUBSCRIBE_URL: "unsubscribe_url", PREFERENCES_URL: "preferences_url"}
_FIELDS[SUBSCRIBER_NAME] = "name"
_PLACEHOLDER = re.compile("(" + "|".join(re.escape(token) for token in _FIELDS) + ")")
_SOFT_BREAK = b"=\r\n"
_QP_LINE = 76  # characters a quoted-printable line may have (RFC 2045 §6.7 rule 5)
_UNSAFE = re.compile(r"[\s<>\x00]")  # would end a header line or an <address>
_CRLF = b"\r\n"
_HEADER_POLICY = email_policy.SMTP
_FORMAT = 1  # of MessageTemplate.to_bytes


@dataclass(frozen=True)
class MessageTemplate:
    """A message with holes: ``parts[0] + value(slots[0]) + parts[1] + … + parts[-1]``.

    A slot names what fills it: ``to``, ``message_id``, ``list_unsubscribe``,
    ``list_mailto`` (headers), or ``text:<field>`` / ``html:<field>`` for a
    field (``unsubscribe_url``, ``preferences_url``, ``name``) in a body.
    """

    parts: tuple[bytes, ...]
    slots: tuple[str, ...]
    boundary: str
    sender: str
    """The bare ``From`` address, for the SMTP envelope."""

    def to_bytes(self) -> bytes:
        """The template as bytes to store with its edition (see :meth:`from_bytes`)."""
        return msgspec.msgpack.encode((_FORMAT, self.parts, self.slots, self.boundary, self.sender))

    @classmethod
    def from_bytes(cls, data: bytes) -> MessageTemplate:
        """A template stored by :meth:`to_bytes`; ValueError if these are not such bytes.

        >>> t = MessageTemplate((b"To: ", b"\\r\\n"), ("to",), "=_b", "news@x.org")
        >>> MessageTemplate.from_bytes(t.to_bytes()) == t
        True
        """
        try:
            fmt, parts, slots, boundary, sender = msgspec.msgpack.decode(
                data, type=tuple[int, tuple[bytes, ...], tuple[str, ...], str, str]
            )
        except (msgspec.DecodeError, ValueError) as exc:
            raise ValueError(f"not a stored message template: {exc}") from exc
        if fmt != _FORMAT or len(parts) != len(slots) + 1:
            raise ValueError(f"not a stored message template (format {fmt})")
        return cls(parts, slots, boundary, sender)


def build_template(
    content: DigestContent,
    *,
    settings: Settings,
    edition_number: int,
    date: datetime,
    list_id: str,
) -> MessageTemplate:
    """The digest message for one audience group, ready for :func:`personalize`.

    ``From`` is ``digest.from``, else the site title at ``noreply@<site domain>``, the
    name quoted or encoded (:mod:`publisher.digest.address`); the envelope sender is
    that address alone.
    ``date`` is the ``Date`` header (pass the edition's time: the bytes are
    then the same on every run). The MIME boundary is derived from the content.

    >>> build_template(content, settings=settings, edition_number=1, date=now,
    ...                list_id="digest.blog.example.com").slots[:2]  # doctest: +SKIP
    ('to', 'message_id')
    """
    digest = settings.digest
    seed = f"{edition_number}\0{content.subject}\0{content.text}\0{content.html}"
    boundary = "=_" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]
    builder = _Builder()
    builder.add(b"From: " + sender_bytes(settings) + _CRLF)
    builder.add(b"To: ", "to", _CRLF)
    builder.add(_header("Subject", " ".join(content.subject.split())))
    builder.add(_header("Date", format_datetime(date)))
    builder.add(b"Message-ID: ", "message_id", _CRLF)
    if digest.reply_to:
        builder.add(b"Reply-To: " + reply_to_bytes(digest.reply_to) + _CRLF)
    builder.add(_header("List-Id", list_id if "<" in list_id else f"<{list_id}>"))
    # RFC 2369 §3.2 (one URI a line keeps long links under 998 octets);
    # RFC 8058 §3.1: the one-click POST header.
    builder.add(b"List-Unsubscribe: <", "list_unsubscribe", b">,\r\n <", "list_mailto", b">\r\n")
    builder.add(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", b"MIME-Version: 1.0\r\n")
    builder.add(f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n\r\n'.encode())
    for subtype, body in (("plain", content.text), ("html", content.html)):
        builder.add(f"--{boundary}\r\n".encode())
        builder.add(f'Content-Type: text/{subtype}; charset="utf-8"\r\n'.encode())
        builder.add(b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
        kind = "text" if subtype == "plain" else "html"
        for piece in encode_body(body):
            builder.add(piece if isinstance(piece, bytes) else f"{kind}:{_FIELDS[piece]}")
        builder.add(_CRLF)  # RFC 2046 §5.1.1: this CRLF belongs to the boundary, not the body
    builder.add(f"--{boundary}--\r\n".encode())
    return builder.build(boundary, envelope_sender(settings))


def encode_body(text: str) -> list[bytes | str]:
    """``text`` as quoted-printable bytes (CRLF), with each placeholder left as a ``str``.

    Each placeholder stands alone on its line, after and before a soft line
    break, so whatever QP-encoded value replaces it leaves the body valid.

    >>> encode_body("Hi %%SUBSCRIBER_NAME%%!\\n")
    [b'Hi=20=\\r\\n', '%%SUBSCRIBER_NAME%%', b'=\\r\\n!\\r\\n']
    """
    pieces: list[bytes | str] = []
    at_line_start = True
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    for index, piece in enumerate(_PLACEHOLDER.split(normalized)):
        if index % 2:
            pieces.extend(
                [piece, _SOFT_BREAK] if at_line_start else [_SOFT_BREAK, piece, _SOFT_BREAK]
            )
            at_line_start = True
        elif piece:
            encoded = _qp(piece)
            pieces.append(encoded)
            at_line_start = encoded.endswith(b"\n")
    return _merge_bytes(pieces)


def personalize(
    template: MessageTemplate,
    *,
    to: str,
    message_id: str,
    unsubscribe_url: str,
    unsubscribe_mailto: str,
    preferences_url: str,
    name: str = "",
) -> DotSafe:
    """One subscriber's message: the template with their address, links and name.

    ``message_id`` may come with or without its angle brackets;
    ``unsubscribe_mailto`` with or without ``mailto:``. URLs must be ASCII
    (percent-encode them first); a line break in any value raises ValueError.
    A non-ASCII ``to`` address is written as UTF-8 (it needs SMTPUTF8, RFC 6531).
    ``name`` has its whitespace collapsed, unprintable characters dropped, and is cut
    at 200 characters; it is quoted, or encoded (non-ASCII, or an encoded-word
    look-alike), so it reads back as itself (:func:`~publisher.digest.address.address_bytes`).

    >>> personalize(template, to="a@example.org", message_id="3.1@blog.example.com",
    ...             unsubscribe_url=url, unsubscribe_mailto="u+3.1@blog.example.com",
    ...             preferences_url=prefs, name="山田 花子")  # doctest: +SKIP
    b'From: ...'
    """
    name = clean_name(name)
    mailto = (
        unsubscribe_mailto
        if unsubscribe_mailto.startswith("mailto:")
        else ("mailto:" + unsubscribe_mailto)
    )
    fields = {
        "unsubscribe_url": _ascii(unsubscribe_url, "unsubscribe_url"),
        "preferences_url": _ascii(preferences_url, "preferences_url"),
        "name": name,
    }
    values = {
        "to": address_bytes(name, _checked(to, "to")),
        "message_id": f"<{_ascii(message_id.strip().strip('<>'), 'message_id')}>".encode(),
        "list_unsubscribe": fields["unsubscribe_url"].encode(),
        "list_mailto": _ascii(mailto, "unsubscribe_mailto").encode(),
    }
    parts, out = template.parts, [template.parts[0]]
    for index, slot in enumerate(template.slots, 1):
        value = values.get(slot)
        if value is None:
            kind, _, field = slot.partition(":")
            raw = fields[field] if kind == "text" else html.escape(fields[field])
            value = values[slot] = _qp(raw)
        out.append(value)
        out.append(parts[index])
    # Headers never start a line with a dot, nor do QP bodies written by _qp.
    return DotSafe(b"".join(out))


class _Builder:
    """Collects literal bytes and slot names, merging adjacent literals."""

    def __init__(self) -> None:
        self.parts: list[bytes] = [b""]
        self.slots: list[str] = []

    def add(self, *items: bytes | str) -> None:
        for item in items:
            if isinstance(item, bytes):
                self.parts[-1] += item
            else:
                self.slots.append(item)
                self.parts.append(b"")

    def build(self, boundary: str, sender: str) -> MessageTemplate:
        return MessageTemplate(tuple(self.parts), tuple(self.slots), boundary, sender)


def _merge_bytes(pieces: list[bytes | str]) -> list[bytes | str]:
    merged: list[bytes | str] = []
    for piece in pieces:
        if isinstance(piece, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def _qp(text: str) -> bytes:
    """Quoted-printable, lines ≤ 76 characters, CRLF (``text`` has LF line ends only).

    No line starts with ".": such a dot is written ``=2E`` (see ``DotSafe``).
    """
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    lines = encoded.split(b"\n")
    # binascii can write 77 characters when a line ends in whitespace (its
    # "=20" is not counted against the limit), so long lines are broken here.
    if encoded.startswith(b".") or b"\n." in encoded or max(map(len, lines)) > _QP_LINE:
        encoded = b"\n".join(_fitted(line) for line in lines)
    return encoded.replace(b"\n", _CRLF)


def _fitted(line: bytes) -> bytes:
    """A QP line with a leading "." written ``=2E``, broken where longer than 76 characters."""
    if line.startswith(b"."):
        line = b"=2E" + line[1:]
    if len(line) <= _QP_LINE:
        return line
    cut = _QP_LINE - 1  # room for the "=" of a soft line break (RFC 2045 §6.7 rule 5)
    while b"=" in line[cut - 2 : cut]:  # never cut through an "=XY" escape
        cut -= 1
    return line[:cut] + b"=\n" + _fitted(line[cut:])


def _header(name: str, value: str) -> bytes:
    """One header, folded, non-ASCII text as RFC 2047 encoded words."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"a line break in the {name} header")
    folded: str = _HEADER_POLICY.header_factory(name, value).fold(policy=_HEADER_POLICY)
    return folded.encode("ascii")


def _checked(value: str, what: str, limit: int = 320) -> str:
    if not value or len(value) > limit or _UNSAFE.search(value):
        raise ValueError(f"{what}: not a usable value: {value!r}")
    return value


def _ascii(value: str, what: str) -> str:
    if not value.isascii() or not value.isprintable():
        raise ValueError(f"{what}: expected printable ASCII without spaces, got {value!r}")
    return _checked(value, what, limit=900)
