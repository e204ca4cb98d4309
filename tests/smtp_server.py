"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), with optional fault injection.

Also: STARTTLS or implicit TLS with a self-signed certificate for 127.0.0.1
made on the spot, AUTH against a table of passwords, and a bare server that
greets every connection with a refusal.
"""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class RecordingHandler:
    """Accepts mail and keeps it; ``faults`` makes some commands fail.

    faults: probability (0..1) that a RCPT or DATA gets a 4xx, or that the
    connection is dropped at DATA; ``permanent`` maps recipients to a 5xx reply.
    """

    rcpt_fault: float = 0.0
    data_fault: float = 0.0
    drop_fault: float = 0.0
    permanent: dict[str, str] = field(default_factory=dict)
    seed: int = 7
    delay: float = 0.0
    """Seconds each DATA takes, to make a send slow enough to interrupt."""
    pipelining: bool = False
    """Offer PIPELINING (RFC 2920) in the EHLO reply."""
    smtputf8: bool = True
    """Offer SMTPUTF8 (RFC 6531), as aiosmtpd does by default."""
    require_auth: bool = False
    """Refuse MAIL FROM before a successful AUTH (``530 5.7.0 Authentication required``)."""
    mail_reply: str = ""
    """When set, the reply to every MAIL FROM, e.g. ``"530 5.7.0 Authentication required"``."""
    drop_at: set[int] = field(default_factory=set)
    """DATA commands (counted from 1 over all connections) at which the connection is
    cut (TCP reset) without a reply, as a relay restarting or a NAT timing out does."""
    per_connection: int = 0
    """Messages one connection may carry (0: any); then MAIL FROM gets 421 and it closes."""
    messages: list[Received] = field(default_factory=list)
    sessions: int = 0
    mails: int = 0
    """MAIL FROM commands received."""
    datas: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        if not self.smtputf8:
            responses = [line for line in responses if not line.endswith("-SMTPUTF8")]
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        with self.lock:
            self.mails += 1
        if self.mail_reply:
            return self.mail_reply
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if self.per_connection and getattr(session, "carried", 0) >= self.per_connection:
            await server.push("421 4.7.0 too many messages on this connection, closing")
            server.transport.close()
            return "421 closed"  # never sent: the connection is closed
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.permanent:
            return self.permanent[address]
        if self.random.random() < self.rcpt_fault:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.datas += 1
            cut = self.datas in self.drop_at
        if cut:
            server.transport.abort()  # at once, nothing more is written
            return "451 never sent"
        roll = self.random.random()
        if roll < self.drop_fault:
            server.transport.close()
            return "421 closing"
        if roll < self.drop_fault + self.data_fault:
            return "452 4.3.1 insufficient system storage"
        with self.lock:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        session.carried = getattr(session, "carried", 0) + 1
        return "250 Message accepted for delivery"


@dataclass
class Accounts:
    """An aiosmtpd ``authenticator``: these logins with these passwords (PLAIN, LOGIN)."""

    passwords: dict[str, str]
    attempts: int = 0

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.attempts += 1
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self.passwords.get(login) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_smtp(
    handler: RecordingHandler,
    *,
    tls: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    accounts: Accounts | None = None,
) -> Iterator[tuple[str, int]]:
    """aiosmtpd on 127.0.0.1; ``tls``: STARTTLS (required), or implicit TLS with ``implicit_tls``.

    ``accounts``: AUTH offered (over TLS only, when STARTTLS is offered) and required
    before MAIL FROM (``530 5.7.0 Authentication required`` otherwise; sets
    ``handler.require_auth``).
    """
    options: dict[str, Any] = {}
    if tls is not None and implicit_tls:
        options["ssl_context"] = tls
    elif tls is not None:
        options.update(tls_context=tls, require_starttls=True)
    if accounts is not None:
        # aiosmtpd counts only STARTTLS as TLS: over implicit TLS it must not insist. Its
        # auth_required would then warn, so the handler refuses MAIL FROM before AUTH.
        options.update(authenticator=accounts, auth_require_tls=not implicit_tls)
        handler.require_auth = True
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller.hostname, controller.port
    finally:
        controller.stop()


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate (its own CA) for the IP address 127.0.0.1, and its key."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def self_signed_certificate(folder: Path) -> Certificate:
    """Make one in ``folder``: with ``cryptography`` when it is installed, else ``openssl``."""
    folder.mkdir(parents=True, exist_ok=True)
    made = Certificate(folder / "relay.pem", folder / "relay.key")
    try:
        _with_cryptography(made)
    except ImportError:
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt"),
                *("ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"),
                *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
                *("-addext", "basicConstraints=critical,CA:TRUE"),
                *("-addext", "keyUsage=critical,digitalSignature,keyCertSign"),
                *("-keyout", str(made.key), "-out", str(made.cert)),
            ],
            check=True,
            capture_output=True,
        )
    return made


def _with_cryptography(made: Certificate) -> None:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    made.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    made.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@dataclass
class GreetingServer:
    """A bare TCP server on 127.0.0.1 that answers every connection with one line, then closes."""

    greeting: bytes
    connections: int = 0
    listener: socket.socket = field(default_factory=socket.socket)

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # the listener was closed: stop
                return
            with conn:
                self.connections += 1
                conn.sendall(self.greeting)


@contextmanager
def greeting_server(greeting: bytes) -> Iterator[GreetingServer]:
    server = GreetingServer(greeting)
    server.listener.bind(("127.0.0.1", 0))
    server.listener.listen()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.listener.shutdown(socket.SHUT_RDWR)
        server.listener.close()
        thread.join(timeout=5)
