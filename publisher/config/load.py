"""Reading the settings: ``_config.yml``, ``publisher.toml``, the environment; paths anchored."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from publisher.config.headers import check_headers
from publisher.config.model import ENV_PREFIX, JEKYLL_KEYS, JekyllFeed, JekyllFeedTags, Settings
from publisher.errors import ConfigError

__all__ = ["find_config_file", "load_settings", "resolve_output"]


def find_config_file(site_dir: Path) -> Path | None:
    """The TOML file used when ``--config`` is not given, if there is one."""
    for candidate in (site_dir / "publisher.toml", site_dir / "config" / "publisher.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_settings(
    site_dir: Path,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read and validate every setting for the site in ``site_dir``.

    >>> load_settings(Path("examples/site")).site.lang      # doctest: +SKIP
    'ja'
    """
    env = os.environ if environ is None else environ
    if not site_dir.is_dir():
        raise ConfigError(
            "--site", f"{site_dir}: no such folder (the Jekyll site, with _config.yml)"
        )
    site = site_dir.absolute()
    data: dict[str, Any] = {"site": _read_jekyll_config(site_dir)}
    path = config_file or find_config_file(site_dir)
    bases = dict.fromkeys(_ANCHORED, site)
    if path is not None:
        toml = _read_toml(path)
        _merge(data, toml)
        for section, key in _ANCHORED:
            table = toml.get(section)
            if isinstance(table, dict) and key in table:
                bases[section, key] = path.absolute().parent
    overrides = _read_environment(env)
    for section, key in _ANCHORED:  # the environment has no folder: relative to the site
        if key in overrides.get(section, {}):
            bases[section, key] = site
    _merge(data, overrides)
    settings = _convert(data)
    _check(settings)
    return _anchor(settings, bases)


_ANCHORED = (
    ("paths", "var"),
    ("paths", "output"),
    ("smtp", "ca_file"),
    ("digest", "templates"),
    ("bounces", "ca_file"),
)
"""Settings that name a file or folder: relative to the site, or to the TOML file setting them."""
_EMPTY_MEANS_SITE = {("paths", "output")}


def _anchor(settings: Settings, bases: dict[tuple[str, str], Path]) -> Settings:
    """Every path setting made absolute against the folder it is relative to (empty stays off)."""
    fixed: dict[str, dict[str, str]] = {}
    for section, key in _ANCHORED:
        value = getattr(getattr(settings, section), key)
        if value or (section, key) in _EMPTY_MEANS_SITE:
            absolute = os.path.normpath(bases[section, key] / os.path.expanduser(value))
            fixed.setdefault(section, {})[key] = absolute
    sections = {
        name: msgspec.structs.replace(getattr(settings, name), **values)
        for name, values in fixed.items()
    }
    return msgspec.structs.replace(settings, **sections)


def resolve_output(settings: Settings, site_dir: Path, given: Path | None) -> Path:
    """Where feeds are written: ``--output`` (relative to the site), else ``[paths] output``.

    >>> resolve_output(settings, Path("/srv/blog"), Path("public"))   # doctest: +SKIP
    PosixPath('/srv/blog/public')
    """
    if given is None:
        return Path(settings.paths.output)
    return Path(os.path.normpath(site_dir.absolute() / given))


def _read_jekyll_config(site_dir: Path) -> dict[str, Any]:
    path = site_dir / "_config.yml"
    if not path.is_file():
        return {}
    import yaml

    try:
        raw = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise ConfigError(f"{path}:{line}", f"invalid YAML: {exc.problem}") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), str(exc)) from exc
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(str(path), "expected a mapping of settings")
    site = {key: raw[key] for key in JEKYLL_KEYS if raw.get(key) is not None}
    author = site.get("author")
    if isinstance(author, dict):  # Jekyll themes often use {name:, email:}
        site["author"] = author.get("name")
    if raw.get("feed") is not None:
        site["feed"] = _jekyll_feed(path, raw["feed"])
    return {k: v for k, v in site.items() if v is not None}


_JEKYLL_FEED_KEYS = ("path", "categories", "tags", "posts_limit", "excerpt_only")


def _jekyll_feed(path: Path, raw: object) -> dict[str, Any]:
    """jekyll-feed's ``feed:`` mapping, checked; an error names ``_config.yml: feed.<key>``."""
    if not isinstance(raw, dict):
        raise ConfigError(str(path), f"feed: expected a mapping, got {raw!r}")
    feed = {key: raw[key] for key in _JEKYLL_FEED_KEYS if raw.get(key) is not None}
    for key in ("categories", "tags"):
        if key in feed:
            feed[key] = _stringify(feed[key])
    try:
        checked = msgspec.convert(feed, JekyllFeed)
    except msgspec.ValidationError as exc:
        reason, where = _split_msgspec(exc)
        raise ConfigError(str(path), f"feed.{where}: {reason}") from exc
    # tags.path may be empty (the tag feeds are then ml.xml… at the top, as in jekyll-feed).
    for key, value, name in (("path", checked.path, ""), ("tags.path", _tags_path(checked), "x")):
        if not _inside(value + name):
            raise ConfigError(str(path), f"feed.{key}: {value!r} leaves the site folder")
    for name in checked.categories:
        if not _inside(f"feed/{name}.xml"):
            raise ConfigError(str(path), f"feed.categories: {name!r} is not a safe file name")
    return feed


def _stringify(value: object) -> object:
    """Numbers where jekyll-feed wants names (``categories: [2025]``) as the names Ruby makes."""
    if isinstance(value, list):
        return [_stringify(item) for item in value]
    if isinstance(value, dict):
        return {key: _stringify(item) for key, item in value.items()}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _tags_path(feed: JekyllFeed) -> str:
    return feed.tags.path if isinstance(feed.tags, JekyllFeedTags) else "/feed/by_tag/"


def _inside(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return "\0" not in path and ".." not in parts and bool(path.strip("/"))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "config file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"invalid TOML: {exc}") from exc


def _read_environment(env: Mapping[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].partition("__")
        if not section or not key:
            raise ConfigError(name, "expected PUBLISHER_<SECTION>__<KEY>")
        data.setdefault(section.lower(), {})[key.lower()] = _parse_env_value(raw)
    return data


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> None:
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = dict(value) if isinstance(value, Mapping) else value


_MSGSPEC_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _split_msgspec(exc: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's message as (reason, dotted path of the key)."""
    match = _MSGSPEC_PATH.match(str(exc))
    assert match is not None
    path = (match["path"] or "").lstrip(".")
    return match["reason"], re.sub(r"\[(\d+)\]", r"[\1]", path)


def _convert(data: dict[str, Any]) -> Settings:
    feeds = data.get("feeds")
    if isinstance(feeds, dict) and isinstance(feeds.get("jekyll_feed_until"), date | time):
        # A TOML date or time: the ISO 8601 text it stands for.
        feeds["jekyll_feed_until"] = feeds["jekyll_feed_until"].isoformat()
    try:
        return msgspec.convert(data, Settings)
    except msgspec.ValidationError as exc:
        reason, path = _split_msgspec(exc)
        unknown = re.match(r"Object contains unknown field `(.+)`", reason)
        if unknown:
            key = f"{path}.{unknown[1]}" if path else unknown[1]
            raise ConfigError(key, "unknown key") from exc
        raise ConfigError(path or "(top level)", reason) from exc


def _check(settings: Settings) -> None:
    site = settings.site
    try:
        ZoneInfo(site.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError("site.timezone", f"unknown timezone {site.timezone!r}") from exc
    parts = urlsplit(site.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            "site.url",
            f"expected an absolute http(s) URL such as https://blog.example.com, got {site.url!r}"
            " (set url in _config.yml or [site] url)",
        )
    try:
        settings.feeds.jekyll_cutoff(site.tz)
    except ValueError as exc:
        raise ConfigError(
            "feeds.jekyll_feed_until",
            f"expected an ISO 8601 date or time such as 2026-01-01T00:00:00+09:00,"
            f" got {settings.feeds.jekyll_feed_until!r}",
        ) from exc
    hub = urlsplit(settings.feeds.websub_hub)
    if settings.feeds.websub_hub and (hub.scheme not in ("http", "https") or not hub.hostname):
        raise ConfigError("feeds.websub_hub", "expected an absolute http(s) URL of the hub")
    for table in ("categories", "tags"):
        for name, slug in getattr(settings, table).items():
            if not slug or "/" in slug or "\\" in slug or slug.startswith("."):
                raise ConfigError(f"{table}.{name}", f"{slug!r} is not a safe file name for a feed")
    folder = settings.feeds.dir
    if not _inside(folder) or folder.startswith("/") or "\\" in folder or _DRIVE.match(folder):
        raise ConfigError(
            "feeds.dir", f"expected a folder inside the output folder such as feeds, got {folder!r}"
        )
    check_headers(settings)


_DRIVE = re.compile(r"[A-Za-z]:")
