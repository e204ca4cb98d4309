"""The confirmation email (double opt-in) as one standard ``EmailMessage``.

Unlike the digest, this is one message to one person, so the standard
library builds it: ``multipart/alternative`` with the text part first and the
HTML part last (RFC 2046 §5.1.4: the last part is the preferred one),
UTF-8 headers encoded per RFC 2047, CRLF line endings.

>>> content = render_confirmation(confirm_url=url, settings=settings)      # doctest: +SKIP
>>> message = build_confirmation(content, sender="Blog <news@blog.example.com>",
...     to="ann@example.org", date=now, message_id="<confirm.1@blog.example.com>")  # doctest: +SKIP
>>> message_bytes(message)[:6]                                              # doctest: +SKIP
b'From: '
"""

from __future__ import annotations

from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only the type: importing render would load Jinja2 and premailer
    from publisher.digest.render import ConfirmationContent

__all__ = ["build_confirmation", "message_bytes"]


def build_confirmation(
    content: ConfirmationContent,
    *,
    sender: str,
    to: str,
    date: datetime,
    message_id: str,
    reply_to: str = "",
) -> EmailMessage:
    """The confirmation message from ``sender`` to the bare address ``to``.

    ``To`` carries no display name: the name comes from a public form, and
    must not travel to an address its owner may never have typed.
    """
    message = EmailMessage(policy=email_policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = " ".join(content.subject.split())
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id if message_id.startswith("<") else f"<{message_id}>"
    if reply_to:
        message["Reply-To"] = reply_to
    # RFC 3834 §5: sent by a program, not a person; auto-responders must not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message["MIME-Version"] = "1.0"
    message.make_alternative()
    for subtype, body in (("plain", content.text), ("html", content.html)):
        part = EmailMessage(policy=email_policy.SMTP)
        part.set_content(body, subtype=subtype, charset="utf-8", cte="quoted-printable")
        del part["MIME-Version"]  # RFC 2045 §4: the message's header, not each part's
        message.attach(part)
    return message


def message_bytes(message: EmailMessage) -> bytes:
    """The message as SMTP wants it: CRLF; UTF-8 headers (RFC 6531) only for a non-ASCII address."""
    to = str(message["To"] or "")
    policy = email_policy.SMTP if to.isascii() else email_policy.SMTPUTF8
    return message.as_bytes(policy=policy)
