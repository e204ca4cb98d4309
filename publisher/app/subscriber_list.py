"""Use cases of the subscriber list: add, remove, list, import and export (CSV).

CSV columns: ``email,name,categories,status`` (categories separated by ``;``).
Import streams the file and commits in batches, so 100,000 rows take seconds
and constant memory. Imported rows are active (the operator vouches for their
consent) unless ``pending`` asks each to confirm.

The file comes from a spreadsheet, so import expects anything (see
:func:`import_csv`): every row that can be read is imported, and every one
that cannot is reported with its line and why; only a file with no usable
header raises :class:`~publisher.errors.InputError`.

Export writes what import reads back. A cell starting with ``=``, ``+``, ``-``
or ``@`` (or a tab or carriage return) is written with a leading ``'``, as
OWASP recommends against CSV injection: a spreadsheet shows it as text instead
of running it as a formula. Import takes that ``'`` off again.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO

from publisher.app.context import Context
from publisher.app.csv_header import CSV_FIELDS, UNDECODED, UTF8, not_decoded, read_header
from publisher.app.csv_read import AUTO, Decoding, Feed, Record, choose_encoding, records
from publisher.app.signup import site_categories
from publisher.models import Subscriber, SubscriberStatus
from publisher.store import subscribers as store
from publisher.store.bulk import shown

__all__ = [
    "CSV_FIELDS",
    "CsvReport",
    "add_subscriber",
    "export_csv",
    "import_csv",
    "list_subscribers",
    "printable",
    "remove_subscriber",
    "unknown_categories",
]

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


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


@dataclass(frozen=True)
class CsvReport(store.ImportReport):
    """What an import did, how the file was decoded, and what is worth a look."""

    decoding: Decoding = UTF8
    warnings: tuple[str, ...] = ()
    """Columns ignored, categories the site does not have: nothing refused, all imported."""


def import_csv(
    ctx: Context,
    handle: IO[bytes],
    pending: bool = False,
    source: str = "CSV",
    encoding: str = AUTO,
) -> CsvReport:
    """Import a CSV file with a header row naming the columns (at least ``email``).

    ``encoding`` is a codec name, or ``auto``: a UTF-8 BOM, else UTF-8, else
    cp932 (Japanese Excel) if the whole file decodes as it, else UTF-8 (see
    ``publisher.app.csv_read``); the report says which, and why. Cells are
    separated by ``,``, ``;`` or tab, whichever makes the first line name an
    ``email`` column. Line ends may be ``\\n``, ``\\r\\n`` or ``\\r``;
    unknown columns are ignored (with a warning) and missing cells are blank;
    fully blank rows are skipped. A row is reported (with its first line) and
    skipped when it is not in the encoding, holds a cell longer than the
    ``csv`` module's field limit, or has a bad address, status or name (see
    ``publisher.store.bulk``). A stray quote that swallows the lines after it
    (the quoted cell never closes, or closes in the middle of a cell) skips its
    own row only: the lines after it are read again as rows. If the file cannot
    be read any further, the rows before are imported and the failure reported.
    Categories the site does not have are imported, and warned about.

    Raises :class:`InputError` when nothing can be imported: the file is empty,
    UTF-16, or its header has no ``email`` column (the error says which columns
    it found) or names one column twice; or ``encoding`` is unknown.
    """
    data, decoding = choose_encoding(handle, encoding, source)
    text = io.TextIOWrapper(data, encoding=decoding.codec, errors="surrogateescape", newline="")
    try:
        feed = Feed(text)
        header = read_header(feed, source, decoding)
        problems: list[tuple[int, str]] = []
        rows = _rows(records(feed, header.delimiter), header.columns, decoding, problems)
        default: SubscriberStatus = "pending" if pending else "active"
        report = store.import_subscribers(ctx.engine, rows, default_status=default, now=ctx.clock())
    finally:
        text.detach()
        if data is not handle:
            data.close()
    if feed.failure:
        failure = f"cannot be read any further ({feed.failure}); the rows before were imported"
        problems.append((feed.number + 1, failure))
    every = tuple(sorted(report.problems + tuple(problems), key=lambda p: p[0]))
    warnings = header.warnings + unknown_categories(ctx, report.categories)
    return CsvReport(
        **{**vars(report), "skipped": report.skipped + len(problems), "problems": every},
        decoding=decoding,
        warnings=warnings,
    )


def unknown_categories(ctx: Context, chosen: Mapping[str, int]) -> tuple[str, ...]:
    """A warning for each category in ``chosen`` (name → subscribers) that the site does not have.

    The site's categories are those of its published posts and of ``[categories]``.
    """
    if not chosen:
        return ()
    known = set(site_categories(ctx)) | set(ctx.config.categories)
    warnings: list[str] = []
    for name, count in chosen.items():
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f" (did you mean '{shown(close[0])}'?)" if close else ""
        who = "1 subscriber chose it" if count == 1 else f"{count:,} subscribers chose it"
        warnings.append(
            f"category '{shown(name)}' is not one the site has: {who}, and no post of it"
            f" will reach them{hint}"
        )
    return tuple(warnings)


def printable(text: str) -> str:
    """``text`` safe to print: control characters, bidi overrides and line breaks escaped.

    >>> printable("Ann\\x1b]0;owned\\x07")
    'Ann\\\\u001b]0;owned\\\\u0007'
    """
    return shown(text, limit=len(text))


def export_csv(ctx: Context, handle: IO[str]) -> int:
    """Write every subscriber as CSV (formula-like cells prefixed with ``'``); how many rows."""
    writer = csv.writer(handle)
    writer.writerow(CSV_FIELDS)
    count = 0
    for sub in store.iter_subscribers(ctx.engine):
        cells = (sub.email, sub.name, ";".join(sub.categories), sub.status)
        writer.writerow([_defused(cell) for cell in cells])
        count += 1
    return count


def _looks_like_formula(cell: str) -> bool:
    """Whether export prefixes ``cell`` with ``'`` (``'=…`` too, so import can tell them apart)."""
    return cell.lstrip("'").startswith(_FORMULA)


def _defused(cell: str) -> str:
    return "'" + cell if _looks_like_formula(cell) else cell


def _undefused(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and _looks_like_formula(cell[1:]) else cell


def _rows(
    records: Iterator[Record],
    columns: dict[str, int],
    decoding: Decoding,
    problems: list[tuple[int, str]],
) -> Iterator[tuple[int, dict[str, str]]]:
    """The readable rows as ``{field: cell}``; the others go to ``problems``."""
    for line, record in records:
        if isinstance(record, str):
            problems.append((line, record))
            continue
        if not any(cell.strip() for cell in record):
            continue
        cells = {f: record[i] if i < len(record) else "" for f, i in columns.items()}
        if any(UNDECODED.search(cell) for cell in cells.values()):
            raw = "".join(cells.values()).encode("utf-8", "surrogateescape")
            problems.append((line, not_decoded(decoding, raw)))
            continue
        yield line, {f: _undefused(cell) for f, cell in cells.items()}
