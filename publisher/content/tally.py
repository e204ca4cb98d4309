"""The build's one-line hint: how many posts have generation markers or broken characters.

``publisher build`` and ``run`` say "3 posts have generation markers: run
`publisher check`" without running the checks: each post file is scanned
once for what :mod:`publisher.content.doctor` reports as ``marker``,
``replacement-character`` and ``control-character`` (the same patterns, with
byte searches first so that a clean post costs a few memchr-speed passes),
and the kinds found are cached per file and stamp in ``var/cache/tally.json``.
An unchanged rebuild never gets here (its report is the last one); a rebuild
after one post changed scans that post.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import msgspec

from publisher.config import Settings
from publisher.content.blocks import marker_lines
from publisher.content.parallel import map_work
from publisher.files import write_atomic
from publisher.models import Post

__all__ = ["SUMMARY_KINDS", "tally_posts"]

SUMMARY_KINDS = ("marker", "replacement-character", "control-character")
VERSION = 1
PARALLEL_MIN = 200
_BOUNDARY = re.compile(rb"^-{3,}[ \t]*\r?$", re.M)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NOT_CONTROL = bytes(b for b in range(256) if (b >= 32 and b != 127) or b in (9, 10, 13))
_DASHES = re.compile(r"/(?:-\{3,\d*\}|---)")


class _Tally(msgspec.Struct, frozen=True):
    version: int
    markers: str
    entries: dict[str, tuple[str, tuple[str, ...]]]
    """Absolute path → (stamp, the kinds found)."""


def tally_posts(
    posts: Sequence[Post], settings: Settings, cache_file: Path | None
) -> dict[str, int]:
    """How many of ``posts`` have each of :data:`SUMMARY_KINDS` (kinds found in none left out)."""
    key = hashlib.sha256("\0".join(settings.content.markers).encode()).hexdigest()[:16]
    cached = _load(cache_file, key)
    entries: dict[str, tuple[str, tuple[str, ...]]] = {}
    todo: list[str] = []
    for post in posts:
        hit = cached.get(post.source)
        if hit is not None and hit[0] == post.stamp and post.stamp:
            entries[post.source] = hit
        else:
            todo.append(post.source)
    stamps = {post.source: post.stamp for post in posts}
    found = map_work(
        _scan_file,
        todo,
        settings.content.markers,
        workers=settings.feeds.workers,
        minimum=PARALLEL_MIN,
    )
    for source, kinds in zip(todo, found, strict=True):
        entries[source] = (stamps[source], kinds)
    if cache_file is not None and (todo or len(entries) != len(cached)):
        with contextlib.suppress(OSError):
            write_atomic(cache_file, msgspec.json.encode(_Tally(VERSION, key, entries)))
    counts = dict.fromkeys(SUMMARY_KINDS, 0)
    for _, kinds in entries.values():
        for kind in kinds:
            counts[kind] += 1
    return {kind: n for kind, n in counts.items() if n}


def _load(path: Path | None, key: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    if path is None:
        return {}
    try:
        tally = msgspec.json.decode(path.read_bytes(), type=_Tally)
    except (OSError, msgspec.DecodeError):
        return {}
    return tally.entries if tally.version == VERSION and tally.markers == key else {}


def _scan_file(source: str, markers: tuple[str, ...]) -> tuple[str, ...]:
    try:
        with open(source, "rb") as handle:
            data = handle.read()
    except OSError:
        return ()  # the build reports a file it cannot read
    return scan(data, markers)


def scan(data: bytes, markers: tuple[str, ...]) -> tuple[str, ...]:
    """The :data:`SUMMARY_KINDS` in one post file's bytes (its body, for markers).

    >>> scan(b"---\\ntitle: a\\n---\\nText\\n\\n---END---\\n\\xef\\xbf\\xbd\\n", ("---END---",))
    ('marker', 'replacement-character')
    """
    found: list[str] = []
    boundary = _BOUNDARY.search(data, 3)
    start = boundary.end() if boundary is not None else 0
    if _may_have_marker(data, start, markers):
        body = data[start:].decode("utf-8", "replace").replace("\r\n", "\n")
        if marker_lines(markers).search(body):
            found.append("marker")
    if b"\xef\xbf\xbd" in data:
        found.append("replacement-character")
    if len(data.translate(None, _NOT_CONTROL)) or (
        b"\xc2" in data and _CONTROL.search(data.decode("utf-8", "replace"))
    ):
        found.append("control-character")
    return tuple(found)


def _may_have_marker(data: bytes, start: int, markers: tuple[str, ...]) -> bool:
    """False only when no marker line can be in ``data[start:]`` (a byte search tells)."""
    for spec in markers:
        if not (spec.startswith("/") and spec.endswith("/") and len(spec) > 2):
            needle = spec.strip().encode()
        elif _DASHES.match(spec) and "|" not in spec:  # the default, and patterns like it
            needle = b"---"
        else:
            return True
        if data.find(needle, start) >= 0:
            return True
    return False
