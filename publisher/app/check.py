"""Use case: ``publisher check``, a content doctor for machine-written posts.

Reads every post file of the site (drafts too: they will be published one
day), runs the checks of :mod:`publisher.content.doctor` on each, over the
cores, and, with ``fix``, works out what the files would be without their
marker lines, exact repeats and title line (``write``: writes them, keeping
each old file, byte for byte, under the state folder: ``VAR/backups/check-TIME/``
and the file's path in the site. Never beside it: Jekyll would publish a
``_posts/NAME.md.bak`` as a post of its own, with a ``.bak`` page and, with
jekyll-feed, a second feed entry).

>>> report = check_site(CheckRequest(site_dir=Path("examples/site")))   # doctest: +SKIP
>>> [str(f) for f in report.findings][:1]                               # doctest: +SKIP
['_posts/2025-09-01-hello.md:12: title-line: the first line repeats the title ...']
"""

from __future__ import annotations

import difflib
import os
import shutil
import stat
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from publisher.config import Settings, load_settings
from publisher.content import list_posts, read_posts
from publisher.content.cleaning import FIXED_KINDS, clean_text
from publisher.content.doctor import Finding, check_post
from publisher.content.frontmatter import read_body, read_head
from publisher.content.links import LinkIndex
from publisher.content.parallel import map_work
from publisher.errors import OutputError, PostError
from publisher.files import private_dir, write_atomic

__all__ = ["FIXED", "CheckReport", "CheckRequest", "FileFix", "check_site"]

FIXED = frozenset({"marker", "repeat", "title-line"})
"""The kinds ``--fix`` removes (``[content] clean`` names them markers, repeats, title_line)."""
PARALLEL_MIN = 50


@dataclass(frozen=True)
class CheckRequest:
    """Which site to check, and whether to fix (``write``: in the files, else as a diff)."""

    site_dir: Path = Path()
    config_file: Path | None = None
    settings: Settings | None = None
    now: datetime | None = None
    fix: bool = False
    write: bool = False


@dataclass(frozen=True)
class FileFix:
    """One file's fix: its unified diff, and the backup once written."""

    path: str
    diff: str
    backup: str = ""


@dataclass(frozen=True)
class CheckReport:
    """Every finding, in file and line order; the fixes when asked for."""

    files: int
    findings: tuple[Finding, ...]
    fixes: tuple[FileFix, ...] = ()
    backups: str = ""
    """Where ``write`` kept the old files (relative to the site when inside it)."""
    aborted: bool = False
    """The posts folder itself could not be read (missing, not a folder): nothing was checked."""

    def exit_code(self, strict: bool = False) -> int:
        """0 nothing found; 1 something found; 2 something found under ``--strict``, or the
        posts folder could not be read (as ``publisher build`` says it)."""
        if self.aborted:
            return 2
        if not self.findings:
            return 0
        return 2 if strict else 1

    def counts(self) -> dict[str, int]:
        """Findings by kind."""
        return dict(Counter(f.kind for f in self.findings))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for ``--json``."""
        return {
            "files": self.files,
            "counts": self.counts(),
            "findings": [
                {"path": f.path, "line": f.line, "kind": f.kind, "message": f.message}
                for f in self.findings
            ],
            "fixes": [{"path": x.path, "diff": x.diff, "backup": x.backup} for x in self.fixes],
            "backups": self.backups,
            "aborted": self.aborted,
        }


@dataclass(frozen=True)
class _Job:
    settings: Settings
    links: LinkIndex
    urls: dict[str, str]
    fix: bool


def check_site(request: CheckRequest) -> CheckReport:
    """Check every post of the site; see the module docstring."""
    settings = request.settings or load_settings(request.site_dir, request.config_file)
    site = request.site_dir.resolve()
    listing = list_posts(site, settings)
    prefix = len(str(site)) + 1
    folder = str(site / settings.site.posts_dir)
    for key, stamp in listing:
        if key == folder and stamp.startswith("!"):  # the folder itself: nothing to check
            why = stamp[1:]
            found = Finding(path=settings.site.posts_dir, line=1, kind="unreadable", message=why)
            return CheckReport(files=0, findings=(found,), aborted=True)
    job = _job(site, settings, request, listing)
    items = [(key, key[prefix:].replace(os.sep, "/"), stamp) for key, stamp in listing]
    results = map_work(_check_one, items, job, workers=settings.feeds.workers, minimum=PARALLEL_MIN)
    findings = [finding for found, _ in results for finding in found]
    todo = [(item[1], fixed) for item, (_, fixed) in zip(items, results, strict=True) if fixed]
    backups = _backup_folder(settings) if request.write and todo else None
    fixes = [_apply(site, relpath, fixed, backups) for relpath, fixed in todo]
    return CheckReport(
        files=len(items),
        findings=tuple(findings),
        fixes=tuple(fixes),
        backups=_shown(backups, site) if backups else "",
    )


def _job(
    site: Path, settings: Settings, request: CheckRequest, listing: list[tuple[str, str]]
) -> _Job:
    """The posts' URLs as the build reads them, for links (through the build's parse cache)."""
    cache = private_dir(Path(settings.paths.var)) / "cache" / "posts.json"
    now = request.now or datetime.now(UTC)
    read = read_posts(site, settings, now, cache, listing)
    posts = read.posts + read.scheduled
    names = [Path(p.source).name.rsplit(".", 1)[0] for p in posts]
    links = LinkIndex.build(
        settings.site.root_url, settings.site.permalink, [p.url for p in posts], names
    )
    return _Job(settings, links, {p.source: p.url for p in posts}, request.fix)


def _check_one(item: tuple[str, str, str], job: _Job) -> tuple[list[Finding], str | None]:
    """One file's findings, and its fixed text when asked and something is fixable."""
    key, relpath, stamp = item
    if stamp.startswith("!"):
        return [Finding(path=relpath, line=1, kind="unreadable", message=stamp[1:])], None
    try:
        head = read_head(Path(key))
        text = read_body(Path(key), 0)
    except PostError as exc:
        return [
            Finding(path=relpath, line=exc.line or 1, kind="unreadable", message=exc.reason)
        ], None
    except OSError as exc:
        return [
            Finding(path=relpath, line=1, kind="unreadable", message=f"cannot read: {exc}")
        ], None
    settings = job.settings
    found = check_post(
        relpath, text, head.body_offset, head.meta, head.front_matter, settings,
        job.links, job.urls.get(key, ""),
    )  # fmt: skip
    if not job.fix or not any(f.kind in FIXED for f in found):
        return found, None
    title = head.meta.get("title")
    body = clean_text(
        text[head.body_offset :], title if isinstance(title, str) else "", FIXED_KINDS,
        settings.content.markers,
    )  # fmt: skip
    return found, text[: head.body_offset] + body


def _backup_folder(settings: Settings) -> Path:
    """A new folder for this run's backups, ``VAR/backups/check-<UTC time>[-N]`` (0700)."""
    root = private_dir(private_dir(Path(settings.paths.var)) / "backups", "the backups folder")
    stamp = datetime.now(UTC).strftime("check-%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        folder = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(folder, f"cannot make the backups folder: {exc.strerror}") from exc
        return folder
    raise OutputError(root / stamp, "999 backup folders of this second exist already")


def _shown(path: Path, site: Path) -> str:
    """``path`` relative to the site when inside it (the default state folder is), else whole."""
    try:
        return path.relative_to(site).as_posix()
    except ValueError:
        return str(path)


def _apply(site: Path, relpath: str, fixed: str, backups: Path | None) -> FileFix:
    """The diff of one file's fix; with ``backups``, the file rewritten and the old one kept
    there under its path in the site."""
    path = site / relpath
    data = path.read_bytes()
    old = read_body(path, 0)
    diff = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            fixed.splitlines(keepends=True),
            fromfile=relpath,
            tofile=f"{relpath} (fixed)",
        )
    )
    if backups is None:
        return FileFix(relpath, diff)
    backup = backups / relpath
    try:
        backup.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(path, backup)
    except OSError as exc:
        raise OutputError(backup, f"cannot keep the old file: {exc.strerror}") from exc
    new = fixed.replace("\n", "\r\n") if b"\r\n" in data else fixed
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    try:
        write_atomic(path, bom + new.encode(), mode=stat.S_IMODE(path.stat().st_mode))
    except OSError as exc:  # the old file is untouched (and its copy kept)
        raise OutputError(path, f"cannot rewrite it: {exc.strerror}") from exc
    return FileFix(relpath, diff, _shown(backup, site))
