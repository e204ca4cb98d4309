"""A real clock that tests move by hand: ``Context(wall=FakeClock(NOW))``."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """Callable like ``datetime.now(UTC)``; returns ``start`` until advanced."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
