"""The exception tree of publisher.

Every error publisher raises on purpose derives from :class:`PublisherError`, so
the edges (CLI, web) translate exactly one type into an exit code or an HTTP
status. Errors carry their context as attributes, not only in the message::

    PublisherError
    ├── ConfigError            .key, .reason        (bad setting, bad _config.yml)
    ├── PostError              .path, .line, .reason (one unreadable post)
    ├── OutputError            .path, .reason        (a feed or state file could not be written)
    ├── StoreError             .database, .reason    (the database cannot be reached or written)
    ├── InputError             .source, .line, .reason (a bad CSV row or file)
    ├── SubscriberError        .email, .reason       (bad address, unknown subscriber)
    ├── TokenError                                   (a forged, altered or expired link)
    │   └── LinkExpired                              (genuine, but older than allowed)
    ├── SendPaused             .reason, .reply       (relay fault, or too many errors in a row)
    ├── RunnerBusy             .owner, .until        (another `publisher run` holds the database)
    ├── MailboxError           .reason, .fix         (the bounce mailbox cannot be read)
    └── DeliveryError          .smtp_code, .reply    (one message not accepted)
        ├── TransientDeliveryError                   (4xx to RCPT/DATA: retry this recipient later)
        ├── PermanentDeliveryError                   (5xx to RCPT/DATA: never retried)
        └── RelayError                               (the relay or the sender is at fault:
                                                      connect, TLS, AUTH, greeting, MAIL FROM,
                                                      421, lost connection, unwritable outbox;
                                                      the send pauses and no recipient is charged)

Foreign errors are mapped into this tree where they arise (SQLAlchemy's in
``publisher.store``, ``smtplib``'s and ``ssl``'s in ``publisher.delivery``,
``OSError`` where a file is read or written), with the original as
``__cause__``; the edges then only translate ``PublisherError``.

A ``PostError`` is normally not raised to the caller: the reader turns it into a
:class:`publisher.models.Problem` and goes on with the other posts.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "DeliveryError",
    "InputError",
    "LinkExpired",
    "MailboxError",
    "OutputError",
    "PermanentDeliveryError",
    "PostError",
    "PublisherError",
    "RelayError",
    "RunnerBusy",
    "SendPaused",
    "StoreError",
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


class StoreError(PublisherError):
    """The database cannot be reached, opened or written.

    ``database`` names it without secrets: ``host:port/name`` or the SQLite file.

    >>> str(StoreError("127.0.0.1:5432/news", "connection refused"))
    'database 127.0.0.1:5432/news: connection refused'
    """

    def __init__(self, database: str, reason: str) -> None:
        self.database = database
        self.reason = reason
        super().__init__(database, reason)

    def __str__(self) -> str:
        return f"database {self.database}: {self.reason}"


class InputError(PublisherError):
    """Input a person gave (a CSV file, a row of it) that cannot be used: where, and why.

    >>> str(InputError("list.csv", "not UTF-8", line=3))
    'list.csv:3: not UTF-8'
    """

    def __init__(self, source: str, reason: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        super().__init__(source, reason, line)

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.reason}"


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
    """A send stopped on purpose; rerunning resumes it.

    Either the relay or the sender is at fault (``reply`` is what the server
    said), or too many messages in a row failed.
    """

    def __init__(self, reason: str, reply: str = "") -> None:
        self.reason = reason
        self.reply = reply
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


class RelayError(DeliveryError):
    """The relay or the sender failed, not the recipient: nobody's attempt is charged.

    Connection refused, TLS or AUTH failure, a refused greeting or ``MAIL FROM``,
    ``421``, a connection lost mid-transaction, an outbox folder that cannot be
    written. The worker gives the message back and pauses the send. ``fix``
    says what to change, for the pause message.

    >>> fault = RelayError("5.7.8 Authentication failed", 535, fix="check the password")
    >>> str(fault), fault.fix
    ('535 5.7.8 Authentication failed', 'check the password')
    """

    def __init__(self, reply: str, smtp_code: int | None = None, *, fix: str = "") -> None:
        super().__init__(reply, smtp_code)
        self.fix = fix


class MailboxError(PublisherError):
    """The mailbox that collects returned mail (``[bounces]``) cannot be reached or read.

    >>> str(MailboxError("login refused", fix="check PUBLISHER_IMAP_PASSWORD"))
    'bounce mailbox: login refused (check PUBLISHER_IMAP_PASSWORD)'
    """

    def __init__(self, reason: str, *, fix: str = "") -> None:
        self.reason = reason
        self.fix = fix
        super().__init__(reason, fix)

    def __str__(self) -> str:
        return f"bounce mailbox: {self.reason}" + (f" ({self.fix})" if self.fix else "")
