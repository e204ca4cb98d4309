"""Mail that comes back: delivery status notifications and complaints, read from their bytes.

A relay that accepted a digest may still fail to deliver it, and then sends
a *delivery status notification* (RFC 3464: ``multipart/report;
report-type=delivery-status``) to the envelope sender. A mailbox provider
whose user pressed "this is spam" may send a *complaint* (RFC 5965, ARF:
``report-type=feedback-report``). Both carry the headers of the mail they
are about, and so its ``Message-ID``, which publisher writes as
``<digest.EDITION.SUBSCRIBER.MAC@DOMAIN>`` (the MAC a keyed hash of edition
and subscriber): :func:`read_return` finds the report and that id, and
:func:`our_copy` tells, with the link secret, whether the id is one of ours
and whose. A report about anyone else's mail, or a forged id, is nothing.

Only the report's own fields decide: ``Action: failed`` with a ``5.x.x``
status is a bounce; ``delayed`` or a ``4.x.x`` status a delay (the relay
still tries); an ARF report a complaint. Anything else (auto-replies,
spam, a bounce in prose only) is not a report.

>>> report = read_return(b"Content-Type: text/plain\\r\\n\\r\\nOut of office")
>>> report is None
True
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from typing import Literal

__all__ = ["MAX_RETURN_BYTES", "OurCopy", "Return", "our_copy", "read_return"]

MAX_RETURN_BYTES = 2_000_000
"""A report is small; one larger than this is not read (its returned message may be whole)."""
_DIAGNOSTIC = 300
"""Characters of the remote server's words kept (they go into the outbox's last reply)."""
_OUR_ID = re.compile(r"<?digest\.(\d{1,9})\.(\d{1,18})\.([0-9a-f]{12})@([^>\s]{1,253})>?")
_STATUS = re.compile(r"([245])\.\d{1,3}\.\d{1,3}")

Kind = Literal["bounce", "delay", "complaint"]


@dataclass(frozen=True)
class Return:
    """What one report says about one of our messages."""

    kind: Kind
    message_id: str
    """The ``Message-ID`` of the mail it is about (as found; see :func:`our_copy`)."""
    status: str = ""
    """The RFC 3463 status (``5.1.1``), for bounces and delays."""
    reply: str = ""
    """A line for the outbox: the status and what the remote server said."""


@dataclass(frozen=True)
class OurCopy:
    """The edition and subscriber a message id of ours names."""

    edition: int
    subscriber_id: int


def our_copy(message_id: str, secret: bytes, domain: str) -> OurCopy | None:
    """Whose copy ``message_id`` is, if it is ours (our domain, and the MAC checks out).

    >>> mac = hmac.digest(b"k" * 32, b"3/17", "sha256").hex()[:12]
    >>> our_copy(f"<digest.3.17.{mac}@blog.example.com>", b"k" * 32, "blog.example.com")
    OurCopy(edition=3, subscriber_id=17)
    >>> our_copy("<digest.3.18.000000000000@blog.example.com>", b"k" * 32, "blog.example.com")
    """
    match = _OUR_ID.fullmatch(message_id.strip())
    if match is None or match[4].lower() != domain.lower():
        return None
    number, subscriber = int(match[1]), int(match[2])
    expected = hmac.digest(secret, f"{number}/{subscriber}".encode(), "sha256").hex()[:12]
    if not hmac.compare_digest(expected, match[3]):
        return None
    return OurCopy(number, subscriber)


def read_return(data: bytes) -> Return | None:
    """The report in ``data`` (a whole mail), or None if it holds none we can use."""
    if len(data) > MAX_RETURN_BYTES:
        return None
    try:
        mail = message_from_bytes(data, policy=policy.default)
        if mail.get_content_type() != "multipart/report":
            return None
        report_type = str(mail.get_param("report-type", "", header="content-type")).lower()
        parts = list(mail.walk())
        if report_type == "delivery-status":
            return _status_report(parts)
        if report_type == "feedback-report":
            return _complaint(parts)
    except (ValueError, LookupError, TypeError, AttributeError, IndexError, RecursionError):
        return None  # a mail too broken to read is no report: it is left for a person
    return None


def _status_report(parts: Sequence[Message]) -> Return | None:
    message_id = _returned_id(parts)
    if not message_id:
        return None
    for part in parts:
        if part.get_content_type() != "message/delivery-status":
            continue
        for fields in _field_blocks(part)[1:]:  # the first block is about the message
            action = _field(fields, "action").lower()
            status = _STATUS.match(_field(fields, "status"))
            if not status:
                continue
            code = status[0]
            said = " ".join(_field(fields, "diagnostic-code").split())[:_DIAGNOSTIC]
            reply = said if code in said else f"{code} {said}".strip()
            if action == "failed" and code.startswith("5"):
                return Return("bounce", message_id, code, reply)
            if action == "delayed" or (action == "failed" and code.startswith("4")):
                return Return("delay", message_id, code, reply)
    return None


def _complaint(parts: Sequence[Message]) -> Return | None:
    message_id = _returned_id(parts)
    for part in parts:
        if part.get_content_type() == "message/feedback-report" and message_id:
            kind = _field(_field_blocks(part)[0], "feedback-type").lower() or "abuse"
            return Return("complaint", message_id, "", f"complaint: {kind}"[:_DIAGNOSTIC])
    return None


def _field_blocks(part: Message) -> list[Message]:
    """The header blocks of a ``message/delivery-status`` or ``feedback-report`` part."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package parses delivery-status into blocks
        return [block for block in payload if isinstance(block, Message)]
    raw = part.get_payload(decode=True)
    text = raw if isinstance(raw, bytes) else str(payload).encode("utf-8", "replace")
    blocks = re.split(rb"\r?\n\r?\n", text.strip())
    return [BytesHeaderParser(policy=policy.compat32).parsebytes(b + b"\n\n") for b in blocks]


def _field(block: Message, name: str) -> str:
    """A field's value without its type prefix (``rfc822;`` of recipients, ``smtp;`` of codes)."""
    value = str(block.get(name, "") or "")
    head, sep, tail = value.partition(";")
    return " ".join((tail if sep and " " not in head.strip() else value).split())


def _returned_id(parts: Sequence[Message]) -> str:
    """The Message-ID of the mail the report returns (its headers, or the whole of it)."""
    for part in parts:
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, (Message, EmailMessage)):
                return str(inner.get("message-id", "") or "").strip()
        if kind in ("text/rfc822-headers", "message/rfc822-headers", "text/global-headers"):
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
                return str(headers.get("message-id", "") or "").strip()
    return ""
