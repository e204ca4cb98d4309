"""LoginThrottle: failed console logins, per client and for everyone, with a growing wait.

A client's first ``free`` failures cost nothing; the failure that reaches
``free`` and each one after it make the client wait 2, 4, 8… seconds (at
most ``longest``) before its next attempt is even checked. A client that
fails nothing for ``forget`` is forgotten. Against a guess spread over many
addresses, at most ``ceiling`` failures from everyone are allowed in any
``window``; past that every attempt waits until the oldest leaves the window
(an editor already logged in is not affected). Attempts while waiting are
not checked and not counted. The times are given by the caller (the
context's clock), so a test moves them by hand. Thread-safe; memory stays
bounded (at most ``max_clients`` remembered, the one seen longest ago
forgotten first).

>>> from datetime import UTC, datetime, timedelta
>>> t = datetime(2025, 11, 20, tzinfo=UTC)
>>> throttle = LoginThrottle(free=2)
>>> throttle.failed("192.0.2.7", t), throttle.failed("192.0.2.7", t)
((1, 0), (2, 2))
>>> [throttle.wait("192.0.2.7", t + timedelta(seconds=s)) for s in (1, 2)]
[1, 0]
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["LoginThrottle"]


@dataclass
class _Client:
    failures: int
    last: datetime


class LoginThrottle:
    """When the next login attempt of a client may be checked (see the module docstring)."""

    def __init__(
        self,
        free: int = 5,
        longest: timedelta = timedelta(minutes=15),
        forget: timedelta = timedelta(hours=24),
        ceiling: int = 100,
        window: timedelta = timedelta(hours=1),
        max_clients: int = 10_000,
    ) -> None:
        self.free, self.longest, self.forget = free, longest, forget
        self.ceiling, self.window, self.max_clients = ceiling, window, max_clients
        self._clients: dict[str, _Client] = {}
        self._recent: deque[datetime] = deque()
        self._lock = threading.Lock()

    def wait(self, client: str, now: datetime) -> int:
        """Whole seconds before an attempt of ``client`` is checked (0: now)."""
        with self._lock:
            return max(self._client_wait(client, now), self._global_wait(now))

    def failed(self, client: str, now: datetime) -> tuple[int, int]:
        """Count a wrong password: the client's failures in a row, and the wait now in force."""
        with self._lock:
            known = self._known(client, now)
            known.failures, known.last = known.failures + 1, now
            self._clients.pop(client, None)
            self._clients[client] = known  # most recently seen last
            while len(self._clients) > self.max_clients:
                del self._clients[next(iter(self._clients))]
            self._recent.append(now)
            while len(self._recent) > self.ceiling:
                self._recent.popleft()
            wait = max(self._client_wait(client, now), self._global_wait(now))
            return known.failures, wait

    def succeeded(self, client: str) -> None:
        """The right password: the client starts afresh."""
        with self._lock:
            self._clients.pop(client, None)

    def delay(self, failures: int) -> timedelta:
        """The wait after ``failures`` in a row: none below ``free``, then 2, 4, 8… seconds."""
        if failures < self.free:
            return timedelta(0)
        exponent = min(failures - self.free + 1, 30)
        return min(timedelta(seconds=2**exponent), self.longest)

    def _known(self, client: str, now: datetime) -> _Client:
        known = self._clients.get(client)
        if known is None or now - known.last >= self.forget:
            return _Client(0, now)
        return known

    def _client_wait(self, client: str, now: datetime) -> int:
        known = self._known(client, now)
        return _seconds(known.last + self.delay(known.failures) - now)

    def _global_wait(self, now: datetime) -> int:
        while self._recent and self._recent[0] <= now - self.window:
            self._recent.popleft()
        if self.ceiling <= 0 or len(self._recent) < self.ceiling:
            return 0
        return _seconds(self._recent[0] + self.window - now)


def _seconds(wait: timedelta) -> int:
    return max(0, math.ceil(wait.total_seconds()))
