"""``publisher init``: set publisher up in an existing Jekyll site.

It writes ``SITE/publisher.toml`` (see :mod:`publisher.app.setup_toml`), adds
the state folder to ``SITE/.gitignore`` and ``publisher.toml`` to Jekyll's
``exclude`` in ``SITE/_config.yml`` (see :mod:`publisher.app.setup_jekyll`).

Everything is decided before anything is written: ``_config.yml`` is read by
the settings loader (its errors name the line), the posts by the post reader,
and the new ``publisher.toml`` is loaded by the settings loader from a
temporary file beside it before it takes its place, so init never leaves a
file that publisher cannot read, and a site it refuses gets no file at all.
It writes nothing outside the site folder (no cache either), and nothing that
exists without ``force``; ``.gitignore`` and ``exclude`` are only added to, once.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import yaml

from publisher.app.setup_jekyll import add_to_exclude, add_to_gitignore
from publisher.app.setup_toml import Proposal, propose, render_settings
from publisher.config import STATE_DIR, Settings, load_settings
from publisher.config.model import JEKYLL_KEYS
from publisher.content import read_posts
from publisher.errors import ConfigError, OutputError
from publisher.files import write_atomic

__all__ = ["SETTINGS_FILE", "InitReport", "InitRequest", "init_site"]

SETTINGS_FILE = "publisher.toml"
_OTHER_SETTINGS = Path("config") / SETTINGS_FILE
_BOM = "\ufeff"
_BOM_REASON = (
    "begins with a byte-order mark, and then Jekyll (4.3.1 on Ruby 3.1's YAML, for one) reads"
    " only its first setting and ignores the rest, exclude included: save it as UTF-8"
    " without the BOM, then run init again"
)


@dataclass(frozen=True)
class InitRequest:
    """Which site, and whether an existing ``publisher.toml`` may be replaced."""

    site_dir: Path
    force: bool = False
    environ: Mapping[str, str] | None = None
    """The environment the settings are checked with (default: this process's)."""


@dataclass(frozen=True)
class InitReport:
    """What init wrote, what it proposed, and what the editor should know."""

    settings_file: Path
    previous: tuple[Path, ...]
    """Settings files there were before (``force``): replaced, or now behind ``publisher.toml``."""
    gitignore: Path
    gitignore_state: str
    """``"created"``, ``"added"`` or ``"unchanged"``."""
    config_file: Path
    excluded: tuple[str, ...]
    """Entries added to ``exclude`` in ``_config.yml`` (empty: it already had them)."""
    proposals: tuple[Proposal, ...]
    unreadable: int
    """Post files that could not be read (their categories are not proposed)."""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Text:
    """A text file as read: its text, whether it began with a BOM, its mode."""

    text: str
    bom: bool
    mode: int


def init_site(request: InitRequest) -> InitReport:
    """Write ``publisher.toml``, and add to ``.gitignore`` and ``exclude`` what is missing."""
    site = request.site_dir
    config_yml = site / "_config.yml"
    _check_site(site, config_yml)
    previous = _check_no_settings(site, request.force)
    settings = load_settings(site, Path(os.devnull), request.environ)  # _config.yml alone
    config = _read(config_yml)
    if config.bom:
        raise ConfigError(f"{config_yml}:1", _BOM_REASON)
    counts, unreadable = _categories(site, settings)
    proposals = propose(counts)
    site_values = msgspec.structs.asdict(settings.site)
    text = render_settings(site_values, _jekyll_keys(config.text), proposals)
    exclude = add_to_exclude(config.text, [SETTINGS_FILE, STATE_DIR], str(config_yml))
    gitignore = site / ".gitignore"
    old_ignore = _read(gitignore) if os.path.lexists(gitignore) else None
    new_ignore = add_to_gitignore(old_ignore.text if old_ignore else None, f"{STATE_DIR}/")
    edits = [(gitignore, new_ignore, old_ignore), (config_yml, exclude.text, config)]
    writes = [(_inside(site, path), new, old) for path, new, old in edits if new is not None]
    with _scratch(site) as scratch:  # the first file written: every check on the site passed
        scratch.write_text(text, encoding="utf-8")
        load_settings(site, scratch, request.environ)
        for path, new, old in writes:
            _write(path, new, old)
        _install(scratch, site / SETTINGS_FILE, request.force)  # publisher.toml last
    return InitReport(
        settings_file=site / SETTINGS_FILE,
        previous=previous,
        gitignore=gitignore,
        gitignore_state="unchanged" if new_ignore is None else "added" if old_ignore else "created",
        config_file=config_yml,
        excluded=exclude.added,
        proposals=proposals,
        unreadable=unreadable,
        warnings=exclude.warnings,
    )


def _check_site(site: Path, config_yml: Path) -> None:
    if not site.is_dir():
        raise ConfigError("--site", f"{site}: no such folder (the Jekyll site, with _config.yml)")
    if not config_yml.is_file():
        raise ConfigError(
            str(config_yml), "no such file: publisher init reads the Jekyll site's settings there"
        )


def _check_no_settings(site: Path, force: bool) -> tuple[Path, ...]:
    """The settings files there are (``force`` given); without ``force`` they stop init."""
    found = [p for p in (site / SETTINGS_FILE, site / _OTHER_SETTINGS) if os.path.lexists(p)]
    if found and not force:
        raise OutputError(
            found[0], "already exists: run `publisher init --force` to write a new publisher.toml"
        )
    return tuple(found)


@contextlib.contextmanager
def _scratch(site: Path) -> Iterator[Path]:
    """A temporary file beside ``publisher.toml`` (a dot-file: Jekyll skips it), removed after."""
    try:
        fd, name = tempfile.mkstemp(dir=site, prefix=".publisher-init-", suffix=".toml")
    except OSError as exc:
        raise OutputError(site, f"cannot write in the site folder: {exc.strerror}") from exc
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _read(path: Path) -> _Text:
    try:
        raw = path.read_bytes()
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise OutputError(path, f"cannot read it: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), f"not UTF-8 (byte {exc.start})") from exc
    return _Text(text.removeprefix(_BOM), text.startswith(_BOM), mode)


def _jekyll_keys(text: str) -> list[str]:
    """The keys publisher takes from ``_config.yml`` that it sets (the loader has read it)."""
    data = yaml.load(text, Loader=yaml.CSafeLoader)
    given = data if isinstance(data, dict) else {}
    return [key for key in JEKYLL_KEYS if given.get(key) is not None]


def _categories(site: Path, settings: Settings) -> tuple[Counter[str], int]:
    """How many posts (published or scheduled) each category has; how many files failed."""
    if not (site / settings.site.posts_dir).is_dir():
        return Counter(), 0
    result = read_posts(site, settings, datetime.now(UTC))
    counts: Counter[str] = Counter()
    for post in (*result.posts, *result.scheduled):
        counts.update(dict.fromkeys(post.categories, 1))
    return counts, len(result.problems)


def _inside(site: Path, path: Path) -> Path:
    """The file to write for ``path``: itself, or what it links to if that is in the site."""
    if not path.is_symlink():
        return path
    real = path.resolve()
    if not real.is_relative_to(site.resolve()):
        raise OutputError(path, "is a link out of the site; publisher init writes nothing there")
    return real


def _write(path: Path, text: str, old: _Text | None) -> None:
    """``text`` into ``path`` atomically, with the old file's BOM and mode."""
    data = ((_BOM if old and old.bom else "") + text).encode("utf-8")
    try:
        write_atomic(path, data, old.mode if old else 0o644)
    except OSError as exc:
        raise OutputError(path, f"cannot write it: {exc.strerror}") from exc


def _install(scratch: Path, target: Path, force: bool) -> None:
    """The checked file becomes ``publisher.toml``: never over one that appeared meanwhile."""
    try:
        scratch.chmod(0o644)
        if force:
            os.replace(scratch, target)
        else:
            os.link(scratch, target)
    except FileExistsError as exc:
        raise OutputError(target, "already exists: run `publisher init --force`") from exc
    except OSError as exc:
        raise OutputError(target, f"cannot write it: {exc.strerror}") from exc
