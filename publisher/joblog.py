"""The log lines of ``publisher run`` and ``publisher worker``: their jobs' outcomes, said once.

The use cases return data (:class:`~publisher.app.runner_jobs.RunOutcome`,
:class:`~publisher.app.reloading.SettingsChange`); this module says them in
one line each, in the message catalogue's words (:func:`publisher.words.say`).

>>> from publisher.app import RunOutcome
>>> outcome_line(RunOutcome("feeds", 0.12, "built", ("a.md: bad",), written=2))
'feeds: wrote 2, removed 0 (0.12 s; 1 problem: a.md: bad)'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.words import say

if TYPE_CHECKING:  # only the types: the use cases would load the database and templates
    from publisher.app import RunOutcome, SettingsChange

__all__ = ["change_line", "outcome_line"]

SHOWN_PROBLEMS = 3


def outcome_line(outcome: RunOutcome, lang: str = "en") -> str:
    """``job: what happened (1.23 s; 2 problems: a; b)``."""
    summary = _summary(outcome, lang)
    if outcome.job == "deliver":
        summary = f"{say('run_delivered', lang, delivered=outcome.delivered)}; {summary}"
    tail = f"{outcome.seconds:.2f} s"
    if outcome.problems:
        shown = "; ".join(outcome.problems[:SHOWN_PROBLEMS])
        more = " …" if len(outcome.problems) > SHOWN_PROBLEMS else ""
        key = "problem_one" if len(outcome.problems) == 1 else "problem_many"
        tail += f"; {say(key, lang, count=len(outcome.problems))}: {shown}{more}"
    return f"{outcome.job}: {summary} ({tail})"


def _summary(outcome: RunOutcome, lang: str) -> str:
    if outcome.state == "built":
        text = say("run_feeds", lang, written=outcome.written, removed=outcome.removed)
        if outcome.next_due is not None:
            text += "; " + say("run_next_due", lang, when=outcome.next_due.isoformat())
        return text
    if outcome.state == "paused" and outcome.retry_at is not None:
        return say("run_paused", lang, when=outcome.retry_at.isoformat(timespec="seconds"))
    if outcome.state in ("failed", "paused", "stopped"):
        return say(f"run_{outcome.state}", lang)
    pending = outcome.counts.get("pending", 0)
    text = say(f"send_{outcome.state}", lang, number=outcome.edition, pending=pending)
    counts = ", ".join(f"{state} {n}" for state, n in sorted(outcome.counts.items()))
    return text + (f" ({counts})" if counts else "")


def change_line(change: SettingsChange, lang: str = "en") -> str:
    """What a settings reload did, in one line."""
    if change.error:
        return say("settings_error", lang, error=change.error)
    if change.needs_restart:
        return say("settings_restart", lang, keys=", ".join(change.needs_restart))
    if change.changed:
        return say("settings_reloaded", lang, sections=", ".join(change.changed))
    return say("settings_touched", lang)
