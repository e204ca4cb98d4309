"""The tokens that stand for per-subscriber values in a rendered digest.

A digest is rendered once per audience group, so the templates cannot know
who reads it. They print these tokens instead, and
:func:`publisher.digest.message.personalize` puts each subscriber's values in
their place. The tokens are plain ASCII with no character that HTML escaping,
URL handling or quoted-printable encoding would change, so they reach the
message bytes exactly as written.

>>> all(token.isascii() and token.strip("%").isidentifier() for token in PLACEHOLDERS)
True
"""

from __future__ import annotations

__all__ = ["PLACEHOLDERS", "PREFERENCES_URL", "SUBSCRIBER_NAME", "UNSUBSCRIBE_URL"]

UNSUBSCRIBE_URL = "%%UNSUBSCRIBE_URL%%"
PREFERENCES_URL = "%%PREFERENCES_URL%%"
SUBSCRIBER_NAME = "%%SUBSCRIBER_NAME%%"
PLACEHOLDERS = (UNSUBSCRIBE_URL, PREFERENCES_URL, SUBSCRIBER_NAME)
