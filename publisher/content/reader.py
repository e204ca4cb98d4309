"""read_posts: a Jekyll ``_posts`` folder → published Posts and reported Problems.

Like Jekyll, only files named ``YYYY-MM-DD-title.EXT`` are posts (others are
ignored, see :mod:`publisher.content.scan`), ``published: false`` posts are
skipped, and posts dated after ``now`` wait. One bad file, link or folder is
one :class:`~publisher.models.Problem`, whatever went wrong reading it; every
other post is still read. A post published after something in it was mended
(a control character removed, say) carries a warning, also a ``Problem``.
Parsed posts are cached (see
:mod:`publisher.content.cache`), and a cold read of many files is spread over
the machine's cores.

>>> result = read_posts(Path("examples/site"), settings, now)   # doctest: +SKIP
>>> len(result.posts), [str(p) for p in result.problems]        # doctest: +SKIP
(14, ['_posts/2025-09-30-broken-front-matter.md:4: invalid YAML ...'])
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec

from publisher.config import Settings
from publisher.content.cache import CacheEntry, load_posts_cache, save_posts_cache
from publisher.content.parallel import map_work
from publisher.content.scan import scan_posts
from publisher.errors import PostError
from publisher.models import Post, Problem

__all__ = ["ReadResult", "list_posts", "read_posts", "scan_posts"]

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_MIN = 200


@dataclass(frozen=True)
class ReadResult:
    """Everything one read of the posts folder found."""

    posts: tuple[Post, ...]
    """Published posts, newest first (ties broken by path)."""
    problems: tuple[Problem, ...]
    scheduled: tuple[Post, ...]
    """Posts dated after ``now``, soonest first."""
    files: int
    drafts: int
    parsed: int
    """Files actually parsed this time (the rest came from the cache)."""
    warnings: tuple[Problem, ...] = ()
    """Posts published (or scheduled) after something in them was mended."""


def list_posts(site_dir: Path, settings: Settings) -> list[tuple[str, str]]:
    """(absolute path, ``size-mtime_ns`` stamp) of every post file: what a rebuild compares.

    What cannot be read is listed too, with ``!`` and the reason as its stamp,
    so that it is reported (and the report cached) like any bad post.
    """
    site = site_dir.resolve()
    folder = str(site / settings.site.posts_dir)
    return [
        (path, f"!{st}" if isinstance(st, str) else f"{st.st_size}-{st.st_mtime_ns}")
        for path, st in scan_posts(folder, str(site))
    ]


def read_posts(
    site_dir: Path,
    settings: Settings,
    now: datetime,
    cache_file: Path | None = None,
    listing: list[tuple[str, str]] | None = None,
) -> ReadResult:
    """Read every post of the site; see the module docstring for the rules.

    ``listing`` is :func:`list_posts`' result when the caller already has it.
    """
    site_dir = site_dir.resolve()
    fingerprint = settings.fingerprint()
    cached = load_posts_cache(cache_file, fingerprint) if cache_file else {}
    entries: dict[str, CacheEntry] = {}
    todo: list[tuple[str, str, str]] = []
    prefix = len(str(site_dir)) + 1
    for key, stamp in listing if listing is not None else list_posts(site_dir, settings):
        hit = cached.get(key)
        if hit is not None and hit.stamp == stamp:
            entries[key] = hit
        else:
            todo.append((key, key[prefix:].replace(os.sep, "/"), stamp))
    for key, entry in _parse_all(todo, settings):
        entries[key] = entry
    if cache_file is not None and (todo or len(entries) != len(cached)):
        save_posts_cache(cache_file, fingerprint, entries)
    return _collect(entries, now, len(todo))


def _collect(entries: dict[str, CacheEntry], now: datetime, parsed: int) -> ReadResult:
    posts: list[Post] = []
    scheduled: list[Post] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    drafts = unread = 0
    for entry in entries.values():
        unread += entry.stamp.startswith("!")
        if entry.post is None:
            if entry.problem is not None:
                problems.append(entry.problem)
            else:
                drafts += 1
            continue
        if entry.problem is not None:
            warnings.append(entry.problem)
        (scheduled if entry.post.date > now else posts).append(entry.post)
    posts.sort(key=lambda p: (p.date, p.path), reverse=True)
    unique, clashes = _unique_ids(posts)
    scheduled.sort(key=lambda p: (p.date, p.path))
    problems.sort(key=lambda p: (p.path, p.line or 0))
    warnings.sort(key=lambda p: (p.path, p.line or 0))
    return ReadResult(
        posts=tuple(unique),
        problems=tuple(problems + clashes),
        scheduled=tuple(scheduled),
        files=len(entries) - unread,
        drafts=drafts,
        parsed=parsed,
        warnings=tuple(warnings),
    )


def _unique_ids(posts: list[Post]) -> tuple[list[Post], list[Problem]]:
    """Never two entries with one id: later duplicates (oldest first, then path) get a suffix."""
    seen: dict[str, str] = {}
    renamed: dict[str, str] = {}
    clashes: list[Problem] = []
    for post in sorted(posts, key=lambda p: (p.date, p.path)):
        if post.id not in seen:
            seen[post.id] = post.path
            continue
        n = 2
        while f"{post.id}-{n}" in seen:
            n += 1
        new_id = f"{post.id}-{n}"
        seen[new_id] = post.path
        renamed[post.path] = new_id
        if not post.id.startswith("tag:"):
            reason = f"id {post.id!r} is also used by {seen[post.id]}; published as {new_id!r}"
            clashes.append(Problem(path=post.path, reason=reason))
    if not renamed:
        return posts, clashes
    fixed = [
        msgspec.structs.replace(p, id=renamed[p.path]) if p.path in renamed else p for p in posts
    ]
    return fixed, clashes


def _parse_all(
    todo: list[tuple[str, str, str]], settings: Settings
) -> Iterator[tuple[str, CacheEntry]]:
    yield from map_work(
        _parse_one,
        todo,
        settings,
        workers=settings.feeds.workers,
        minimum=PARALLEL_MIN,
        preload=("publisher.content.post",),
    )


def _parse_one(item: tuple[str, str, str], settings: Settings) -> tuple[str, CacheEntry]:
    """One file's entry; whatever goes wrong reading it is its Problem, never an exception."""
    key, relpath, stamp = item
    if stamp.startswith("!"):  # listed, not to be opened: see list_posts
        return key, CacheEntry(stamp, problem=Problem(path=relpath, reason=stamp[1:]))
    try:
        post, notes = _parse(key, relpath, settings, stamp)
    except PostError as exc:
        problem = Problem(path=relpath, line=exc.line, reason=exc.reason)
        return key, CacheEntry(stamp, problem=problem)
    except OSError as exc:
        return key, CacheEntry(stamp, problem=Problem(path=relpath, reason=f"cannot read: {exc}"))
    except RecursionError:
        reason = "nested too deeply to read (RecursionError)"
        return key, CacheEntry(stamp, problem=Problem(path=relpath, reason=reason))
    except Exception as exc:  # a bug or a case not foreseen: still one post, not the build
        reason = f"cannot read ({type(exc).__name__}): {exc}"
        return key, CacheEntry(stamp, problem=Problem(path=relpath, reason=reason))
    if not isinstance(post, Post):
        return key, CacheEntry(stamp)  # a draft
    warning = None
    if notes:
        reason = "; ".join(text for _, text in notes)
        warning = Problem(path=relpath, line=notes[0][0], reason=reason)
    return key, CacheEntry(stamp, post=post, problem=warning)


def _parse(
    key: str, relpath: str, settings: Settings, stamp: str
) -> tuple[Post | str, tuple[tuple[int | None, str], ...]]:
    from publisher.content.post import parse_post  # not needed when every post is cached

    return parse_post(Path(key), relpath, settings, stamp)
