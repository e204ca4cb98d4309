"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), with optional fault injection."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller


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
    messages: list[Received] = field(default_factory=list)
    sessions: int = 0
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
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_smtp(handler: RecordingHandler) -> Iterator[tuple[str, int]]:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.hostname, controller.port
    finally:
        controller.stop()
