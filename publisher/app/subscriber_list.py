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
import io
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import IO

from publisher.app.context import Context
from publisher.errors import InputError
from publisher.models import Subscriber, SubscriberStatus
from publisher.store import subscribers as store
from publisher.store.bulk import clean_text, shown

__all__ = [
    "CSV_FIELDS",
    "add_subscriber",
    "export_csv",
    "import_csv",
    "list_subscribers",
    "remove_subscriber",
]

CSV_FIELDS = ("email", "name", "categories", "status")
SAVE_AS_UTF8 = 'in Excel save it as "CSV UTF-8 (Comma delimited)", then import it again'
_DELIMITERS = (",", ";", "\t")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_UNDECODED = re.compile("[\udc80-\udcff]")
Line = tuple[int, str]
Record = tuple[int, list[str] | str]


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


def import_csv(
    ctx: Context, handle: IO[bytes], pending: bool = False, source: str = "CSV"
) -> store.ImportReport:
    """Import a CSV file with a header row naming the columns (at least ``email``).

    Read as UTF-8 (a BOM is fine), with ``,``, ``;`` or tab between cells,
    whichever makes the first line name an ``email`` column. Line ends may be
    ``\\n``, ``\\r\\n`` or ``\\r``; unknown columns are ignored and missing cells
    are blank; fully blank rows are skipped. A row is reported (with its first
    line) and skipped when it is not UTF-8, holds a cell longer than the ``csv``
    module's field limit, or has a bad address, status or name (see
    ``publisher.store.bulk``). A stray quote that swallows the lines after it
    (the quoted cell never closes, or closes in the middle of a cell) skips its
    own row only: the lines after it are read again as rows. If the file cannot
    be read any further, the rows before are imported and the failure reported.

    Raises :class:`InputError` when nothing can be imported: the file is empty,
    UTF-16, or its header has no ``email`` column or names one column twice.
    """
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        feed = _Feed(text)
        delimiter, columns = _header(feed, source)
        problems: list[tuple[int, str]] = []
        rows = _rows(_records(feed, delimiter), columns, problems)
        default: SubscriberStatus = "pending" if pending else "active"
        report = store.import_subscribers(ctx.engine, rows, default_status=default, now=ctx.clock())
    finally:
        text.detach()
    if feed.failure:
        failure = f"cannot be read any further ({feed.failure}); the rows before were imported"
        problems.append((feed.number + 1, failure))
    every = tuple(sorted(report.problems + tuple(problems), key=lambda p: p[0]))
    return replace(report, skipped=report.skipped + len(problems), problems=every)


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


@dataclass
class _Feed:
    """The file's physical lines, numbered; the lines of the record being read; lines to reread."""

    text: IO[str]
    number: int = 0
    taken: list[Line] = field(default_factory=list)
    again: deque[Line] = field(default_factory=deque)
    done: bool = False
    failure: str = ""

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self.again.popleft() if self.again else self.read()
        self.taken.append(line)
        return line[1]

    def read(self) -> Line:
        """The next line of the file; StopIteration at its end or once it cannot be read."""
        if self.failure:
            raise StopIteration
        try:
            text = self.text.readline()
        except OSError as exc:
            self.failure = exc.strerror or str(exc)
            text = ""
        if not text:
            self.done = True
            raise StopIteration
        self.number += 1
        return self.number, text

    @property
    def at_end(self) -> bool:
        """Whether every line was taken: the file is read to its end and none is to be reread."""
        return self.done and not self.again

    def reread_after_first(self) -> None:
        """Read the lines of the current record but its first again, as new records."""
        self.again.extendleft(reversed(self.taken[1:]))
        self.taken.clear()


def _header(feed: _Feed, source: str) -> tuple[str, dict[str, int]]:
    """The delimiter, and the column of each known field, from the first non-blank line."""
    number, line = 0, ""
    while not line.strip():
        try:
            number, line = feed.read()
        except StopIteration:
            if feed.failure:
                raise InputError(source, f"cannot be read: {feed.failure}") from None
            reason = f"is empty: the first line must name the columns, e.g. {','.join(CSV_FIELDS)}"
            raise InputError(source, reason) from None
    _check_encoding(source, number, line)
    for delimiter in _DELIMITERS:
        names = [clean_text(n).replace("\ufeff", "").lower() for n in _split(line, delimiter)]
        if "email" in names:
            return delimiter, _columns(source, number, names)
    found = shown(line.strip(), 60)
    raise InputError(source, f"no 'email' column in the header ({found})", line=number)


def _check_encoding(source: str, number: int, line: str) -> None:
    if line.startswith(("\udcff\udcfe", "\udcfe\udcff")):
        raise InputError(source, f"is UTF-16, not UTF-8: {SAVE_AS_UTF8}", line=number)
    if "\x00" in line:
        raise InputError(source, f"has NUL bytes (UTF-16?), not UTF-8: {SAVE_AS_UTF8}", line=number)
    if _UNDECODED.search(line):
        raise InputError(source, f"not UTF-8: {SAVE_AS_UTF8}", line=number)


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


def _columns(source: str, number: int, names: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in CSV_FIELDS and name in columns:
            where = f"columns {columns[name] + 1} and {index + 1}"
            raise InputError(source, f"two '{name}' columns ({where}): keep one", line=number)
        if name in CSV_FIELDS:
            columns[name] = index
    return columns


def _records(feed: _Feed, delimiter: str) -> Iterator[Record]:
    """Each record's first line and cells, or its first line and why it cannot be read."""
    while True:
        reader = csv.reader(feed, delimiter=delimiter)
        for start, cells in _until_broken(reader, feed, delimiter):
            yield start, cells
            if isinstance(cells, str):
                break
        else:
            return
        feed.reread_after_first()


def _until_broken(reader: Iterator[list[str]], feed: _Feed, delimiter: str) -> Iterator[Record]:
    while True:
        feed.taken.clear()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield feed.taken[0][0], _csv_reason(exc)
            return
        start, broken = feed.taken[0][0], _misquoted(feed.taken, delimiter, feed.at_end)
        if broken:
            yield start, broken
            return
        yield start, cells


def _misquoted(lines: list[Line], delimiter: str, at_end: bool) -> str:
    """Why a record is a stray quote's doing: one over several lines not well formed, or unclosed.

    The lenient reader takes ``"Ann" Smith`` on one line as ``Ann Smith``;
    a quote that swallows the lines after it must at least close where a cell ends.
    """
    if len(lines) == 1 and not at_end:
        return ""
    try:
        for _row in csv.reader((t for _, t in lines), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return 'a quoted cell opened here is never closed (a stray "?)'
        if len(lines) > 1:
            return 'a quoted cell opened here does not close at the end of a cell (a stray "?)'
    return ""


def _csv_reason(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return f"a cell is longer than {csv.field_size_limit():,} characters"
    return f"cannot be read as CSV ({exc})"


def _rows(
    records: Iterator[Record], columns: dict[str, int], problems: list[tuple[int, str]]
) -> Iterator[tuple[int, dict[str, str]]]:
    """The readable rows as ``{field: cell}``; the others go to ``problems``."""
    for line, record in records:
        if isinstance(record, str):
            problems.append((line, record))
            continue
        if not any(cell.strip() for cell in record):
            continue
        cells = {f: record[i] if i < len(record) else "" for f, i in columns.items()}
        if any(_UNDECODED.search(cell) for cell in cells.values()):
            problems.append((line, _not_utf8(cells.values())))
            continue
        yield line, {f: _undefused(cell) for f, cell in cells.items()}


def _not_utf8(cells: Iterable[str]) -> str:
    raw = "".join(cells).encode("utf-8", "surrogateescape")
    try:
        raw.decode("cp932")
    except UnicodeDecodeError:
        return f"not UTF-8: {SAVE_AS_UTF8}"
    return f"not UTF-8 (Shift-JIS?): {SAVE_AS_UTF8}"
