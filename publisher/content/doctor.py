"""The checks of ``publisher check`` on one post: what a post generator leaves behind.

Pure: :func:`check_post` takes a post's text and front matter (read by the
caller) and gives every :class:`~publisher.content.frontcheck.Finding`, each
with its line in the file. The kinds, and what each means, are in README.md
("publisher check"):

``marker``, ``replacement-character``, ``control-character``, ``cut-off``,
``repeat``, ``near-repeat``, ``title-line``, ``excerpt``, ``unknown-key``,
``no-category``, ``dead-link``, ``image-alt``, ``date-mismatch`` (and
``unreadable``: what keeps the build from reading the file).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

from publisher.config import Settings
from publisher.content.blocks import Block, split_blocks
from publisher.content.cleaning import title_block
from publisher.content.frontcheck import Finding, check_front
from publisher.content.links import LINK, POST_URL, LinkIndex
from publisher.content.repeats import Repeat, find_repeats

__all__ = ["KINDS", "Finding", "check_post", "ends_sentence"]

KINDS = (
    "marker",
    "replacement-character",
    "control-character",
    "cut-off",
    "repeat",
    "near-repeat",
    "title-line",
    "excerpt",
    "unknown-key",
    "no-category",
    "dead-link",
    "image-alt",
    "date-mismatch",
    "unreadable",
)
# What may end a sentence: Japanese (。．！？…」』）】〉》 and the like) and English
# (.!?"') with closing quotes and brackets; markup after it (**, _, `) is ignored.
_ENDS = frozenset("。．！？!?.…‥」』）)］]】〉》>\"'”’〕｣")
_TRAILING_MARKUP = "*_~` \t"
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)")
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.I)
_ALT = re.compile(r"\balt\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.I)
_SRC = re.compile(r"\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.I)
_TEXT_KINDS = frozenset({"paragraph", "list", "quote", "table", "heading", "html"})


def check_post(
    relpath: str,
    text: str,
    body_offset: int,
    meta: dict[str, Any],
    front: str,
    settings: Settings,
    links: LinkIndex | None = None,
    url: str = "",
) -> list[Finding]:
    """Every finding in one post: ``text`` is the whole file, the body from ``body_offset``."""
    first = text.count("\n", 0, body_offset) + 1
    blocks = split_blocks(text[body_offset:], first, settings.content.markers)
    lines = text.split("\n")
    title = meta.get("title")
    findings = [
        *_characters(relpath, text),
        *_markers(relpath, blocks),
        *_cut_off(relpath, blocks),
        *_repeat_findings(relpath, find_repeats(blocks)),
        *_title_line(relpath, blocks, title if isinstance(title, str) else ""),
        *check_front(relpath, meta, front, settings),
        *_images(relpath, lines, blocks),
    ]
    if links is not None:
        findings += _dead_links(relpath, lines, blocks, links, url)
    return sorted(findings, key=lambda f: (f.line, KINDS.index(f.kind)))


def ends_sentence(text: str) -> bool:
    """Whether a paragraph ends as a sentence does (Japanese or English), not mid-phrase.

    >>> ends_sentence("終わりです。**"), ends_sentence("その理由が説明でき"), ends_sentence("Done.")
    (True, False, True)
    """
    stripped = text.rstrip(_TRAILING_MARKUP)
    if not stripped:
        return True
    last = stripped[-1]
    return last in _ENDS or unicodedata.category(last) == "So"  # an emoji ends one too


def _characters(relpath: str, text: str) -> Iterator[Finding]:
    if "\ufffd" not in text and _CONTROL.search(text) is None:
        return
    for number, line in enumerate(text.split("\n"), 1):
        if "\ufffd" in line:
            count = line.count("\ufffd")
            where = _context(line, line.index("\ufffd"))
            message = f"{count} × U+FFFD, text lost when the file was decoded: {where}"
            yield Finding(path=relpath, line=number, kind="replacement-character", message=message)
        control = _CONTROL.search(line)
        if control is not None:
            code = f"U+{ord(control.group()):04X}"
            message = (
                f"control character {code}, which feeds drop: {_context(line, control.start())}"
            )
            yield Finding(path=relpath, line=number, kind="control-character", message=message)


def _context(line: str, at: int) -> str:
    shown = line[max(0, at - 15) : at + 15]
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", shown)
    return repr(shown)


def _markers(relpath: str, blocks: Sequence[Block]) -> Iterator[Finding]:
    for block in blocks:
        if block.kind == "marker":
            message = f"generation marker {block.text!r}: delete it (and what is repeated after it)"
            yield Finding(path=relpath, line=block.first, kind="marker", message=message)


def _cut_off(relpath: str, blocks: Sequence[Block]) -> Iterator[Finding]:
    """A paragraph ending mid-sentence where a chunk ended: before a marker, a gap, or the end."""
    for index, block in enumerate(blocks):
        if block.kind != "paragraph" or ends_sentence(block.text):
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if following is None:
            where = "at the end of the body"
        elif following.kind == "marker":
            where = f"before the marker on line {following.first}"
        elif block.blank_after >= 2:
            where = f"before {block.blank_after} blank lines, where a generated chunk ended"
        else:
            continue
        tail = block.text[-20:]
        message = f"the paragraph stops mid-sentence {where}: …{tail!r}"
        yield Finding(path=relpath, line=block.last, kind="cut-off", message=message)


def _repeat_findings(relpath: str, repeats: Sequence[Repeat]) -> Iterator[Finding]:
    for repeat in repeats:
        lines = _span(repeat.blocks[0].first, repeat.blocks[-1].last)
        start, end = repeat.originals[0].first, repeat.originals[-1].last
        origin = _span(start, end) if end >= start else f"line {start} and others"
        if repeat.exact:
            count = len(repeat.blocks)
            size = f" ({count} blocks)" if count > 1 else ""
            message = f"{lines} repeat{'s' if count == 1 else ''} {origin} exactly{size}"
            kind = "repeat"
        else:
            message = (
                f"{lines} nearly repeats {origin} "
                f"({repeat.score:.0%} of the shorter one's 3-grams are in the other)"
            )
            kind = "near-repeat"
        yield Finding(path=relpath, line=repeat.blocks[0].first, kind=kind, message=message)


def _span(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _title_line(relpath: str, blocks: Sequence[Block], title: str) -> Iterator[Finding]:
    block = title_block(blocks, title)
    if block is not None:
        message = "the first line repeats the title: feeds show it twice (the excerpt skips it)"
        yield Finding(path=relpath, line=block.first, kind="title-line", message=message)


def _text_lines(lines: Sequence[str], blocks: Sequence[Block]) -> Iterator[tuple[int, str]]:
    """(line number, line) of every block that is not code."""
    for block in blocks:
        if block.kind in _TEXT_KINDS:
            for number in range(block.first, block.last + 1):
                yield number, lines[number - 1]


def _images(relpath: str, lines: Sequence[str], blocks: Sequence[Block]) -> Iterator[Finding]:
    for number, line in _text_lines(lines, blocks):
        if "![" not in line and "<img" not in line.lower():
            continue
        sources = [m.group(2) for m in _IMAGE.finditer(line) if not m.group(1).strip()]
        sources += [_src(tag) for tag in _IMG_TAG.findall(line) if not _alt(tag)]
        for src in sources:
            message = (
                f"image without alt text ({src or 'no src'}): readers who cannot see it get nothing"
            )
            yield Finding(path=relpath, line=number, kind="image-alt", message=message)


def _alt(tag: str) -> str:
    match = _ALT.search(tag)
    return "" if match is None else next(g for g in match.groups() if g is not None).strip()


def _src(tag: str) -> str:
    match = _SRC.search(tag)
    return "" if match is None else match.group(1)


def _dead_links(
    relpath: str, lines: Sequence[str], blocks: Sequence[Block], links: LinkIndex, url: str
) -> Iterator[Finding]:
    for number, line in _text_lines(lines, blocks):
        if "](" not in line and "href" not in line and "{%" not in line:
            continue
        for match in LINK.finditer(line):
            target = match.group(1) or match.group(2)
            if links.dead(target, url):
                message = f"{target} is a link to a post of this site, and no post has that URL"
                yield Finding(path=relpath, line=number, kind="dead-link", message=message)
        for name in POST_URL.findall(line):
            if links.dead_name(name):
                message = f"{{% post_url {name} %}} names no post (Jekyll stops the build on it)"
                yield Finding(path=relpath, line=number, kind="dead-link", message=message)
