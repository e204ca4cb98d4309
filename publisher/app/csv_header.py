"""The header of an imported CSV file: its delimiter and which column holds which field.

The first non-blank line names the columns; the delimiter is ``,``, ``;`` or a
tab, whichever makes that line name an ``email`` column. When none does, the
error says which columns the line was read as; columns publisher does not
read are reported as ignored (a typo such as ``nmae`` would lose every name).

>>> import io
>>> header = read_header(Feed(io.StringIO("Email;Nmae\\n")), "list.csv", UTF8)
>>> header.delimiter, header.columns
(';', {'email': 0})
>>> header.warnings[0]
"column 2, 'nmae', is ignored: the columns read are email, name, categories, status"
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from publisher.app.csv_read import Decoding, Feed
from publisher.errors import InputError
from publisher.store.bulk import clean_text, shown

__all__ = ["CSV_FIELDS", "UTF8", "Header", "not_decoded", "read_header"]

CSV_FIELDS = ("email", "name", "categories", "status")
UTF8 = Decoding("utf-8-sig", "valid UTF-8")
SAVE_AS_UTF8 = 'in Excel save it as "CSV UTF-8 (Comma delimited)", then import it again'
_DELIMITERS = (",", ";", "\t")
_SHOWN_COLUMNS = 8
UNDECODED = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Header:
    """The delimiter, the column (0-based) of each field present, and what was ignored."""

    delimiter: str
    columns: dict[str, int]
    warnings: tuple[str, ...] = ()


def read_header(feed: Feed, source: str, decoding: Decoding) -> Header:
    """The header from the first non-blank line, or :class:`InputError` saying why it is none."""
    number, line = 0, ""
    while not line.strip():
        try:
            number, line = feed.read()
        except StopIteration:
            if feed.failure:
                raise InputError(source, f"cannot be read: {feed.failure}") from None
            reason = f"is empty: the first line must name the columns, e.g. {','.join(CSV_FIELDS)}"
            raise InputError(source, reason) from None
    _check_encoding(source, number, line, decoding)
    found: list[str] = []
    for delimiter in _DELIMITERS:
        names = [clean_text(n).replace("\ufeff", "").lower() for n in _split(line, delimiter)]
        if "email" in names:
            return Header(delimiter, _columns(source, number, names), _ignored(names))
        found = names if len(names) > len(found) else found
    raise InputError(source, _no_email(found), line=number)


def not_decoded(decoding: Decoding, raw: bytes) -> str:
    """Why a row that is not in ``decoding`` is skipped (``raw``: its bytes)."""
    if not decoding.is_utf8:
        return f"not {decoding.name}: give the file's encoding with --encoding"
    try:
        raw.decode("cp932")
    except UnicodeDecodeError:
        return f"not UTF-8: {SAVE_AS_UTF8}"
    return f"not UTF-8 (Shift-JIS?): {SAVE_AS_UTF8}"


def _check_encoding(source: str, number: int, line: str, decoding: Decoding) -> None:
    if line.startswith(("\udcff\udcfe", "\udcfe\udcff")):
        raise InputError(source, f"is UTF-16, not UTF-8: {SAVE_AS_UTF8}", line=number)
    if "\x00" in line:
        raise InputError(source, f"has NUL bytes (UTF-16?), not UTF-8: {SAVE_AS_UTF8}", line=number)
    if UNDECODED.search(line):
        raw = line.encode("utf-8", "surrogateescape")
        raise InputError(source, not_decoded(decoding, raw), line=number)


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


def _ignored(names: list[str]) -> tuple[str, ...]:
    known = ", ".join(CSV_FIELDS)
    return tuple(
        f"column {index}, '{shown(name, 40)}', is ignored: the columns read are {known}"
        for index, name in enumerate(names, 1)
        if name and name not in CSV_FIELDS
    )


def _no_email(names: list[str]) -> str:
    listed = ", ".join(f"'{shown(name, 40)}'" for name in names[:_SHOWN_COLUMNS])
    more = f" and {len(names) - _SHOWN_COLUMNS} more" if len(names) > _SHOWN_COLUMNS else ""
    count = f"{len(names)} column{'s' if len(names) != 1 else ''}"
    return (
        f"no 'email' column in the header: found {count} ({listed}{more}) with ',', ';' or a"
        f" tab between them; the first line must name the columns, e.g. {','.join(CSV_FIELDS)}"
    )
