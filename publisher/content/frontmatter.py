"""Split a post file into its YAML front matter and body, keeping line numbers.

Only the head of the file is read when that is enough (the front matter and,
for posts without an excerpt, the first paragraphs), so that scanning ten
thousand 50 KB posts does not read half a gigabyte. Parsing is
python-frontmatter's YAML handler (PyYAML's C loader when available).

A UTF-8 byte-order mark and CRLF line endings are accepted; bytes that are not
UTF-8 are a :class:`~publisher.errors.PostError` with the line they are on.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from publisher.errors import PostError

__all__ = ["Head", "key_line", "load_simple", "read_body", "read_head", "read_more_body"]

HEAD_BYTES = 4096
# python-frontmatter's YAML boundary: a line of three or more dashes.
_BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)
_BOM = "\ufeff"


@dataclass(frozen=True)
class Head:
    """The parsed front matter of one file and as much of its body as was read."""

    meta: dict[str, Any]
    front_matter: str
    body: str
    body_offset: int
    complete: bool


def read_head(path: Path) -> Head:
    """Read and parse the front matter of ``path``, and the start of its body."""
    with path.open("rb") as handle:
        data = handle.read(HEAD_BYTES)
        complete = len(data) < HEAD_BYTES
        text = _decode(path, data, final=complete)
        split = _split(text)
        if split is None and not complete:
            data += handle.read()
            complete = True
            text = _decode(path, data, final=True)
            split = _split(text)
    if not text.startswith("---"):
        raise PostError(path, "no front matter: a post starts with a '---' line", line=1)
    if split is None:
        raise PostError(path, "front matter opened on line 1 is never closed by '---'", line=1)
    front, offset = split
    return Head(_load(path, front), front, text[offset:], offset, complete)


def read_more_body(path: Path, head: Head, chars: int) -> Head:
    """``head`` with at least ``chars`` characters of body (or all of it), YAML not re-parsed."""
    if head.complete or len(head.body) >= chars:
        return head
    with path.open("rb") as handle:
        # UTF-8 needs at most 4 bytes a character.
        limit = HEAD_BYTES + head.body_offset * 4 + chars * 4
        data = handle.read(limit)
    complete = len(data) < limit
    text = _decode(path, data, final=complete)
    return replace(head, body=text[head.body_offset :], complete=complete)


def read_body(path: Path, offset: int) -> str:
    """The whole body of ``path``, from ``offset`` (as returned in :class:`Head`)."""
    data = path.read_bytes()
    return _decode(path, data, final=True)[offset:]


def key_line(front_matter: str, key: str) -> int | None:
    """The 1-based file line of a top-level ``key:`` (the ``---`` is line 1)."""
    match = re.search(rf"^{re.escape(key)}\s*:", front_matter, re.M)
    return None if match is None else front_matter.count("\n", 0, match.start()) + 2


def _decode(path: Path, data: bytes, final: bool) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        text = decoder.decode(data, final=final)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PostError(
            path,
            f"not UTF-8 (byte 0x{data[exc.start]:02x} cannot be decoded); save the file as UTF-8",
            line=line,
        ) from exc
    if text.startswith(_BOM):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _split(text: str) -> tuple[str, int] | None:
    """(front matter text, offset of the body) or None if the block is not closed."""
    first = _BOUNDARY.match(text)
    if first is None:
        return None
    start = text.find("\n", first.start())
    if start < 0:
        return None
    closing = _BOUNDARY.search(text, start + 1)
    if closing is None:
        return None
    end = closing.end()
    if text.startswith("\n", end):
        end += 1
    return text[start + 1 : closing.start()], end


@lru_cache(maxsize=1)
def _handler() -> Any:
    # Imported on first parse only: an unchanged rebuild parses nothing.
    from frontmatter.default_handlers import YAMLHandler

    return YAMLHandler()


# The flat front matter nearly every post has, in forms whose YAML meaning is
# unambiguous: double-quoted strings without escapes, flow lists of those,
# small integers, Jekyll's date string, and single words that YAML 1.1 reads as
# strings. Anything else goes to the YAML parser; tests check both agree.
_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):[ \t]+(.*?)[ \t]*")
_QUOTED = re.compile(r'"([^"\\]*)"')
_QUOTED_LIST = re.compile(r'\[[ \t]*(?:"[^"\\]*"[ \t]*(?:,[ \t]*"[^"\\]*"[ \t]*)*)?\]')
_INT = re.compile(r"0|[1-9][0-9]{0,17}")
_JEKYLL_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def load_simple(front: str) -> dict[str, Any] | None:
    """Parse ``front`` without YAML if it is in the simple flat form, else None.

    >>> load_simple('title: "韓国AI"\\ntags: ["AI", "投資"]\\nreading_time: 8')
    {'title': '韓国AI', 'tags': ['AI', '投資'], 'reading_time': 8}
    >>> load_simple("published: no") is None      # YAML 1.1 reads that as False
    True
    """
    meta: dict[str, Any] = {}
    for line in front.split("\n"):
        if not line or line.isspace():
            continue
        match = _LINE.fullmatch(line)
        if match is None or not line.isprintable():
            return None
        key, raw = match[1], match[2]
        if key in meta or key.lower() in _YAML11_WORDS:
            return None
        if _QUOTED.fullmatch(raw):
            meta[key] = raw[1:-1]
        elif _QUOTED_LIST.fullmatch(raw):
            meta[key] = _QUOTED.findall(raw)
        elif _INT.fullmatch(raw):
            meta[key] = int(raw)
        elif _JEKYLL_DATE.fullmatch(raw) or (
            _WORD.fullmatch(raw) and raw.lower() not in _YAML11_WORDS
        ):
            meta[key] = raw
        else:
            return None
    return meta


def _load(path: Path, front: str) -> dict[str, Any]:
    simple = load_simple(front)
    if simple is not None:
        return simple
    import yaml

    try:
        meta = _handler().load(front)
    except yaml.MarkedYAMLError as exc:
        # Where PyYAML noticed the problem, except for an unclosed bracket or
        # quote: it is noticed lines later, and where it opened is the line to fix.
        mark = exc.problem_mark
        opened = any(word in (exc.context or "") for word in ("flow", "quoted", "scanning a"))
        if exc.context_mark is not None and (mark is None or opened):
            mark = exc.context_mark
        line = mark.line + 2 if mark is not None else 1
        reason = ": ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise PostError(path, f"invalid YAML in front matter: {reason}", line=line) from exc
    except yaml.YAMLError as exc:
        raise PostError(path, f"invalid YAML in front matter: {exc}", line=1) from exc
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        kind = type(meta).__name__
        raise PostError(path, f"front matter must be a mapping of keys, not a {kind}", line=2)
    return meta
