"""Leave out what a post generator left behind: marker lines, exact repeats, the title line.

``[content] clean`` applies this to what feeds and digests publish (the
rendered body, the derived excerpt), never to the files; ``publisher check
--fix`` applies all three to the files, when asked. What is removed is
exactly what ``publisher check`` reports as ``marker``, ``repeat`` and
``title-line``: near repeats are only reported, since which of two versions
to keep is the writer's choice.

>>> body = "T\\n\\nA paragraph long enough.\\n\\n---END---\\n\\nA paragraph long enough.\\n"
>>> clean_text(body, "T", ("markers", "repeats", "title_line"))
'A paragraph long enough.\\n'
"""

from __future__ import annotations

from collections.abc import Sequence

from publisher.config.model import DEFAULT_MARKER, CleanKind, ContentSettings
from publisher.content.blocks import Block, split_blocks
from publisher.content.excerpt import _repeats_title
from publisher.content.repeats import find_repeats

__all__ = ["FIXED_KINDS", "clean_body", "clean_text", "removed_blocks", "title_block"]

FIXED_KINDS: tuple[CleanKind, ...] = ("markers", "repeats", "title_line")


def clean_body(body: str, title: str, content: ContentSettings) -> str:
    """``body`` without what ``content.clean`` names (``body`` itself when it names nothing)."""
    if not content.clean:
        return body
    return clean_text(body, title, content.clean, content.markers)


def clean_text(
    body: str,
    title: str,
    kinds: Sequence[CleanKind],
    markers: tuple[str, ...] = (DEFAULT_MARKER,),
) -> str:
    """``body`` without the blocks of ``kinds``, and the blank lines after each."""
    blocks = split_blocks(body, 1, markers)
    drop = removed_blocks(blocks, title, kinds)
    if not drop:
        return body
    lines = body.split("\n")
    gone: set[int] = set()
    for block in drop:
        gone.update(range(block.first - 1, block.last + block.blank_after))
    kept = [line for number, line in enumerate(lines) if number not in gone]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""


def title_block(blocks: Sequence[Block], title: str) -> Block | None:
    """The first block, if it is one line repeating the title (as the excerpt rule sees it)."""
    if not blocks or not title:
        return None
    first = blocks[0]
    one_line = first.first == first.last and first.kind in ("paragraph", "heading")
    return first if one_line and _repeats_title(first.text, title) else None


def removed_blocks(blocks: Sequence[Block], title: str, kinds: Sequence[CleanKind]) -> list[Block]:
    """The blocks that ``kinds`` leave out."""
    drop: list[Block] = []
    title_line = title_block(blocks, title) if "title_line" in kinds else None
    if title_line is not None:
        drop.append(title_line)
    if "markers" in kinds:
        drop += [block for block in blocks if block.kind == "marker"]
    if "repeats" in kinds:
        for repeat in find_repeats(blocks):
            if repeat.exact:
                drop += repeat.blocks
    return drop
