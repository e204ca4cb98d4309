"""Transports: where a finished message goes. SMTP, ``.eml`` files, or memory (tests).

A transport sends one message to one recipient and returns the server's reply,
or raises :class:`~publisher.errors.TransientDeliveryError` (4xx, dropped
connection: retry later) or :class:`~publisher.errors.PermanentDeliveryError`
(5xx: never retry). The worker decides what to do with either; the transport
only reports. This module is the only one that imports ``smtplib``.

>>> t = MemoryTransport()
>>> t.send("news@x.org", "a@y.org", b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
'250 OK'
>>> len(t.sent)
1
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from publisher.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from publisher.files import write_atomic

__all__ = ["FileTransport", "MemoryTransport", "SentMessage", "SmtpTransport", "Transport"]

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
    """Writes each message as ``<folder>/<Message-ID>.eml`` (atomically; a resend overwrites)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, sender: str, recipient: str, message: bytes) -> str:
        match = _MESSAGE_ID.search(message[:8192])
        stem = match[1].decode("ascii", "replace") if match else recipient
        name = re.sub(r"[^A-Za-z0-9._@+-]", "_", stem)[:200] + ".eml"
        try:
            write_atomic(self.folder / name, message)
        except OSError as exc:
            raise TransientDeliveryError(f"cannot write {self.folder / name}: {exc}") from exc
        return f"250 written {name}"

    def close(self) -> None:
        return None


class SmtpTransport:
    """SMTP with one reused connection: STARTTLS, implicit TLS or plain; login if configured.

    After a refused transaction smtplib sends RSET; after a dropped connection the
    next ``send`` reconnects. So one bad recipient never poisons the next message
    (no ``503 sender already specified``).
    """

    def __init__(
        self,
        host: str,
        port: int = 587,
        security: str = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        context = self.ssl_context or ssl.create_default_context()
        try:
            if self.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentDeliveryError(_text(exc.smtp_error), exc.smtp_code) from exc
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientDeliveryError(
                f"cannot connect to {self.host}:{self.port}: {exc}"
            ) from exc
        self._smtp = smtp
        return smtp

    def send(self, sender: str, recipient: str, message: bytes) -> str:
        smtp = self._connect()
        try:
            refused = smtp.sendmail(sender, [recipient], message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(recipient, (550, b"recipient refused"))
            raise _classify(code, reply) from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data error
            if exc.smtp_code == -1 or exc.smtp_code == 421:
                self._drop()
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TransientDeliveryError(f"connection lost: {exc}") from exc
        except smtplib.SMTPException as exc:
            self._drop()
            raise TransientDeliveryError(str(exc)) from exc
        if refused:
            code, reply = refused[recipient]
            raise _classify(code, reply)
        return "250 accepted"

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _classify(code: int, reply: bytes | str) -> DeliveryError:
    text = _text(reply)
    if 500 <= code < 600:
        return PermanentDeliveryError(text, code)
    return TransientDeliveryError(text, code if code > 0 else None)
