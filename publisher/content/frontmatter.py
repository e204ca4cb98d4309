"""Split a post file into its YAML front matter and body, keeping line numbers.

Only the head of the file is read when that is enough (the front matter and,
for posts without an excerpt, the first paragraphs), so that scanning ten
thousand 50 KB posts does not read half a gigabyte. Parsing is PyYAML's safe
loader (libyaml's when available), imported only when a post needs it.

A UTF-8 byte-order mark and CRLF line endings are accepted; bytes that are not
UTF-8 are a :class:`~publisher.errors.PostError` with the line they are on, and
so is a file over :data:`MAX_POST_BYTES` (told from its size, not read). What
YAML would choke on is cleaned, and what it loads repaired, by
:mod:`publisher.content.yamlsafe`: those are warnings (:attr:`Head.warnings`).
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.errors import PostError

if TYPE_CHECKING:
    from publisher.content.yamlsafe import Note

__all__ = [
    "MAX_POST_BYTES",
    "Head",
    "clean_front",
    "key_line",
    "load_front",
    "load_simple",
    "read_body",
    "read_head",
    "read_more_body",
]

HEAD_BYTES = 4096
# The first customer's posts are 30-70 KB of Markdown (bench/make_corpus.py is
# shaped on them); 8 MiB is over a hundred times that, about 2.8 million
# Japanese characters, more than any article. A bigger file is an export, a log
# or a binary given a post's name: rendering it would take seconds and bloat
# every feed it is in, so it is reported from its size and never read whole.
MAX_POST_BYTES = 8 * 1024 * 1024
# python-frontmatter's YAML boundary: a line of three or more dashes.
_BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)
_BOM = "\ufeff"
# What PyYAML refuses anywhere in a document, even inside quoted strings
# ("unacceptable character #x0001"): the C0 controls but tab and newline, DEL,
# the C1 controls but NEL, U+FFFE/U+FFFF. That is every character XML 1.0
# forbids, plus DEL and C1, which XML allows but no title or tag means to hold.
_REFUSED = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Head:
    """The parsed front matter of one file and as much of its body as was read."""

    meta: dict[str, Any]
    front_matter: str
    body: str
    body_offset: int
    complete: bool
    warnings: tuple[Note, ...] = ()
    """What was removed or repaired to read the front matter (the post is still published)."""


def read_head(path: Path, size: int | None = None) -> Head:
    """Read and parse the front matter of ``path``, and the start of its body.

    ``size``: the file's size if the caller has just stat-ed it (else it is looked up).
    """
    with path.open("rb") as handle:
        _check_size(path, os.fstat(handle.fileno()).st_size if size is None else size)
        data = handle.read(HEAD_BYTES)
        complete = len(data) < HEAD_BYTES
        text = _decode(path, data, final=complete)
        split = _split(text)
        if split is None and not complete:
            data += handle.read(MAX_POST_BYTES + 1 - len(data))
            _check_size(path, len(data))
            complete = True
            text = _decode(path, data, final=True)
            split = _split(text)
    if not text.startswith("---"):
        raise PostError(path, "no front matter: a post starts with a '---' line", line=1)
    if split is None:
        raise PostError(path, "front matter opened on line 1 is never closed by '---'", line=1)
    front, offset = split
    meta, notes = load_front(path, front)
    return Head(meta, front, text[offset:], offset, complete, tuple(notes))


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
    with path.open("rb") as handle:
        data = handle.read(MAX_POST_BYTES + 1)
    _check_size(path, len(data))
    return _decode(path, data, final=True)[offset:]


def _check_size(path: Path, size: int) -> None:
    if size > MAX_POST_BYTES:
        limit = MAX_POST_BYTES // (1024 * 1024)
        raise PostError(path, f"{size:,} bytes is over the {limit} MiB a post may have: not read")


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


def clean_front(front: str) -> tuple[str, list[Note]]:
    """``front`` without the characters YAML refuses, and a warning if there were any.

    Only characters go: lines keep their numbers.

    >>> clean_front('title: "a\\x01b"')
    ('title: "ab"', [(2, 'removed 1 character that XML 1.0 or YAML forbid (U+0001)')])
    """
    first = _REFUSED.search(front)
    if first is None:
        return front, []
    found = _REFUSED.findall(front)
    line = front.count("\n", 0, first.start()) + 2
    codes = ", ".join(f"U+{ord(c):04X}" for c in sorted(set(found))[:5])
    noun = "character" if len(found) == 1 else "characters"
    reason = f"removed {len(found)} {noun} that XML 1.0 or YAML forbid ({codes})"
    return _REFUSED.sub("", front), [(line, reason)]


def load_front(path: Path, front: str) -> tuple[dict[str, Any], list[Note]]:
    """The front matter of ``path`` as a dict, and warnings about what had to be mended.

    The simple flat form is read without YAML (:func:`load_simple`); both
    paths see the same cleaned text, so they agree.
    """
    front, notes = clean_front(front)
    simple = load_simple(front)
    if simple is not None:
        return simple, notes
    from publisher.content.yamlsafe import repair_strings

    meta = _load_yaml(path, front)
    meta, repaired = repair_strings(meta, lambda key: key_line(front, key))
    return meta, notes + repaired


def _load_yaml(path: Path, front: str) -> dict[str, Any]:
    import yaml

    from publisher.content.yamlsafe import ImpossibleValue, load_yaml

    try:
        meta = load_yaml(front)
    except ImpossibleValue as exc:
        line = exc.problem_mark.line + 2 if exc.problem_mark is not None else None
        raise PostError(path, str(exc.problem), line=line) from exc
    except yaml.MarkedYAMLError as exc:
        raise PostError(path, _yaml_reason(exc), line=_yaml_line(exc)) from exc
    except yaml.YAMLError as exc:
        raise PostError(path, f"invalid YAML in front matter: {exc}", line=1) from exc
    except RecursionError as exc:
        raise PostError(path, "front matter is nested too deeply to read") from exc
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        kind = type(meta).__name__
        raise PostError(path, f"front matter must be a mapping of keys, not a {kind}", line=2)
    return meta


def _yaml_line(exc: Any) -> int:
    # Where PyYAML noticed the problem, except for an unclosed bracket or
    # quote: it is noticed lines later, and where it opened is the line to fix.
    mark = exc.problem_mark
    opened = any(word in (exc.context or "") for word in ("flow", "quoted", "scanning a"))
    if exc.context_mark is not None and (mark is None or opened):
        mark = exc.context_mark
    return int(mark.line) + 2 if mark is not None else 1


def _yaml_reason(exc: Any) -> str:
    reason = ": ".join(str(part) for part in (exc.context, exc.problem) if part)
    return f"invalid YAML in front matter: {reason}"
