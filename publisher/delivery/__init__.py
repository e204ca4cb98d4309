"""Delivery: send any ``EmailMessage`` bytes through a Transport, draining a queue."""

from publisher.delivery.transport import FileTransport, MemoryTransport, SmtpTransport, Transport
from publisher.delivery.worker import Policy, Queue, Tally, drain

__all__ = [
    "FileTransport",
    "MemoryTransport",
    "Policy",
    "Queue",
    "SmtpTransport",
    "Tally",
    "Transport",
    "drain",
]
