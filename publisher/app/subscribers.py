"""Use cases of the subscriber list: add, remove, list, import and export (CSV).

CSV columns: ``email,name,categories,status`` (categories separated by ``;``).
Import streams the file and commits in batches, so 100,000 rows take seconds
and constant memory; a bad row is reported with its line and skipped.
Imported rows are active (the operator vouches for their consent) unless
``pending`` asks each to confirm.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from publisher.app.context import Context
from publisher.models import Subscriber, SubscriberStatus
from publisher.store import subscribers as store

__all__ = [
    "CSV_FIELDS",
    "add_subscriber",
    "export_csv",
    "import_csv",
    "list_subscribers",
    "remove_subscriber",
]

CSV_FIELDS = ("email", "name", "categories", "status")


def add_subscriber(
    ctx: Context,
    email: str,
    name: str = "",
    categories: tuple[str, ...] = (),
    pending: bool = False,
) -> Subscriber:
    """Add one address as active (an operator adds it) or pending (asks to confirm)."""
    status: SubscriberStatus = "pending" if pending else "active"
    return store.add_subscriber(
        ctx.engine, email, name=name, categories=categories, status=status, now=ctx.clock()
    )


def remove_subscriber(ctx: Context, email: str) -> bool:
    """Delete an address and everything queued for it; whether it existed."""
    return store.remove_subscriber(ctx.engine, email)


def list_subscribers(ctx: Context, status: SubscriberStatus | None = None) -> Iterator[Subscriber]:
    """Every subscriber (of one status), in the order they were added."""
    return store.iter_subscribers(ctx.engine, status=status)


def import_csv(ctx: Context, handle: IO[str], pending: bool = False) -> store.ImportReport:
    """Import a CSV with a header row (at least ``email``); see the module docstring."""
    reader = csv.DictReader(handle)
    if reader.fieldnames is None or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        return store.ImportReport(
            added=0, updated=0, skipped=0, problems=((1, "no 'email' column"),)
        )

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for row in reader:
            clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            yield reader.line_num, clean

    default: SubscriberStatus = "pending" if pending else "active"
    return store.import_subscribers(ctx.engine, rows(), default_status=default, now=ctx.clock())


def export_csv(ctx: Context, handle: IO[str]) -> int:
    """Write every subscriber as CSV; how many rows were written."""
    writer = csv.writer(handle)
    writer.writerow(CSV_FIELDS)
    count = 0
    for sub in store.iter_subscribers(ctx.engine):
        writer.writerow((sub.email, sub.name, ";".join(sub.categories), sub.status))
        count += 1
    return count
