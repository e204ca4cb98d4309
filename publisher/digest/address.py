"""Address headers written byte by byte: ``From``, ``To``, ``Reply-To`` of every mail.

A display name is written as it is when it is only RFC 5322 atoms, as a
quoted string when it is other ASCII, and as RFC 2047 encoded words (UTF-8,
base64, whole characters, at most 75 characters each, one a line) when it is
not ASCII or holds something a mail client would decode as an encoded word
(``=?utf-8?b?…?=``): such text, quoted or not, would be shown decoded, as
other text. The address itself always stands alone in ``<…>``, so no name can
add or replace an address.

The sender's name is the site title unless ``[digest] from`` gives one; the
sender's address is ``[digest] from``'s, else ``noreply@<site domain>``.

>>> address_bytes("Smith, Jones & Co", "noreply@x.org")
b'"Smith, Jones & Co" <noreply@x.org>'
>>> address_bytes("=?utf-8?b?QQ==?=", "a@x.org")
b'=?utf-8?b?PT91dGYtOD9iP1FRPT0/PQ==?= <a@x.org>'
"""

from __future__ import annotations

import base64
import re

from publisher.config import Settings
from publisher.config.headers import mailboxes

__all__ = [
    "MAX_NAME",
    "address_bytes",
    "clean_name",
    "encoded_words",
    "envelope_sender",
    "reply_to_bytes",
    "sender_bytes",
    "sender_of",
]

MAX_NAME = 200
"""Characters of a display name kept: with the address, the line stays far below 998 octets."""
# A display name that needs neither quoting nor encoding (RFC 5322 atext and spaces).
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")
# 45 bytes → 60 base64 characters: "=?utf-8?b?…?=" is 72, under RFC 2047's 75.
_WORD_BYTES = 45
_FOLD = b"\r\n "


def clean_name(name: str) -> str:
    """``name`` on one line: whitespace collapsed, other unprintable characters dropped, cut.

    >>> clean_name(" Ann\\r\\n\\x1b]0;x\\x07  Smith ")
    'Ann ]0;x Smith'
    """
    if name.isprintable() and len(name) <= MAX_NAME and "  " not in name and name == name.strip():
        return name  # already clean (the store keeps names so): nothing to do, a mail each
    kept = "".join(char for char in name if char.isprintable() or char.isspace())
    return " ".join(kept.split())[:MAX_NAME].rstrip()


def address_bytes(name: str, address: str, fold: bytes = _FOLD) -> bytes:
    """``name <address>`` for a header (``address`` alone when there is no name).

    ``name`` must be clean (:func:`clean_name`); encoded words are joined by
    ``fold`` (a folding line break, or a space for a value given to ``email``).
    A non-ASCII address is written as UTF-8 (it needs SMTPUTF8, RFC 6531).
    """
    mailbox = address.encode("utf-8")
    if not name:
        return mailbox
    if not name.isascii() or "=?" in name:
        return fold.join(encoded_words(name)) + b" <" + mailbox + b">"
    if _ATOMS.fullmatch(name):
        return name.encode("ascii") + b" <" + mailbox + b">"
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <'.encode("ascii") + mailbox + b">"


def encoded_words(text: str) -> list[bytes]:
    """RFC 2047 B-encoded words of whole characters, each ≤ 75 characters."""
    words: list[bytes] = []
    chunk = b""
    for char in text:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > _WORD_BYTES:
            words.append(b"=?utf-8?b?" + base64.b64encode(chunk) + b"?=")
            chunk = b""
        chunk += data
    words.append(b"=?utf-8?b?" + base64.b64encode(chunk) + b"?=")
    return words


def _sender(settings: Settings) -> tuple[str, str]:
    """(display name, address) of the sender (``[digest] from`` is checked at load time)."""
    if settings.digest.sender:
        name, address = mailboxes(settings.digest.sender)[0]
    else:
        name, address = settings.site.title, f"noreply@{settings.site.domain}"
    return clean_name(name), address


def sender_bytes(settings: Settings) -> bytes:
    """The ``From`` value of the digest, folded: :func:`sender_of` as header bytes."""
    return address_bytes(*_sender(settings))


def sender_of(settings: Settings) -> str:
    """``From:`` of every mail, on one line: the name quoted or encoded, then ``<address>``.

    >>> from publisher.config import Settings, SiteSettings
    >>> sender_of(Settings(site=SiteSettings(title="Smith, Jones & Co", url="https://x.org")))
    '"Smith, Jones & Co" <noreply@x.org>'
    """
    return address_bytes(*_sender(settings), fold=b" ").decode("utf-8")


def envelope_sender(settings: Settings) -> str:
    """The bare sender address, for SMTP's ``MAIL FROM``.

    >>> from publisher.config import Settings, SiteSettings
    >>> title = "News <attacker@evil.example>, Inc"
    >>> envelope_sender(Settings(site=SiteSettings(title=title, url="https://x.org")))
    'noreply@x.org'
    """
    return _sender(settings)[1]


def reply_to_bytes(value: str) -> bytes:
    """``[digest] reply_to`` (checked at load time) as header bytes, one address a line."""
    return b",\r\n ".join(address_bytes(clean_name(n), a) for n, a in mailboxes(value))
