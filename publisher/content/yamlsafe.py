"""YAML front matter that no post can turn into a crash: cleaned before, loaded, repaired after.

Before parsing, :func:`publisher.content.frontmatter.clean_front` has removed
the characters PyYAML refuses anywhere in a document.

While parsing, a value YAML recognises but Python cannot hold (``date:
2025-02-30``, an integer of ten thousand digits) becomes a
:class:`ImpossibleValue`, a ``MarkedYAMLError`` that carries the line.

After parsing, every string is repaired: YAML escapes that decode to UTF-16
surrogates (``"\\ud83d\\ude00"``, which libyaml rejects and PyYAML's pure
Python loader decodes half-way) are joined into one character, or dropped when
alone, and characters XML forbids that escapes produced (``"\\x01"``) are
removed, each with a warning. The walk is iterative and visits each container
once, so recursive aliases (``a: &x [*x]``) and deep nesting are safe.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import Node

__all__ = ["ImpossibleValue", "Note", "load_yaml", "repair_strings"]

Note = tuple[int | None, str]
"""A warning about one post: the 1-based file line (None if unknown) and what was done."""

_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_LONE = re.compile("[\ud800-\udfff]")
# A \u or \U escape in the surrogate range: only the pure Python loader decodes these.
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F][0-9a-fA-F]{2}")
_SHOWN = 60


class ImpossibleValue(ConstructorError):
    """A scalar YAML resolves to a type whose Python value cannot exist; ``problem`` says why."""


def _construct(loader: SafeConstructor, node: Node, deep: bool = False) -> Any:
    try:
        return SafeConstructor.construct_object(loader, node, deep)
    except (ValueError, OverflowError) as exc:
        value = str(node.value)[:_SHOWN]
        kind = "date" if node.tag.endswith(":timestamp") else "value"
        problem = f"impossible {kind} {value!r}: {exc}"
        raise ImpossibleValue(None, None, problem, node.start_mark) from exc


class _PyLoader(yaml.SafeLoader):
    construct_object = _construct


if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(yaml.CSafeLoader):
        construct_object = _construct

    _FAST: type[Any] = _CLoader
else:  # pragma: no cover - PyYAML built without libyaml
    _FAST = _PyLoader


def load_yaml(front: str) -> Any:
    """Parse ``front`` with the safe loader (libyaml's when there is one).

    libyaml rejects surrogate escapes outright; a document that has some is
    parsed again by PyYAML's Python loader, which decodes them for
    :func:`repair_strings` to mend. Raises ``yaml.YAMLError`` (with a mark
    when PyYAML has one) or ``RecursionError`` (the Python loader on very deep
    nesting; libyaml stops at 1000 levels with a ``ScannerError``).
    """
    try:
        return yaml.load(front, Loader=_FAST)
    except yaml.MarkedYAMLError as exc:
        if _FAST is _PyLoader or not _SURROGATE_ESCAPE.search(front):
            raise
        try:
            return yaml.load(front, Loader=_PyLoader)
        except ValueError:  # \U00110000: chr() refuses it, without a mark; libyaml had one
            raise exc from None


def repair_strings(
    meta: dict[Any, Any], line_of: Callable[[str], int | None]
) -> tuple[dict[Any, Any], list[Note]]:
    """``meta`` with every string mended (see the module docstring), and a warning per key.

    ``line_of`` gives the line of a top-level key, for the warnings. Nested
    containers are mended in place.
    """
    fixed: dict[Any, Any] = {}
    notes: list[Note] = []
    for key, value in meta.items():
        counts = [0, 0, 0]
        name = _repair(key, counts)[0] if isinstance(key, str) else key
        fixed[name] = _repair_tree(value, counts)
        if any(counts):
            where = line_of(str(key))
            notes.extend((where, f"{name}: {text}") for text in _describe(counts))
    return fixed, notes


def _describe(counts: list[int]) -> list[str]:
    joined, dropped, removed = counts
    texts = []
    if joined:
        texts.append(f"{_many(joined, 'UTF-16 surrogate pair escape')} read as one character each")
    if dropped:
        texts.append(f"{_many(dropped, 'lone UTF-16 surrogate escape')} dropped")
    if removed:
        texts.append(f"removed {_many(removed, 'character')} that XML 1.0 forbids")
    return texts


def _many(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _repair(text: str, counts: list[int] | None = None) -> tuple[str, list[int]]:
    counts = counts if counts is not None else [0, 0, 0]
    if _XML_ILLEGAL.search(text) is None:
        return text, counts
    text, joined = _PAIR.subn(_join, text)
    text, dropped = _LONE.subn("", text)
    text, removed = _XML_ILLEGAL.subn("", text)
    counts[0] += joined
    counts[1] += dropped
    counts[2] += removed
    return text, counts


def _join(match: re.Match[str]) -> str:
    high, low = match[0][0], match[0][1]
    return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(low) - 0xDC00))


def _repair_tree(value: Any, counts: list[int]) -> Any:
    """``value`` with its strings repaired; containers are mended in place, each once."""
    if isinstance(value, str):
        return _repair(value, counts)[0]
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if not isinstance(item, (list, dict, set)) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, list):
            for i, child in enumerate(item):
                item[i] = _mend(child, counts, stack)
        elif isinstance(item, dict):
            pairs = [(_mend(k, counts, stack), _mend(v, counts, stack)) for k, v in item.items()]
            item.clear()
            item.update(pairs)
        else:
            members = [_mend(m, counts, stack) for m in item]
            item.clear()
            item.update(members)
    return value


def _mend(child: Any, counts: list[int], stack: list[Any]) -> Any:
    """A string repaired, a tuple (``!!omap`` pairs) rebuilt, a container queued for the walk."""
    if isinstance(child, str):
        return _repair(child, counts)[0]
    if isinstance(child, tuple):
        return tuple(_mend(part, counts, stack) for part in child)
    if isinstance(child, (list, dict, set)):
        stack.append(child)
    return child
