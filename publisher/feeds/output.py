"""Write feed files, and remember what was written so an unchanged rebuild only stats.

The manifest (under ``var/cache/``) maps each feed file to a hash of what went
into it (its plan, including every post's file stamp, and the settings) and to
the size and mtime the file had when written. A feed whose inputs and file are
both unchanged is not rendered again; any doubt means render and compare bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from publisher.config import Settings
from publisher.content.ids import iri_to_uri
from publisher.feeds.plan import FeedPlan
from publisher.files import write_atomic

__all__ = ["Manifest", "plan_key", "render_feed"]

VERSION = 1


class _Written(msgspec.Struct, frozen=True, array_like=True):
    key: str
    size: int
    mtime_ns: int


@dataclass
class Manifest:
    """What was last written under one output folder."""

    path: Path | None
    files: dict[str, _Written] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> Manifest:
        """The manifest at ``path``; empty when there is none or it cannot be read."""
        if path is None:
            return cls(None)
        try:
            data = msgspec.json.decode(path.read_bytes(), type=dict[str, _Written])
        except (OSError, msgspec.DecodeError):
            data = {}
        return cls(path, data)

    def save(self) -> None:
        """Write the manifest; a cache that cannot be written never fails a build."""
        if self.path is not None:
            with contextlib.suppress(OSError):
                write_atomic(self.path, msgspec.json.encode(self.files))

    def is_current(self, target: Path, key: str) -> bool:
        """Whether ``target`` was written from inputs with this ``key`` and not touched since."""
        seen = self.files.get(str(target))
        if seen is None or seen.key != key:
            return False
        try:
            stat = target.stat()
        except OSError:
            return False
        return stat.st_size == seen.size and stat.st_mtime_ns == seen.mtime_ns

    def untouched(self) -> bool:
        """Whether every file listed still has the size and mtime it was written with."""
        for path, seen in self.files.items():
            try:
                stat = os.stat(path)
            except OSError:
                return False
            if stat.st_size != seen.size or stat.st_mtime_ns != seen.mtime_ns:
                return False
        return True

    def record(self, target: Path, key: str) -> None:
        """Remember that ``target`` now holds the output for ``key``."""
        stat = target.stat()
        self.files[str(target)] = _Written(key, stat.st_size, stat.st_mtime_ns)

    def orphans(self, output_dir: Path, keep: set[Path]) -> list[Path]:
        """Files this manifest wrote under ``output_dir`` that no plan writes any more."""
        prefix = str(output_dir) + os.sep
        return sorted(Path(p) for p in self.files if p.startswith(prefix) and Path(p) not in keep)

    def forget(self, target: Path) -> None:
        """Drop ``target`` from the manifest."""
        self.files.pop(str(target), None)


def plan_key(plan: FeedPlan, settings_fingerprint: str) -> str:
    """A hash of everything that shapes the bytes of ``plan``'s file."""
    digest = hashlib.sha256(settings_fingerprint.encode())
    digest.update(msgspec.json.encode(plan))
    return digest.hexdigest()[:32]


def render_feed(plan: FeedPlan, html: Mapping[str, str], settings: Settings) -> bytes:
    """The bytes of ``plan``'s file in its format."""
    if plan.format == "json":
        from publisher.feeds.jsonfeed import render_json

        return render_json(plan, html, settings)
    from publisher.feeds.atom import render_atom, render_rss

    if plan.format == "rss":
        return render_rss(plan, html, settings)
    folder = posixpath.dirname(plan.path) or "."
    xsl = posixpath.relpath(f"{settings.feeds.dir}/feed.xsl", folder)
    stylesheet = iri_to_uri(xsl) if settings.feeds.stylesheet else None
    if plan.style == "jekyll-feed":
        from publisher.feeds.jekyll_atom import render_jekyll_atom

        return render_jekyll_atom(plan, html, settings, stylesheet)
    return render_atom(plan, html, settings, stylesheet)
