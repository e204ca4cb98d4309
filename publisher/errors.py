"""The exception tree of publisher.

Every error publisher raises on purpose derives from :class:`PublisherError`, so
the edges (CLI, web) translate exactly one type into an exit code or an HTTP
status. Errors carry their context as attributes, not only in the message::

    PublisherError
    ├── ConfigError            .key, .reason        (bad setting, bad _config.yml)
    ├── PostError              .path, .line, .reason (one unreadable post)
    ├── OutputError            .path, .reason        (a feed could not be written)
    ├── SubscriberError        .email, .reason       (bad address, unknown subscriber)
    ├── TokenError                                   (a forged, altered or expired link)
    │   └── LinkExpired                              (genuine, but older than allowed)
    ├── SendPaused             .reason               (too many errors in a row: send paused)
    ├── RunnerBusy             .owner, .until        (another `publisher run` holds the database)
    └── DeliveryError          .smtp_code, .reply    (one message not accepted)
        ├── TransientDeliveryError                   (4xx, dropped connection: retry later)
        └── PermanentDeliveryError                   (5xx: never retried)

A ``PostError`` is normally not raised to the caller: the reader turns it into a
:class:`publisher.models.Problem` and goes on with the other posts.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "DeliveryError",
    "LinkExpired",
    "OutputError",
    "PermanentDeliveryError",
    "PostError",
    "PublisherError",
    "RunnerBusy",
    "SendPaused",
    "SubscriberError",
    "TokenError",
    "TransientDeliveryError",
]


class PublisherError(Exception):
    """Root of every error publisher raises on purpose."""


class ConfigError(PublisherError):
    """A setting is missing, unknown or of the wrong type.

    >>> str(ConfigError("feeds.limit", "expected an integer, got 'ten'"))
    "feeds.limit: expected an integer, got 'ten'"
    """

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


class PostError(PublisherError):
    """One post cannot be published: its path, the 1-based line and why."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {reason}")


class OutputError(PublisherError):
    """A file under the output folder could not be written."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        # Both in args, so the error survives pickling from a worker process.
        super().__init__(str(path), reason)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class SubscriberError(PublisherError):
    """An address that cannot be added, or a subscriber that does not exist."""

    def __init__(self, email: str, reason: str) -> None:
        self.email = email
        self.reason = reason
        super().__init__(f"{email}: {reason}")


class TokenError(PublisherError):
    """A link token that is forged, altered, for another purpose, or expired."""


class LinkExpired(TokenError):
    """A genuine link used after its time (a confirm link older than ``[web] confirm_days``)."""


class SendPaused(PublisherError):
    """A send stopped on purpose (too many consecutive errors); rerunning resumes it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class RunnerBusy(PublisherError):
    """Another ``publisher run`` acts on this database; ``until`` is None while it is alive."""

    def __init__(self, owner: str, until: str | None = None) -> None:
        self.owner = owner
        self.until = until
        later = f" (its lock expires at {until} unless renewed)" if until else ""
        super().__init__(
            f"another `publisher run` is already running on this database: {owner}{later}"
        )


class DeliveryError(PublisherError):
    """The mail server did not accept one message. ``smtp_code`` is None for a dropped link."""

    def __init__(self, reply: str, smtp_code: int | None = None) -> None:
        self.smtp_code = smtp_code
        self.reply = reply
        super().__init__(f"{smtp_code} {reply}" if smtp_code else reply)


class TransientDeliveryError(DeliveryError):
    """A 4xx reply or a lost connection: the message is retried later with backoff."""


class PermanentDeliveryError(DeliveryError):
    """A 5xx reply: the message is not retried."""
