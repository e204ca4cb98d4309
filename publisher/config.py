"""Settings: the site's ``_config.yml``, then ``publisher.toml``, then the environment.

Precedence, lowest first:

1. embedded defaults (everything works with no file at all);
2. the Jekyll site's own ``_config.yml`` (title, description, url, baseurl,
   timezone, lang, permalink, excerpt_separator, author), so nothing is
   configured twice;
3. publisher's TOML file: ``--config FILE``, else ``publisher.toml`` or
   ``config/publisher.toml`` in the site folder;
4. environment variables ``PUBLISHER_<SECTION>__<KEY>`` (a TOML value or a bare
   string), e.g. ``PUBLISHER_FEEDS__LIMIT=50``.

The result is a frozen, validated :class:`Settings`. An unknown key or a wrong
type raises :class:`~publisher.errors.ConfigError` naming the key.

>>> s = load_settings(Path("examples/site"))            # doctest: +SKIP
>>> s.feeds.limit
20
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from publisher.errors import ConfigError

__all__ = [
    "DatabaseSettings",
    "DigestSettings",
    "FeedSettings",
    "PathSettings",
    "RunSettings",
    "Settings",
    "SiteSettings",
    "SmtpSettings",
    "WebSettings",
    "find_config_file",
    "load_settings",
    "resolve_output",
]

ENV_PREFIX = "PUBLISHER_"
STATE_DIR = ".publisher"
"""The default state folder, inside the site (a dot-folder: Jekyll never publishes it)."""
JEKYLL_KEYS = (
    "title",
    "description",
    "url",
    "baseurl",
    "timezone",
    "lang",
    "permalink",
    "excerpt_separator",
    "author",
)
FeedFormat = Literal["atom", "rss", "json"]


class SiteSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The blog itself; by default read from the site's ``_config.yml``."""

    title: str = "Untitled blog"
    description: str = ""
    url: str = ""
    baseurl: str = ""
    timezone: str = "UTC"
    lang: str = "en"
    permalink: str = "date"
    excerpt_separator: Annotated[str, msgspec.Meta(min_length=1)] = "\n\n"
    author: str | None = None
    posts_dir: str = "_posts"

    @property
    def tz(self) -> tzinfo:
        """The site's timezone as a ``tzinfo`` (validated at load time)."""
        return ZoneInfo(self.timezone)

    @property
    def root_url(self) -> str:
        """``url`` + ``baseurl`` without a trailing slash: ``https://x.org/blog``."""
        return (self.url.rstrip("/") + "/" + self.baseurl.strip("/")).rstrip("/")

    @property
    def domain(self) -> str:
        """The host name of ``url``, for ``tag:`` URIs."""
        return urlsplit(self.url).hostname or "localhost"


class FeedSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What ``publisher build`` writes."""

    limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 20
    excerpt_length: Annotated[int, msgspec.Meta(ge=10, le=10_000)] = 120
    content: Literal["full", "excerpt"] = "full"
    categories: bool = True
    tags: bool = True
    formats: tuple[FeedFormat, ...] = ("atom", "rss", "json")
    stylesheet: bool = True
    dir: str = "feeds"
    workers: Annotated[int, msgspec.Meta(ge=0, le=64)] = 0
    websub_hub: str = ""
    """A WebSub hub URL: feeds link to it and ``publisher run`` pings it when a feed changes."""


class PathSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where publisher keeps its state and writes its feeds; never the current folder.

    A relative path is relative to the site folder, or to the folder of the
    TOML file that sets it. :func:`load_settings` gives both back absolute
    (so are ``[digest] templates`` and ``[smtp] ca_file`` when set).
    """

    var: str = STATE_DIR
    """State: the SQLite database, the link secret, caches, the ``.eml`` outbox.

    The default, ``SITE/.publisher``, is inside the site but begins with a dot,
    so Jekyll never copies it into ``_site/``; the folder is made 0700.
    """
    output: str = ""
    """Where ``build`` and ``run`` write ``feeds/``; empty means the site folder itself,
    from where Jekyll copies the feeds to the web root like any static file."""


class DatabaseSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where subscribers, editions and the outbox live."""

    url: str = ""
    """SQLAlchemy URL; empty means SQLite at ``<var>/publisher.db``."""


class SmtpSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The mail relay. No ``host``: messages are written as ``.eml`` files instead."""

    host: str = ""
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    timeout: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    connections: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    ca_file: str = ""
    """A PEM file of the CA certificates to trust for the relay, instead of the system's
    (a private CA or a self-signed certificate). The certificate is always verified."""


class DigestSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The weekly email digest."""

    sender: str = msgspec.field(default="", name="from")
    """``From:`` address, e.g. ``"Tsumiki Notes <news@blog.example.com>"``."""
    reply_to: str = ""
    subject: str = "{site} — {date}"
    """Subject template: ``{site}``, ``{number}``, ``{date}``, ``{count}``."""
    max_posts: Annotated[int, msgspec.Meta(ge=1, le=200)] = 20
    first_edition_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 7
    postal_address: str = ""
    templates: str = ""
    """A folder whose templates override the built-in ones (same file names)."""
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 500
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    retry_seconds: Annotated[float, msgspec.Meta(ge=0)] = 60.0
    """First retry delay after a 4xx reply or a dropped connection; doubles each time."""
    max_consecutive_errors: Annotated[int, msgspec.Meta(ge=1)] = 50
    bounce_limit: Annotated[int, msgspec.Meta(ge=1)] = 3
    rate_limit: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    """Messages per second at most; 0 means no limit."""
    schedule: str = "mon 09:00"
    """When ``publisher run`` sends: ``"mon 09:00"``, ``"mon,thu 18:30"`` or a cron expression."""
    misfire_grace_hours: Annotated[float, msgspec.Meta(ge=0, le=24 * 7)] = 12.0
    """A send missed (machine down) still goes out if ``publisher run`` is back within this."""


class RunSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``publisher run`` and ``publisher worker``: timers, the runner's lock, paused sends."""

    rebuild_minutes: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    """Rebuild the feeds this often even when no file change was seen (a fallback)."""
    lock_seconds: Annotated[float, msgspec.Meta(ge=5)] = 60.0
    """A runner that stopped renewing its lock for this long is taken over (SQLite)."""
    paused_retry_minutes: Annotated[float, msgspec.Meta(gt=0)] = 15.0
    """A send paused after too many errors in a row is tried again this much later."""
    worker_poll_seconds: Annotated[float, msgspec.Meta(ge=0.1)] = 5.0
    """``publisher worker`` looks for deliveries to make this often when idle."""


class WebSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where the subscribe / confirm / unsubscribe pages are served, and their limits."""

    base_url: str = "http://127.0.0.1:8000"
    confirm_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 7
    """A confirm link works for this many days; then subscribing again sends a new one."""
    resend_minutes: Annotated[int, msgspec.Meta(ge=0, le=10_080)] = 10
    """At most one confirmation mail per address in this many minutes."""
    subscribe_per_hour: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 20
    """Subscribe requests one client address may make in an hour (0: no limit)."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting, validated. Build it with :func:`load_settings`."""

    site: SiteSettings = SiteSettings()
    feeds: FeedSettings = FeedSettings()
    categories: dict[str, str] = {}
    tags: dict[str, str] = {}
    paths: PathSettings = PathSettings()
    database: DatabaseSettings = DatabaseSettings()
    smtp: SmtpSettings = SmtpSettings()
    digest: DigestSettings = DigestSettings()
    web: WebSettings = WebSettings()
    run: RunSettings = RunSettings()

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL in force (SQLite in ``[paths] var`` by default)."""
        return self.database.url or f"sqlite:///{Path(self.paths.var) / 'publisher.db'}"

    def fingerprint(self) -> str:
        """A short hash of the settings that shape posts and feeds; build caches key on it."""
        shaping = (self.site, self.feeds, self.categories, self.tags)
        return hashlib.sha256(msgspec.json.encode(shaping)).hexdigest()[:16]


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


_ANCHORED = (("paths", "var"), ("paths", "output"), ("digest", "templates"), ("smtp", "ca_file"))
"""The settings that name a file or folder: relative to the site or the TOML file setting them."""
_MAY_BE_EMPTY = {("digest", "templates"), ("smtp", "ca_file")}
"""Empty means "none" here, not the folder it would be relative to."""


def _anchor(settings: Settings, bases: dict[tuple[str, str], Path]) -> Settings:
    """The path settings made absolute against the folders they are relative to."""
    fixed: dict[str, dict[str, str]] = {}
    for section, key in _ANCHORED:
        value = getattr(getattr(settings, section), key)
        if value or (section, key) not in _MAY_BE_EMPTY:
            fixed.setdefault(section, {})[key] = os.path.normpath(bases[section, key] / value)
    tables = {
        section: msgspec.structs.replace(getattr(settings, section), **values)
        for section, values in fixed.items()
    }
    return msgspec.structs.replace(settings, **tables)


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
    return {k: v for k, v in site.items() if v is not None}


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


def _convert(data: dict[str, Any]) -> Settings:
    try:
        return msgspec.convert(data, Settings)
    except msgspec.ValidationError as exc:
        match = _MSGSPEC_PATH.match(str(exc))
        assert match is not None
        reason, path = match["reason"], (match["path"] or "").lstrip(".")
        path = re.sub(r"\[(\d+)\]", r"[\1]", path)
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
    hub = urlsplit(settings.feeds.websub_hub)
    if settings.feeds.websub_hub and (hub.scheme not in ("http", "https") or not hub.hostname):
        raise ConfigError("feeds.websub_hub", "expected an absolute http(s) URL of the hub")
    for table in ("categories", "tags"):
        for name, slug in getattr(settings, table).items():
            if not slug or "/" in slug or "\\" in slug or slug.startswith("."):
                raise ConfigError(f"{table}.{name}", f"{slug!r} is not a safe file name for a feed")
