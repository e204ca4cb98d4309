"""Transports: where a finished message goes. SMTP, ``.eml`` files, or memory (tests).

A transport sends one message to one recipient and returns the server's reply,
or raises a :class:`~publisher.errors.DeliveryError` that says who is at fault:

- :class:`~publisher.errors.TransientDeliveryError`: a 4xx reply to this
  recipient (RCPT, DATA or the end of the data): retry this one later;
- :class:`~publisher.errors.PermanentDeliveryError`: a 5xx reply to this
  recipient, or an address that cannot be sent to: never retry;
- :class:`RelayError` (a :class:`~publisher.errors.RelayError`): the relay or
  the sender failed, whoever the recipient (cannot connect, TLS, AUTH, the
  greeting, ``MAIL FROM``, ``421``, a lost connection, an unwritable folder).
  ``fix`` says what to check. No recipient is to be charged for it.

The worker decides what to do with each; the transport only reports.
SMTP lives in ``publisher.delivery.smtp`` (the only modules importing ``smtplib``).

>>> t = MemoryTransport()
>>> t.send("news@x.org", "a@y.org", b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
'250 OK'
>>> len(t.sent)
1
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from publisher.errors import RelayError
from publisher.files import PRIVATE, write_atomic

__all__ = ["FileTransport", "MemoryTransport", "SentMessage", "Transport"]

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^>\r\n]+)>", re.M | re.I)


class Transport(Protocol):
    """Sends one message to one recipient."""

    def send(self, sender: str, recipient: str, message: bytes) -> str:
        """Deliver ``message``; return the server's reply or raise a DeliveryError."""
        ...

    def close(self) -> None:
        """Release connections; the transport may be used again afterwards."""
        ...


@dataclass(frozen=True)
class SentMessage:
    """One message a MemoryTransport accepted."""

    sender: str
    recipient: str
    data: bytes


@dataclass
class MemoryTransport:
    """Keeps messages in a list. ``handler`` may raise a DeliveryError to simulate a server.

    Like httpx's ``MockTransport``: a real transport for tests, not a patch.
    """

    handler: Callable[[str, str, bytes], None] | None = None
    sent: list[SentMessage] = field(default_factory=list)

    def send(self, sender: str, recipient: str, message: bytes) -> str:
        if self.handler is not None:
            self.handler(sender, recipient, message)
        self.sent.append(SentMessage(sender, recipient, message))
        return "250 OK"

    def close(self) -> None:
        return None


class FileTransport:
    """Writes each message as ``<folder>/<Message-ID>.eml`` (atomically; a resend overwrites).

    A file that cannot be written is the sender's fault, not the recipient's:
    :class:`RelayError`.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, sender: str, recipient: str, message: bytes) -> str:
        match = _MESSAGE_ID.search(message[:8192])
        stem = match[1].decode("ascii", "replace") if match else recipient
        name = re.sub(r"[^A-Za-z0-9._@+-]", "_", stem)[:200] + ".eml"
        try:
            write_atomic(self.folder / name, message, PRIVATE)  # live unsubscribe links
        except OSError as exc:
            raise RelayError(
                f"cannot write {self.folder / name}: {exc}",
                fix=f"check that {self.folder} can be written (permissions, disk space)",
            ) from exc
        return f"250 written {name}"

    def close(self) -> None:
        return None
