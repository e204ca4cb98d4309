"""Settings that go into mail headers: one line each, addresses that parse as what they say.

The site title is the ``From`` name of every mail unless ``[digest] from``
gives one, and goes into subjects; ``[digest] from`` and ``reply_to`` are
addresses. Any of them with a line break, a control character or an RFC 2047
encoded word in it (mail programs would show it decoded, as other text), or
an address that does not parse as one, is a :class:`ConfigError` naming the key.

>>> mailboxes('"Smith, Jones & Co" <news@x.org>, ann@x.org')
(('Smith, Jones & Co', 'news@x.org'), ('', 'ann@x.org'))
"""

from __future__ import annotations

import re

from publisher.config.model import Settings
from publisher.errors import ConfigError

__all__ = ["check_headers", "mailboxes"]

_LINE_BREAK = re.compile(r"[\n\r\v\f\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# RFC 2047: text a mail client shows decoded, as other text, wherever it stands in a header.
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
_ADDRESS_UNSAFE = re.compile(r"[\s<>]")


def check_headers(settings: Settings) -> None:
    """Settings that go into mail headers: one line each, addresses that parse as one."""
    digest = settings.digest
    texts = (("site.title", settings.site.title.strip()), ("digest.subject", digest.subject))
    for key, value in texts:
        try:
            _header_text(value)
        except ValueError as exc:
            raise ConfigError(key, f"{exc}; it goes into the From and Subject of mails") from exc
    for key, value in (("digest.from", digest.sender), ("digest.reply_to", digest.reply_to)):
        try:
            found = mailboxes(value) if value else ()
        except ValueError as exc:
            raise ConfigError(key, f"{exc}; got {value!r}") from exc
        if key == "digest.from" and len(found) > 1:
            raise ConfigError(key, f"expected one address, got {len(found)} in {value!r}")


def mailboxes(value: str) -> tuple[tuple[str, str], ...]:
    """``value``'s (display name, address) pairs; ValueError saying why it is not such a list."""
    from email import policy  # here: `publisher build` loads settings without mail's modules

    _header_text(value)
    header = policy.default.header_factory("From", value)
    groups, found = header.groups, header.addresses
    if header.defects or not found or any(group.display_name for group in groups):
        raise ValueError(
            'expected an address such as "News <news@blog.example.com>" (quote a name'
            ' holding , < or @: "Smith, Jones & Co" <news@blog.example.com>)'
        )
    for address in found:
        if not address.username or not address.domain or _ADDRESS_UNSAFE.search(address.addr_spec):
            raise ValueError(f"{address.addr_spec!r} is not an email address")
        _header_text(address.display_name)
    return tuple((address.display_name, address.addr_spec) for address in found)


def _header_text(value: str) -> None:
    """ValueError unless ``value`` can stand in a mail header as the text it is."""
    if _LINE_BREAK.search(value):
        raise ValueError("a line break (a header is one line: mail would be refused or forged)")
    if _CONTROL.search(value):
        raise ValueError("a control character")
    found = _ENCODED_WORD.search(value)
    if found:
        raise ValueError(
            f"{found[0]!r} is an RFC 2047 encoded word: mail programs would show other text"
        )
