"""Use cases of the editors' web console: what is next, a test copy, a send in the background.

The console (:mod:`publisher.web.console`) shows the next edition, sends a test
copy to one address and starts the real send, which runs in a thread of the
server while the page shows its progress. One send at a time per process;
another process (``publisher run``, a worker, ``digest send``) may deliver
the same edition at once: the outbox makes sure everyone gets it once.

>>> job = SendJob()                                   # doctest: +SKIP
>>> job.start(ctx)                                    # doctest: +SKIP
True
>>> job.snapshot().running                            # doctest: +SKIP
True
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

from publisher.app.context import Context
from publisher.app.editions import EditionPlan, next_plan
from publisher.app.sending import SendReport, send_digest, send_test
from publisher.delivery import Tally
from publisher.errors import PublisherError
from publisher.models import Edition
from publisher.store import count_subscribers, normalise_email, unfinished_edition
from publisher.tokens import sign_form, verify_form

__all__ = [
    "FORM_SECONDS",
    "NextEdition",
    "SendJob",
    "SendState",
    "check_form_token",
    "form_token",
    "next_edition",
    "send_test_copy",
]

FORM_SECONDS = 12 * 3600
"""How long the form token of a console page is accepted."""
_FORM = "console-form"


@dataclass(frozen=True)
class NextEdition:
    """What ``Send now`` would do: resume ``unfinished``, else send ``plan`` (if it has posts)."""

    plan: EditionPlan
    unfinished: Edition | None
    subscribers: dict[str, int]
    """How many subscribers have each status."""


def next_edition(ctx: Context) -> NextEdition:
    """The edition a send would deliver now, and the list's size."""
    plan = next_plan(ctx)
    return NextEdition(plan, unfinished_edition(ctx.engine), count_subscribers(ctx.engine))


def send_test_copy(ctx: Context, to: str) -> str:
    """Send the next edition to ``to`` only (checked like a subscriber's address)."""
    return send_test(ctx, normalise_email(to))


def form_token(ctx: Context) -> str:
    """A signed, dated token for the console's forms (their defence against CSRF)."""
    return sign_form(ctx.secret, _FORM, int(ctx.clock().timestamp()))


def check_form_token(ctx: Context, token: str) -> None:
    """Raise :class:`~publisher.errors.TokenError` unless ``token`` is a fresh form token."""
    verify_form(ctx.secret, _FORM, token, int(ctx.clock().timestamp()), FORM_SECONDS)


@dataclass(frozen=True)
class SendState:
    """A moment of the background send, for the page."""

    running: bool = False
    started: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    """The edition's outbox rows by state, as last reported."""
    sent: int = 0
    failed: int = 0
    rate: float = 0.0
    """Messages a second so far."""
    report: SendReport | None = None
    error: str = ""


class SendJob:
    """The console's send: at most one at a time in this process, stoppable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = SendState()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, ctx: Context) -> bool:
        """Start delivering the next edition in a thread; False if a send is already running."""
        with self._lock:
            if self._state.running:
                return False
            self._stop.clear()
            self._state = SendState(running=True, started=ctx.clock())
            self._thread = threading.Thread(
                target=self._run, args=(ctx,), name="console-send", daemon=True
            )
            self._thread.start()
        return True

    def snapshot(self) -> SendState:
        """The latest state (a copy: safe to read while the send goes on)."""
        with self._lock:
            return self._state

    def stop(self, timeout: float | None = None) -> None:
        """Ask the send to stop after its batch in flight, and wait for it."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, ctx: Context) -> None:
        began = time.monotonic()

        def progress(tally: Tally, counts: dict[str, int]) -> None:
            rate = tally.sent / max(time.monotonic() - began, 1e-6)
            self._update(counts=counts, sent=tally.sent, failed=tally.failed, rate=rate)

        try:
            report = send_digest(ctx, on_progress=progress, should_stop=self._stop.is_set)
        except PublisherError as exc:
            self._update(running=False, error=str(exc))
        except Exception as exc:  # a thread must not die silently: show it on the page
            self._update(running=False, error=f"unexpected error: {exc!r}")
        else:
            tally = report.tally or Tally()
            self._update(
                running=False,
                report=report,
                counts=report.counts,
                sent=tally.sent,
                failed=tally.failed,
            )

    def _update(self, **values: object) -> None:
        with self._lock:
            self._state = replace(self._state, **values)  # type: ignore[arg-type]
