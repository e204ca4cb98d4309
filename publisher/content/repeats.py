"""Blocks of a post that repeat earlier ones: exactly, or nearly.

**Exact**: the same kind and the same text once runs of spaces and newlines
are folded. A run of consecutive exact repeats (a section: its heading and its
paragraphs) is one :class:`Repeat`; it counts when it holds a paragraph, list
or quote of at least :data:`MIN_EXACT` characters, so that a short label
("**ポイント：**") used twice is not one.

**Near**: a paragraph of at least :data:`NEAR_CHARS` characters whose
character 3-grams are at least :data:`NEAR_CONTAINMENT` contained in those of
an earlier one (or the earlier one's in its): |A ∩ B| / min(|A|, |B|). A post
generator that restarts after a chunk restates the cut-off text at greater
length, so containment, not Jaccard, is the measure: on the customer's five
posts Jaccard gives 0.30-0.77 for restatements a reader sees at once as the
same paragraph again (bench/README.md has the measurements). Candidates are
the paragraphs sharing at least half of the shorter one's clauses (text of six
characters or more between punctuation): 3-grams are counted for those pairs only, which keeps ten
thousand posts fast. A pair that shares no clause has had every clause edited,
which leaves its containment under 0.8 anyway.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import NamedTuple

from publisher.content.blocks import Block

__all__ = ["MIN_EXACT", "NEAR_CHARS", "NEAR_CONTAINMENT", "Repeat", "find_repeats"]

MIN_EXACT = 20
NEAR_CHARS = 80
NEAR_CONTAINMENT = 0.8
_CONTENT = frozenset({"paragraph", "list", "quote", "table", "heading"})
# A clause: six or more characters between punctuation, brackets, markup or spaces.
_CLAUSE = re.compile(r"[^、。，．！？!?,.;；:：「」『』（）()\[\]*_`\s]{6,}")


class Repeat(NamedTuple):
    """Blocks (consecutive) that repeat ``originals``, exactly or with this containment."""

    blocks: tuple[Block, ...]
    originals: tuple[Block, ...]
    exact: bool
    score: float = 1.0


def find_repeats(blocks: Sequence[Block]) -> list[Repeat]:
    """Every exact run and every near repeat in ``blocks`` (a post's, in order)."""
    exact = _exact_origins(blocks)
    near = _near_origins(blocks, exact)
    found: list[Repeat] = []
    for run in _runs(blocks, exact):
        if any(blocks[i].kind != "heading" and len(blocks[i].text) >= MIN_EXACT for i in run):
            originals = tuple(blocks[exact[i]] for i in run)
            found.append(Repeat(tuple(blocks[i] for i in run), originals, True))
    for index, (origin, score) in near.items():
        found.append(Repeat((blocks[index],), (blocks[origin],), False, score))
    return sorted(found, key=lambda r: r.blocks[0].first)


def _exact_origins(blocks: Sequence[Block]) -> dict[int, int]:
    seen: dict[tuple[str, str], int] = {}
    origins: dict[int, int] = {}
    for index, block in enumerate(blocks):
        if block.kind in _CONTENT:
            origins.setdefault(index, seen.setdefault((block.kind, block.text), index))
            if origins[index] == index:
                del origins[index]
    return origins


def _runs(blocks: Sequence[Block], origins: dict[int, int]) -> Iterator[list[int]]:
    """Indices of consecutive exact repeats (anything else between ends a run)."""
    run: list[int] = []
    for index in range(len(blocks)):
        if index in origins:
            run.append(index)
        elif run:
            yield run
            run = []
    if run:
        yield run


def _near_origins(blocks: Sequence[Block], exact: dict[int, int]) -> dict[int, tuple[int, float]]:
    """Index of a near-repeating paragraph → (index of the earlier one, containment)."""
    index_of: dict[str, list[int]] = {}
    sizes: dict[int, int] = {}
    grams: dict[int, set[str]] = {}
    found: dict[int, tuple[int, float]] = {}
    for index, block in enumerate(blocks):
        if block.kind != "paragraph" or len(block.text) < NEAR_CHARS:
            continue
        own = set(_CLAUSE.findall(block.text))
        sizes[index] = len(own)
        seen = [index_of[c] for c in own if c in index_of]
        shared = Counter(chain.from_iterable(seen)) if seen else None
        for clause in own:
            index_of.setdefault(clause, []).append(index)
        if shared and index not in exact:
            top = len(own)
            candidates = [o for o, n in shared.items() if 2 * n >= top or 2 * n >= sizes[o]]
            best = _best_match(index, candidates, blocks, grams)
            if best is not None:
                found[index] = best
    return found


def _best_match(
    index: int, candidates: list[int], blocks: Sequence[Block], grams: dict[int, set[str]]
) -> tuple[int, float] | None:
    best: tuple[int, float] | None = None
    for other in candidates:
        if blocks[other].text == blocks[index].text:
            continue
        score = _containment(_grams(index, blocks, grams), _grams(other, blocks, grams))
        if score >= NEAR_CONTAINMENT and (best is None or score > best[1]):
            best = (other, score)
    return best


def _grams(index: int, blocks: Sequence[Block], cache: dict[int, set[str]]) -> set[str]:
    found = cache.get(index)
    if found is None:
        text = blocks[index].text
        found = cache[index] = {text[i : i + 3] for i in range(len(text) - 2)}
    return found


def _containment(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0
