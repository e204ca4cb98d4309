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

import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from publisher.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from publisher.files import PRIVATE, write_atomic
from publisher.models import DotSafe

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
            write_atomic(self.folder / name, message, PRIVATE)  # live unsubscribe links
        except OSError as exc:
            raise TransientDeliveryError(f"cannot write {self.folder / name}: {exc}") from exc
        return f"250 written {name}"

    def close(self) -> None:
        return None


class SmtpTransport:
    """SMTP over reused connections: STARTTLS, implicit TLS or plain; login if configured.

    Each message is one transaction. When the server offers PIPELINING
    (RFC 2920) MAIL, RCPT and DATA go out in one write and their replies are
    read together, then the dot-stuffed message follows: two round trips a
    message instead of four. A refused transaction is reset (RSET), so one bad
    recipient never poisons the next message (no ``503 sender already
    specified``); a dropped connection is reopened by the next ``send``.

    ``send`` may be called from several threads at once: each call takes an
    idle connection, or opens one while fewer than ``connections`` are open.
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
        connections: int = 1,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._idle: list[smtplib.SMTP] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(connections)

    def _connect(self) -> smtplib.SMTP:
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
            smtp.ehlo_or_helo_if_needed()
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentDeliveryError(_text(exc.smtp_error), exc.smtp_code) from exc
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientDeliveryError(
                f"cannot connect to {self.host}:{self.port}: {exc}"
            ) from exc
        if smtp.sock is not None:
            # Every command group and every message goes out in one write: nothing for
            # Nagle's algorithm to gather, only a delayed-ACK stall to cause.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return smtp

    def send(self, sender: str, recipient: str, message: bytes) -> str:
        with self._slots:
            with self._lock:
                smtp = self._idle.pop() if self._idle else None
            if smtp is None:
                smtp = self._connect()
            try:
                return _transaction(smtp, sender, recipient, message)
            except smtplib.SMTPServerDisconnected as exc:
                raise TransientDeliveryError(f"connection lost: {exc}") from exc
            except (smtplib.SMTPException, OSError) as exc:  # e.g. a reply line too long
                smtp.close()
                raise TransientDeliveryError(str(exc)) from exc
            finally:
                if smtp.sock is not None:  # smtplib closes a connection it lost
                    with self._lock:
                        self._idle.append(smtp)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for smtp in idle:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def _transaction(smtp: smtplib.SMTP, sender: str, recipient: str, message: bytes) -> str:
    """MAIL, RCPT, DATA and the message; the server's final reply, or a DeliveryError."""
    commands = _envelope(smtp, sender, recipient, len(message))
    replies: list[tuple[int, bytes]] = []
    if smtp.has_extn("pipelining"):
        smtp.send(b"".join(commands))
        replies = [smtp.getreply() for _ in commands]
    else:
        for command, accepted in zip(commands, _ACCEPTED, strict=True):
            smtp.send(command)
            replies.append(smtp.getreply())
            if replies[-1][0] not in accepted:
                break
    for (code, reply), accepted in zip(replies, _ACCEPTED, strict=False):
        if code not in accepted:
            raise _refused(smtp, code, reply, replies)
    smtp.send(_dot_stuffed(message))
    code, reply = smtp.getreply()
    if code != 250:
        raise _refused(smtp, code, reply, [])
    return f"{code} {_text(reply)}"


# What each of MAIL, RCPT and DATA must be answered with to go on.
_ACCEPTED = ((250,), (250, 251), (354,))
_ADDRESS_UNSAFE = re.compile(r"[\s<>]")


def _envelope(smtp: smtplib.SMTP, sender: str, recipient: str, size: int) -> list[bytes]:
    """The MAIL, RCPT and DATA command lines, with SIZE and SMTPUTF8 where they apply."""
    for address in (sender, recipient):
        if not address or _ADDRESS_UNSAFE.search(address):
            raise PermanentDeliveryError(f"not a usable address: {address!r}")
    options = f" SIZE={size}" if smtp.has_extn("size") else ""
    encoding = "ascii"
    if not (sender.isascii() and recipient.isascii()):
        # RFC 6531: an address beyond ASCII needs a server that offers SMTPUTF8.
        if not smtp.has_extn("smtputf8"):
            # No code: the relay is the obstacle, so this is no bounce of the address.
            raise PermanentDeliveryError(
                f"{recipient}: the server does not offer SMTPUTF8, needed for this address"
            )
        options, encoding = options + " SMTPUTF8", "utf-8"
    return [
        f"MAIL FROM:<{sender}>{options}\r\n".encode(encoding),
        f"RCPT TO:<{recipient}>\r\n".encode(encoding),
        b"DATA\r\n",
    ]


def _refused(
    smtp: smtplib.SMTP, code: int, reply: bytes, replies: list[tuple[int, bytes]]
) -> DeliveryError:
    """The error for a refusal, after ending the transaction so the connection can go on."""
    if code in (-1, 421):  # an unreadable reply, or the server is closing the connection
        smtp.close()
        return _classify(code, reply)
    try:
        if len(replies) == len(_ACCEPTED) and replies[-1][0] == 354:
            # RFC 2920 §3.1: DATA was accepted although MAIL or RCPT was not; send
            # an empty message, which the server refuses for want of a recipient.
            smtp.send(b".\r\n")
            smtp.getreply()
        smtp.rset()
    except (smtplib.SMTPException, OSError):
        smtp.close()
    return _classify(code, reply)


# A literal regex finds "\n." with memchr, three times as fast as bytes.replace does.
_LINE_DOT = re.compile(rb"\n\.")


def _dot_stuffed(message: bytes) -> bytes:
    """The DATA payload: lines starting with "." doubled, CRLF, then "." alone (RFC 5321 §4.5.2)."""
    data = message if isinstance(message, DotSafe) else _LINE_DOT.sub(b"\n..", message)
    if data.startswith(b"."):
        data = b"." + data
    return data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _classify(code: int, reply: bytes | str) -> DeliveryError:
    text = _text(reply)
    if 500 <= code < 600:
        return PermanentDeliveryError(text, code)
    return TransientDeliveryError(text, code if code > 0 else None)
