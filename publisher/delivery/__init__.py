"""Delivery: send any ``EmailMessage`` bytes through a Transport, draining a queue."""

from publisher.delivery.smtp import SmtpTransport
from publisher.delivery.transport import FileTransport, MemoryTransport, RelayFault, Transport
from publisher.delivery.worker import Policy, Queue, Tally, drain

__all__ = [
    "FileTransport",
    "MemoryTransport",
    "Policy",
    "Queue",
    "RelayFault",
    "SmtpTransport",
    "Tally",
    "Transport",
    "drain",
]
