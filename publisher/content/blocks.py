"""A post body as Markdown blocks with their lines: what the content checks look at.

Not a Markdown parser: a line-based reading of CommonMark's block structure
that is enough to tell paragraphs from headings, lists, tables, quotes, raw
HTML and code (whose lines are never checked), and to find the marker lines a
post generator leaves behind (see :func:`marker_matcher`).

>>> [(b.kind, b.first, b.text) for b in split_blocks("# T\\n\\nOne\\ntwo.\\n---END---\\n", 5)]
[('heading', 5, '# T'), ('paragraph', 7, 'One two.'), ('marker', 9, '---END---')]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import NamedTuple

from publisher.config.model import DEFAULT_MARKER

__all__ = ["Block", "marker_lines", "split_blocks"]

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r" {0,3}#{1,6}(?:\s|$)")
_SETEXT = re.compile(r" {0,3}(?:=+|-+)\s*")
_RULE = re.compile(r" {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})")
_LIST = re.compile(r" {0,3}(?:[*+-]|\d{1,9}[.)])(?:\s|$)")
_STARTS = (("quote", re.compile(r" {0,3}>")), ("table", re.compile(r" {0,3}\|")))
_BLOCK_STARTS = frozenset("`~#=-*_+0123456789")
_ANY_START = _BLOCK_STARTS | frozenset(" \t>|<")
_HTML = re.compile(r" {0,3}</?[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)|<!--")


class Block(NamedTuple):
    """One block: its kind, first and last line (1-based, in the file), text (spaces folded)."""

    kind: str
    """paragraph, heading, list, quote, table, html, code, rule or marker."""
    first: int
    last: int
    text: str
    blank_after: int = 0
    """Blank lines after it: two or more is where a generator's chunk ended, in some posts."""


@lru_cache(maxsize=8)
def marker_lines(specs: tuple[str, ...] = (DEFAULT_MARKER,)) -> re.Pattern[str]:
    """The pattern of every marker line of a text: ``/regex/`` matches the whole line (spaces
    around it aside), any other spec is the line itself.

    >>> [m.group().strip() for m in marker_lines().finditer("a\\n---END---\\n---\\n --- GO ---")]
    ['---END---', '--- GO ---']
    """
    parts = [s[1:-1] if _is_regex(s) else re.escape(s.strip()) for s in specs]
    either = "|".join(f"(?:{part})" for part in parts)
    return re.compile(rf"^[ \t]*(?:{either})[ \t]*$", re.M)


def _is_regex(spec: str) -> bool:
    return len(spec) > 2 and spec.startswith("/") and spec.endswith("/")


def split_blocks(
    body: str, first_line: int = 1, markers: tuple[str, ...] = (DEFAULT_MARKER,)
) -> list[Block]:
    """The blocks of ``body``, whose first line is line ``first_line`` of the file."""
    found = frozenset(body.count("\n", 0, m.start()) for m in marker_lines(markers).finditer(body))
    text = _Lines(body.split("\n"), found)
    blocks: list[Block] = []
    index = 0
    count = len(text.lines)
    while index < count:
        line = text.lines[index]
        if not line.strip():
            blank = index
            while index < count and not text.lines[index].strip():
                index += 1
            if blocks:
                blocks[-1] = blocks[-1]._replace(blank_after=index - blank)
            continue
        kind, end = _block_at(text, index)
        folded = " ".join(" ".join(text.lines[index:end]).split())
        if kind == "paragraph" and end < len(text.lines) and _SETEXT.fullmatch(text.lines[end]):
            kind, end = "heading", end + 1
        elif kind == "code" and blocks and blocks[-1].kind == "list" and not _FENCE.match(line):
            kind = "list"  # an indented paragraph of the list item before
        blocks.append(Block(kind, first_line + index, first_line + end - 1, folded))
        index = end
    return blocks


class _Lines(NamedTuple):
    lines: list[str]
    markers: frozenset[int]
    """Indices of the marker lines."""


def _block_at(text: _Lines, index: int) -> tuple[str, int]:
    """The kind of the block starting at line ``index`` and the index just after it."""
    line = text.lines[index]
    if line[:1] not in _ANY_START and index not in text.markers:
        return "paragraph", _run_end(text, index + 1, lambda i: not _interrupts(text, i))
    fence = _FENCE.match(line)
    if fence:
        return "code", _fence_end(text.lines, index, fence.group(1))
    if index in text.markers:
        return "marker", index + 1
    if _HEADING.match(line):
        return "heading", index + 1
    if _RULE.fullmatch(line.rstrip()):
        return "rule", index + 1
    if line.startswith(("    ", "\t")):
        return "code", _run_end(text, index, lambda i: text.lines[i].startswith(("    ", "\t")))
    if _LIST.match(line):
        return "list", _run_end(text, index + 1, lambda i: not _interrupts(text, i, True))
    for kind, start in _STARTS:
        if start.match(line):
            return kind, _run_end(text, index + 1, lambda i: not _interrupts(text, i))
    if _HTML.match(line):
        return "html", _run_end(text, index + 1, lambda i: True)
    return "paragraph", _run_end(text, index + 1, lambda i: not _interrupts(text, i))


def _interrupts(text: _Lines, index: int, in_list: bool = False) -> bool:
    """Whether line ``index`` ends the paragraph (or list item) before it and starts a block."""
    line = text.lines[index]
    if index in text.markers:
        return True
    if line.lstrip(" ")[:1] not in _BLOCK_STARTS:
        return False  # most lines of prose: no pattern below can match
    if _FENCE.match(line) or _HEADING.match(line):
        return True
    if _SETEXT.fullmatch(line) or _RULE.fullmatch(line.rstrip()):
        return True
    return not in_list and _LIST.match(line) is not None


def _run_end(text: _Lines, index: int, keeps: Callable[[int], bool]) -> int:
    lines = text.lines
    while index < len(lines) and lines[index].strip() and keeps(index):
        index += 1
    return index


def _fence_end(lines: Sequence[str], index: int, fence: str) -> int:
    closing = re.compile(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*")
    for end in range(index + 1, len(lines)):
        if closing.fullmatch(lines[end]):
            return end + 1
    return len(lines)
