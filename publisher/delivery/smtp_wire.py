"""One SMTP transaction on an open connection: MAIL, RCPT, DATA and the message.

Who is at fault depends on what was refused (RFC 5321 §4.2, §4.5.3.1)::

    reply to            4xx / 5xx                       fault of
    MAIL FROM           RelayError                      the sender or the relay
    RCPT TO             Transient / PermanentDelivery   this recipient
    DATA, end of data   Transient / PermanentDelivery   this recipient (one-recipient transaction)
    any, 421            ConnectionLost                  the connection (a new one may do)
    (none: dropped, unreadable, timed out)  ConnectionLost

Each message is one transaction. When the server offers PIPELINING
(RFC 2920) MAIL, RCPT and DATA go out in one write and their replies are read
together, then the dot-stuffed message follows: two round trips a message
instead of four. A refused transaction is reset (RSET), so one bad recipient
never poisons the next message (no ``503 sender already specified``).
"""

from __future__ import annotations

import re
import smtplib

from publisher.errors import (
    DeliveryError,
    PermanentDeliveryError,
    RelayError,
    TransientDeliveryError,
)
from publisher.models import DotSafe

__all__ = ["ConnectionLost", "text", "transaction"]


class ConnectionLost(RelayError):
    """The connection died during a transaction (421, dropped, unreadable): a new one may do."""


_LOST_FIX = (
    "the relay closed the connection in the middle of a message, on a new connection too:"
    " check its limits (connections, messages per connection, rate) and that it is up"
)


def transaction(smtp: smtplib.SMTP, sender: str, recipient: str, message: bytes) -> str:
    """MAIL, RCPT, DATA and the message; the server's final reply, or a DeliveryError."""
    commands = _envelope(smtp, sender, recipient, len(message))
    try:
        replies = _exchange(smtp, commands)
        for stage, (code, reply), accepted in zip(_STAGES, replies, _ACCEPTED, strict=False):
            if code not in accepted:
                raise _refused(smtp, stage, code, reply, replies)
        smtp.send(_dot_stuffed(message))
        code, reply = smtp.getreply()
    except (smtplib.SMTPException, OSError) as exc:  # dropped, timed out, a reply line too long
        smtp.close()
        raise ConnectionLost(f"connection lost: {exc}", fix=_LOST_FIX) from exc
    if code != 250:
        raise _refused(smtp, "the end of the data", code, reply, [])
    return f"{code} {text(reply)}"


def _exchange(smtp: smtplib.SMTP, commands: list[bytes]) -> list[tuple[int, bytes]]:
    """The replies to MAIL, RCPT and DATA: all at once with PIPELINING, else up to a refusal."""
    if smtp.has_extn("pipelining"):
        smtp.send(b"".join(commands))
        return [smtp.getreply() for _ in commands]
    replies: list[tuple[int, bytes]] = []
    for command, accepted in zip(commands, _ACCEPTED, strict=True):
        smtp.send(command)
        replies.append(smtp.getreply())
        if replies[-1][0] not in accepted:
            break
    return replies


# What each of MAIL, RCPT and DATA must be answered with to go on.
_STAGES = ("MAIL FROM", "RCPT TO", "DATA")
_ACCEPTED = ((250,), (250, 251), (354,))
_ADDRESS_UNSAFE = re.compile(r"[\s<>]")
_SENDER_FIX = "check [digest] from"


def _envelope(smtp: smtplib.SMTP, sender: str, recipient: str, size: int) -> list[bytes]:
    """The MAIL, RCPT and DATA command lines, with SIZE and SMTPUTF8 where they apply."""
    if not sender or _ADDRESS_UNSAFE.search(sender):
        raise RelayError(f"not a usable sender address: {sender!r}", fix=_SENDER_FIX)
    if not recipient or _ADDRESS_UNSAFE.search(recipient):
        raise PermanentDeliveryError(f"not a usable address: {recipient!r}")
    options = f" SIZE={size}" if smtp.has_extn("size") else ""
    encoding = "ascii"
    if not (sender.isascii() and recipient.isascii()):
        # RFC 6531: an address beyond ASCII needs a server that offers SMTPUTF8.
        if not smtp.has_extn("smtputf8") and not sender.isascii():
            raise RelayError(
                f"{sender}: the server does not offer SMTPUTF8, needed for this sender",
                fix=f"{_SENDER_FIX}: use an ASCII address with this relay",
            )
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
    smtp: smtplib.SMTP, stage: str, code: int, reply: bytes, replies: list[tuple[int, bytes]]
) -> DeliveryError:
    """The error for a refusal, after ending the transaction so the connection can go on."""
    if code in (-1, 421):  # an unreadable reply, or the server is closing the connection
        smtp.close()
        return ConnectionLost(
            text(reply) or "connection lost", code if code > 0 else None, fix=_LOST_FIX
        )
    try:
        if len(replies) == len(_ACCEPTED) and replies[-1][0] == 354:
            # RFC 2920 §3.1: DATA was accepted although MAIL or RCPT was not; send
            # an empty message, which the server refuses for want of a recipient.
            smtp.send(b".\r\n")
            smtp.getreply()
        smtp.rset()
    except (smtplib.SMTPException, OSError):
        smtp.close()
    if stage == "MAIL FROM":
        return RelayError(
            text(reply),
            code,
            fix="the relay refused the sender at MAIL FROM: check that it lets this account"
            " send as [digest] from ([smtp] username and PUBLISHER_SMTP_PASSWORD if it"
            " requires a login)",
        )
    if 500 <= code < 600:
        return PermanentDeliveryError(text(reply), code)
    return TransientDeliveryError(text(reply), code)


# A literal regex finds "\n." with memchr, three times as fast as bytes.replace does.
_LINE_DOT = re.compile(rb"\n\.")


def _dot_stuffed(message: bytes) -> bytes:
    """The DATA payload: lines starting with "." doubled, CRLF, then "." alone (RFC 5321 §4.5.2)."""
    data = message if isinstance(message, DotSafe) else _LINE_DOT.sub(b"\n..", message)
    if data.startswith(b"."):
        data = b"." + data
    return data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n")


def text(reply: bytes | str) -> str:
    """A server reply as text (undecodable bytes replaced)."""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
