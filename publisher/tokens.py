"""Signed tokens for confirm and unsubscribe links (HMAC-SHA256).

A token names a purpose and a subscriber id; a forged or altered token, or one
made for another purpose, is rejected with :class:`~publisher.errors.TokenError`.
Tokens are URL-safe ASCII, so they can be spliced into message bytes as-is.

>>> token = sign(b"k" * 32, "unsubscribe", 42)
>>> verify(b"k" * 32, "unsubscribe", token)
42
>>> verify(b"k" * 32, "confirm", token)
Traceback (most recent call last):
...
publisher.errors.TokenError: this link is not valid
"""

from __future__ import annotations

import base64
import hmac

from publisher.errors import TokenError

__all__ = ["sign", "verify"]

_DIGEST_BYTES = 16


def sign(secret: bytes, purpose: str, subscriber_id: int) -> str:
    """A token ``<id>.<mac>`` binding ``purpose`` to ``subscriber_id``."""
    return f"{subscriber_id}.{_mac(secret, purpose, subscriber_id)}"


def verify(secret: bytes, purpose: str, token: str) -> int:
    """The subscriber id in ``token``, if it was signed with ``secret`` for ``purpose``."""
    ident, _, mac = token.partition(".")
    if not ident.isdigit() or len(ident) > 18 or not mac:
        raise TokenError("this link is not valid")
    subscriber_id = int(ident)
    if not hmac.compare_digest(mac, _mac(secret, purpose, subscriber_id)):
        raise TokenError("this link is not valid")
    return subscriber_id


def _mac(secret: bytes, purpose: str, subscriber_id: int) -> str:
    message = f"publisher/{purpose}/{subscriber_id}".encode()
    digest = hmac.digest(secret, message, "sha256")[:_DIGEST_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
