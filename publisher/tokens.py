"""Signed tokens for confirm and unsubscribe links (HMAC-SHA256).

A token names a purpose and a subscriber id; a forged or altered token, or one
made for another purpose, is rejected with :class:`~publisher.errors.TokenError`.
Tokens are URL-safe ASCII, so they can be spliced into message bytes as-is.
A dated token (:func:`sign_dated`) also carries when it was made, and
:func:`verify_dated` refuses it once it is older than the caller allows
(:class:`~publisher.errors.LinkExpired`): a confirm link should not work for
ever, an unsubscribe link in an old mail must.

>>> token = sign(b"k" * 32, "unsubscribe", 42)
>>> verify(b"k" * 32, "unsubscribe", token)
42
>>> verify(b"k" * 32, "confirm", token)
Traceback (most recent call last):
...
publisher.errors.TokenError: this link is not valid
>>> dated = sign_dated(b"k" * 32, "confirm", 42, issued=1_700_000_000)
>>> verify_dated(b"k" * 32, "confirm", dated, now=1_700_000_060, max_age=3600)
42
"""

from __future__ import annotations

import base64
import hmac

from publisher.errors import LinkExpired, TokenError

__all__ = ["sign", "sign_dated", "sign_form", "verify", "verify_dated", "verify_form"]

_DIGEST_BYTES = 16
# A token dated this far ahead of the verifier's clock is a forgery or a broken clock.
_FUTURE_SLACK = 300


def sign(secret: bytes, purpose: str, subscriber_id: int) -> str:
    """A token ``<id>.<mac>`` binding ``purpose`` to ``subscriber_id``."""
    return f"{subscriber_id}.{_mac(secret, purpose, subscriber_id)}"


def verify(secret: bytes, purpose: str, token: str) -> int:
    """The subscriber id in ``token``, if it was signed with ``secret`` for ``purpose``."""
    ident, _, mac = token.partition(".")
    if not _digits(ident, 18) or not mac:
        raise TokenError("this link is not valid")
    subscriber_id = int(ident)
    if not hmac.compare_digest(mac, _mac(secret, purpose, subscriber_id)):
        raise TokenError("this link is not valid")
    return subscriber_id


def sign_dated(secret: bytes, purpose: str, subscriber_id: int, issued: int) -> str:
    """A token ``<id>.<issued>.<mac>``; ``issued`` is when it was made, in Unix seconds."""
    return f"{subscriber_id}.{issued}.{_mac(secret, purpose, subscriber_id, issued)}"


def verify_dated(secret: bytes, purpose: str, token: str, now: int, max_age: int) -> int:
    """The subscriber id in a :func:`sign_dated` token no older than ``max_age`` seconds.

    A genuine but older token raises :class:`LinkExpired` (a :class:`TokenError`).
    """
    ident, _, rest = token.partition(".")
    issued_text, _, mac = rest.partition(".")
    if not (_digits(ident, 18) and _digits(issued_text, 12) and mac):
        raise TokenError("this link is not valid")
    subscriber_id, issued = int(ident), int(issued_text)
    if not hmac.compare_digest(mac, _mac(secret, purpose, subscriber_id, issued)):
        raise TokenError("this link is not valid")
    if issued > now + _FUTURE_SLACK:
        raise TokenError("this link is not valid")
    if now - issued > max_age:
        raise LinkExpired("this link has expired")
    return subscriber_id


def _digits(text: str, most: int) -> bool:
    # str.isdigit alone admits "²" and other digits int() refuses.
    return 0 < len(text) <= most and text.isascii() and text.isdigit()


def _mac(secret: bytes, purpose: str, subscriber_id: int, issued: int | None = None) -> str:
    dated = "" if issued is None else f"/{issued}"
    message = f"publisher/{purpose}/{subscriber_id}{dated}".encode()
    digest = hmac.digest(secret, message, "sha256")[:_DIGEST_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_form(secret: bytes, purpose: str, issued: int) -> str:
    """A form's token: dated, bound to ``purpose`` and to no subscriber (their id slot is 0).

    >>> stamp = sign_form(b"k" * 32, "subscribe-form", issued=1_700_000_000)
    >>> verify_form(b"k" * 32, "subscribe-form", stamp, now=1_700_000_060, max_age=86_400)
    """
    return sign_dated(secret, purpose, 0, issued)


def verify_form(secret: bytes, purpose: str, token: str, now: int, max_age: int) -> None:
    """Raise :class:`TokenError` unless ``token`` is a :func:`sign_form` token of ``purpose``
    no older than ``max_age`` seconds (:class:`LinkExpired` if it is older)."""
    if verify_dated(secret, purpose, token, now, max_age) != 0:
        raise TokenError("this form is not valid")
