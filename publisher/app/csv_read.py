"""Reading a CSV file from a spreadsheet: which encoding, and its records line by line.

The encoding is ``--encoding``'s, or chosen from the whole file (it is read
once before the import, so 100,000 rows cost a second pass, not memory):

1. a UTF-8 byte order mark: ``utf-8-sig``;
2. valid UTF-8 (ASCII too): ``utf-8``;
3. else ``cp932`` if the whole file decodes as it (Shift-JIS as Japanese Excel
   saves a CSV; bytes it maps to private-use characters or NUL do not count);
4. else UTF-8 anyway: the rows that are not are reported and skipped.

A file that is not seekable (a pipe) is copied to a temporary file first. A
file that cannot be read to its end is judged on what could be read, and the
import then stops where the reading failed, as it would have.

The records are the ``csv`` module's, fed one physical line at a time
(:class:`Feed`), so a stray quote that swallows the lines after it costs its
own row only: those lines are read again as rows.

>>> choose_encoding(io.BytesIO("email\\n山田@example.jp\\n".encode("cp932")), "auto", "x")[1]
Decoding(codec='cp932', reason='not UTF-8, but Shift-JIS (cp932), as Japanese Excel saves CSV')
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from publisher.errors import InputError

__all__ = ["AUTO", "Decoding", "Feed", "Line", "Record", "choose_encoding", "records"]

AUTO = "auto"
Line = tuple[int, str]
Record = tuple[int, list[str] | str]
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# What cp932 decodes bytes to that no Shift-JIS text holds: NUL (UTF-16?), 0x80, and
# private-use characters (user-defined lead bytes 0xF0-0xF9, and 0xA0, 0xFD-0xFF).
_NOT_SHIFT_JIS = re.compile("[\x00\x80\ue000-\uf8ff]")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Decoding:
    """How the file is decoded: the codec for ``TextIOWrapper``, and why it was chosen."""

    codec: str
    reason: str

    @property
    def name(self) -> str:
        """The encoding as the operator reads it (``utf-8`` for ``utf-8-sig``)."""
        return "utf-8" if self.codec == "utf-8-sig" else self.codec

    @property
    def is_utf8(self) -> bool:
        """Whether this is UTF-8 (with or without a byte order mark)."""
        return self.name == "utf-8"


def choose_encoding(handle: IO[bytes], asked: str, source: str) -> tuple[IO[bytes], Decoding]:
    """A seekable handle at the file's start, and how to decode it (``asked``: a codec or auto).

    Raises :class:`InputError` for an encoding Python does not know.
    """
    if asked != AUTO:
        try:
            codec = codecs.lookup(asked).name
        except LookupError:
            raise InputError(source, f"unknown encoding {asked!r} (try utf-8 or cp932)") from None
        codec = "utf-8-sig" if codec == "utf-8" else codec  # a BOM is still no cell
        return handle, Decoding(codec, "as --encoding asked")
    data = handle if handle.seekable() else _spooled(handle)
    start = data.read(4)
    data.seek(0)
    if start.startswith(codecs.BOM_UTF8):
        return data, Decoding("utf-8-sig", "it starts with a UTF-8 byte order mark")
    if _decodes(data, "utf-8"):
        return data, Decoding("utf-8-sig", "valid UTF-8")
    if not start.startswith(_UTF16_BOMS) and _decodes(data, "cp932", _NOT_SHIFT_JIS):
        return data, Decoding(
            "cp932", "not UTF-8, but Shift-JIS (cp932), as Japanese Excel saves CSV"
        )
    return data, Decoding("utf-8-sig", "neither UTF-8 nor Shift-JIS: rows not in UTF-8 are skipped")


def _decodes(data: IO[bytes], codec: str, unwanted: re.Pattern[str] | None = None) -> bool:
    """Whether all of ``data`` (what can be read of it) decodes as ``codec``; seeks back."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        while True:
            try:
                chunk = data.read(_CHUNK)
            except OSError:
                chunk = b""  # judged on what could be read: the import stops there too
            text = decoder.decode(chunk, final=not chunk)
            if unwanted is not None and unwanted.search(text):
                return False
            if not chunk:
                return True
    except UnicodeDecodeError:
        return False
    finally:
        data.seek(0)


def _spooled(handle: IO[bytes]) -> IO[bytes]:
    """A temporary copy of a file that cannot seek (a pipe); failing at its end if reading did."""
    copy = tempfile.TemporaryFile()  # noqa: SIM115 (returned open; import_csv closes it)
    read = getattr(handle, "read1", handle.read)  # read1: nothing read is lost to an error
    try:
        while chunk := read(_CHUNK):
            copy.write(chunk)
    except OSError as exc:
        copy.seek(0)
        return io.BufferedReader(_FailsAtEnd(copy, exc))
    copy.seek(0)
    return copy


class _FailsAtEnd(io.RawIOBase):
    """What could be copied of a file, then the error that stopped the copy."""

    def __init__(self, copy: IO[bytes], error: OSError) -> None:
        self.copy, self.error = copy, error

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.copy.seek(offset, whence)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self.copy.read(len(buffer))
        if not chunk:
            raise self.error
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self.copy.close()
        super().close()


@dataclass
class Feed:
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


def records(feed: Feed, delimiter: str) -> Iterator[Record]:
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


def _until_broken(reader: Iterator[list[str]], feed: Feed, delimiter: str) -> Iterator[Record]:
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
