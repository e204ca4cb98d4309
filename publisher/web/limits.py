"""RateLimit: at most N requests per client in a sliding window, in memory.

The subscribe form is public: without a limit one client could fill the list
with made-up addresses, each of which gets a confirmation mail from the
site's domain. The count is kept per process (a restart forgets it), which is
enough to stop a script; a site with several web processes should limit at
its proxy as well. IPv6 clients are counted per /64, the block one
connection is usually given, so a client cannot dodge the limit by changing
the last 64 bits of its address.

>>> limit = RateLimit(2, timedelta(hours=1))
>>> from datetime import UTC
>>> t = datetime(2025, 11, 20, tzinfo=UTC)
>>> [limit.allow("192.0.2.7", t) for _ in range(3)]
[True, True, False]
>>> limit.retry_after("192.0.2.7", t)
3600
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections import deque
from datetime import datetime, timedelta

__all__ = ["PROXY", "RateLimit", "client_key", "forwarded_client"]

PROXY = "(proxy)"
"""The client of a request whose connecting address the server replaced (see below)."""
_MAX_HOST = 64


def client_key(host: str | None) -> str:
    """What one client is counted as: its IPv4 address, its IPv6 /64, or the text given."""
    if not host:
        return "?"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def forwarded_client(
    peer: str | None, forwarded: list[str], trusted: tuple[str, ...], port: int = 1
) -> str | None:
    """Who sent a request: ``peer``, or from a ``trusted`` proxy the ``X-Forwarded-For`` client.

    From a trusted address the hops are read right to left (each proxy
    appends the address it was reached from) and the first untrusted one is
    the client. Anyone else's ``X-Forwarded-For`` is ignored. A ``peer``
    that is one of the hops, or whose ``port`` is 0, was put there by the
    server (uvicorn's ``proxy_headers``, on by default for 127.0.0.1): the
    address that connected is lost, so the request counts as the proxy's
    (:data:`PROXY`) unless proxies are trusted, when the hops are read as
    from a trusted one.

    >>> forwarded_client("127.0.0.1", ["203.0.113.9, 198.51.100.4"], ("127.0.0.1",))
    '198.51.100.4'
    >>> forwarded_client("127.0.0.1", ["203.0.113.9"], ())
    '127.0.0.1'
    >>> forwarded_client("203.0.113.9", ["203.0.113.9"], ())
    '(proxy)'
    """
    hops = [hop.strip()[:_MAX_HOST] for value in forwarded for hop in value.split(",")]
    hosts = [_host(hop) for hop in hops if hop]
    if not hosts:
        return peer
    networks = [ipaddress.ip_network(entry, strict=False) for entry in trusted]
    rewritten = peer in hosts or port == 0
    if rewritten and not networks:
        return PROXY
    if not (rewritten or _within(peer, networks)):
        return peer
    for host in reversed(hosts):
        if not _within(host, networks):
            return host
    return hosts[0]


def _host(hop: str) -> str:
    """The address of one ``X-Forwarded-For`` hop (``[v6]:port`` and ``v4:port`` lose the port)."""
    if hop.startswith("["):
        return hop[1:].partition("]")[0]
    return hop.partition(":")[0] if hop.count(":") == 1 else hop


def _within(
    host: str | None, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


class RateLimit:
    """At most ``limit`` allowed calls per key in any ``window``; ``limit`` 0 allows all.

    At most ``max_keys`` clients are remembered; past that the one seen
    longest ago is forgotten first, so memory stays bounded under a flood of
    addresses. Thread-safe.
    """

    def __init__(self, limit: int, window: timedelta, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: datetime) -> bool:
        """Whether ``key`` may make one more request at ``now``; an allowed one is counted."""
        if self.limit <= 0:
            return True
        with self._lock:
            times = self._recent(key, now)
            if len(times) >= self.limit:
                return False
            times.append(now)
            self._seen[key] = self._seen.pop(key, times)  # most recently seen last
            while len(self._seen) > self.max_keys:
                del self._seen[next(iter(self._seen))]
            return True

    def retry_after(self, key: str, now: datetime) -> int:
        """Whole seconds until ``key`` may make a request again (0: now)."""
        with self._lock:
            times = self._recent(key, now)
            if self.limit <= 0 or len(times) < self.limit:
                return 0
            wait = times[0] + self.window - now
        return max(1, math.ceil(wait.total_seconds()))

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._seen.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
