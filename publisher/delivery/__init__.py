"""Delivery: send any ``EmailMessage`` bytes through a Transport, draining a queue."""

from publisher.delivery.smtp import SmtpTransport
from publisher.delivery.transport import FileTransport, MemoryTransport, Transport
from publisher.delivery.worker import Policy, Queue, Tally, drain
from publisher.errors import RelayError

__all__ = [
    "FileTransport",
    "MemoryTransport",
    "Policy",
    "Queue",
    "RelayError",
    "SmtpTransport",
    "Tally",
    "Transport",
    "drain",
]
