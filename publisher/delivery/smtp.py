"""SmtpTransport: reused SMTP connections, STARTTLS or implicit TLS, login; relay faults named.

Everything that concerns the relay or the sender, not one recipient, raises
:class:`~publisher.errors.RelayError` with the server's reply and what to
fix: connection refused, timed out or a name that does not resolve; a TLS
handshake or certificate that fails; STARTTLS not offered although
``security = "starttls"`` (never a silent fall back to plain text); AUTH
refused (535) or not offered while a username is set; a refused greeting or
EHLO; any refusal of ``MAIL FROM``; ``421``; a connection lost mid-transaction.
Only replies to RCPT, DATA and the end of the data count against the
recipient (see ``publisher.delivery.smtp_wire``).

A connection lost during a transaction (a ``421``, or dropped: relays close
idle connections, or after so many messages) is reopened at once and the
message tried once more on the new connection; only when that one is lost too
is it a RelayError. If the old connection died after the server had taken
the end of the data but before its reply arrived, that message arrives twice
(the risk RFC 5321 §6.1 accepts); a 421 or a drop before that cannot.

Verification is never switched off: the relay's certificate is checked
against the system's CA certificates, or only against ``ca_file`` when set
(a relay with a private CA or a self-signed certificate).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from publisher.delivery.smtp_wire import ConnectionLost, text, transaction
from publisher.errors import RelayError

__all__ = ["SmtpTransport"]


class SmtpTransport:
    """SMTP over reused connections: STARTTLS, implicit TLS or plain; login if configured.

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
        ca_file: str = "",
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.ca_file = ca_file
        self._context = ssl_context
        self._idle: list[smtplib.SMTP] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(connections)

    @property
    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def send(self, sender: str, recipient: str, message: bytes) -> str:
        with self._slots:
            with self._lock:
                smtp = self._idle.pop() if self._idle else None
            try:
                return self._send_on(smtp or self._connect(), sender, recipient, message)
            except ConnectionLost:
                pass  # the relay closed it (idle too long, too many messages): once more
            return self._send_on(self._connect(), sender, recipient, message)

    def _send_on(self, smtp: smtplib.SMTP, sender: str, recipient: str, message: bytes) -> str:
        try:
            return transaction(smtp, sender, recipient, message)
        finally:
            if smtp.sock is not None:  # closed when lost: the next send opens a new one
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

    def _connect(self) -> smtplib.SMTP:
        """A new connection, greeted, secured and logged in; or a RelayError saying why not."""
        context = self._tls_context() if self.security in ("tls", "starttls") else None
        with self._step(
            f"cannot connect to {self._where}",
            "check [smtp] host, port and security, and that the relay accepts this machine",
        ):
            if context is not None and self.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            self._handshake(smtp, context)
        except BaseException:
            smtp.close()
            raise
        if smtp.sock is not None:
            # Every command group and every message goes out in one write: nothing for
            # Nagle's algorithm to gather, only a delayed-ACK stall to cause.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return smtp

    def _handshake(self, smtp: smtplib.SMTP, context: ssl.SSLContext | None) -> None:
        """EHLO, STARTTLS (when asked for: never skipped), EHLO again, AUTH."""
        with self._step(f"{self._where} refused EHLO", "check that the relay accepts this machine"):
            smtp.ehlo_or_helo_if_needed()
        if context is not None and self.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise RelayError(
                    f"{self._where} does not offer STARTTLS",
                    fix='[smtp] security = "starttls" never falls back to plain text: use'
                    ' the relay\'s TLS port with security = "tls" (usually 465), or "none"'
                    " only for a relay on a network you trust",
                )
            with self._step(f"STARTTLS with {self._where} failed", "check [smtp] security"):
                smtp.starttls(context=context)
                smtp.ehlo_or_helo_if_needed()
        if self.username:
            self._login(smtp)

    def _login(self, smtp: smtplib.SMTP) -> None:
        if not smtp.has_extn("auth"):
            raise RelayError(
                f"{self._where} does not offer AUTH on this connection",
                fix="[smtp] username is set but the relay offers no login here (many offer"
                ' it only over TLS): check [smtp] security and port, or leave username ""',
            )
        with self._step(
            f"login to {self._where} as {self.username!r} failed",
            f"the relay refused the login as {self.username!r}: check [smtp] username"
            " and PUBLISHER_SMTP_PASSWORD",
        ):
            smtp.login(self.username, self.password)

    def _tls_context(self) -> ssl.SSLContext:
        """The verifying context: the system's CA certificates, or only ``ca_file``'s."""
        if self._context is None:
            try:
                self._context = ssl.create_default_context(cafile=self.ca_file or None)
            except (OSError, ValueError) as exc:  # no such file, no certificate in it
                raise RelayError(
                    f"cannot load [smtp] ca_file {self.ca_file!r}: {exc}",
                    fix="[smtp] ca_file must name a readable PEM file of CA certificates",
                ) from exc
        return self._context

    @contextmanager
    def _step(self, what: str, fix: str) -> Iterator[None]:
        """Turn smtplib's, ssl's and the socket's errors of one step into a RelayError."""
        try:
            yield
        except ssl.SSLCertVerificationError as exc:
            name = "that [smtp] host is a name the certificate is for"
            fix = (
                f"check that [smtp] ca_file ({self.ca_file}) holds the CA that signed the"
                f" relay's certificate, and {name}"
                if self.ca_file
                else "if the relay has a private CA or a self-signed certificate, set [smtp]"
                f" ca_file to a PEM file of the CA certificates to trust; check {name}"
            )
            reason = exc.verify_message or str(exc)
            raise RelayError(
                f"the TLS certificate of {self._where} was not accepted: {reason}", fix=fix
            ) from exc
        except ssl.SSLError as exc:
            raise RelayError(
                f"TLS with {self._where} failed: {exc}",
                fix='check [smtp] security and port ("tls": implicit TLS, usually port 465;'
                ' "starttls": usually 587)',
            ) from exc
        except smtplib.SMTPResponseException as exc:  # greeting, EHLO, STARTTLS, AUTH refused
            raise RelayError(text(exc.smtp_error), exc.smtp_code, fix=fix) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, DNS, dropped
            raise RelayError(f"{what}: {exc}", fix=fix) from exc
