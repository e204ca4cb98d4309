"""The build cache: parsed posts and rendered bodies under ``var/cache/``.

Entries are keyed on the file's absolute path and its ``size-mtime_ns`` stamp,
and the whole cache on the settings' fingerprint, so any change to a file or to
a setting that shapes a post is seen, and an unchanged rebuild only stats.
The cache is an optimisation only: a missing, stale or corrupt cache file is
ignored and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import msgspec

from publisher.files import write_atomic
from publisher.models import Post, Problem

__all__ = ["CacheEntry", "HtmlCache", "load_posts_cache", "save_posts_cache"]

# 2: an entry may hold both a post and a problem (the post's warning), and a
# stamp starting with "!" is a listed file that could not be read.
VERSION = 4  # 3: Jekyll URL rules, naive YAML times are UTC; 4: titles capped at 300


class CacheEntry(msgspec.Struct, frozen=True, array_like=True):
    """What reading one file gave: a post, a problem, or a draft (neither).

    A post with a problem was published with a warning (see ``ReadResult.warnings``).
    """

    stamp: str
    post: Post | None = None
    problem: Problem | None = None


class _CacheFile(msgspec.Struct, frozen=True):
    version: int
    fingerprint: str
    entries: dict[str, CacheEntry]


_DECODER = msgspec.json.Decoder(_CacheFile)


def load_posts_cache(path: Path, fingerprint: str) -> dict[str, CacheEntry]:
    """The cached entries, or an empty dict when the cache is absent or not for these settings."""
    try:
        cached = _DECODER.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError):
        return {}
    if cached.version != VERSION or cached.fingerprint != fingerprint:
        return {}
    return cached.entries


def save_posts_cache(path: Path, fingerprint: str, entries: dict[str, CacheEntry]) -> None:
    """Write the cache atomically; failure to write a cache never fails a build."""
    data = msgspec.json.encode(_CacheFile(VERSION, fingerprint, entries))
    with contextlib.suppress(OSError):
        write_atomic(path, data)


class HtmlCache:
    """Rendered post bodies, one file each, named by a hash of (path, stamp, base URL)."""

    def __init__(self, folder: Path | None, fingerprint: str) -> None:
        self.folder = folder
        self.fingerprint = fingerprint

    def _file(self, post: Post) -> Path | None:
        if self.folder is None:
            return None
        key = f"{VERSION}\0{self.fingerprint}\0{post.source}\0{post.stamp}\0{post.url}"
        return self.folder / (hashlib.sha1(key.encode("utf-8")).hexdigest() + ".html")

    def get(self, post: Post) -> str | None:
        """The cached HTML of ``post``, if its file has not changed since."""
        path = self._file(post)
        if path is None or not post.stamp:
            return None
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def put(self, post: Post, html: str) -> None:
        """Remember the rendered HTML of ``post``."""
        path = self._file(post)
        if path is not None and post.stamp:
            with contextlib.suppress(OSError):
                write_atomic(path, html.encode("utf-8"))

    def prune(self, keep: list[Post]) -> None:
        """Delete cached bodies of posts that are no longer in any feed."""
        if self.folder is None or not self.folder.is_dir():
            return
        wanted = {p.name for p in (self._file(post) for post in keep) if p is not None}
        for entry in os.scandir(self.folder):
            if entry.name.endswith(".html") and entry.name not in wanted:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
