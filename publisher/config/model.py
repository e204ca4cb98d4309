"""The settings as frozen, validated structs: one per section of ``publisher.toml``."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import msgspec

__all__ = [
    "DEFAULT_MARKER",
    "ENV_PREFIX",
    "JEKYLL_KEYS",
    "STATE_DIR",
    "BounceSettings",
    "CleanKind",
    "ConsoleSettings",
    "ContentSettings",
    "DatabaseSettings",
    "DigestSettings",
    "FeedSettings",
    "JekyllFeed",
    "JekyllFeedTags",
    "PathSettings",
    "RunSettings",
    "Settings",
    "SiteSettings",
    "SmtpSettings",
    "WebSettings",
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
CleanKind = Literal["markers", "repeats", "title_line"]
DEFAULT_MARKER = r"/-{3,} ?[A-Za-z][A-Za-z0-9]*(?:[ _-][A-Za-z0-9]+)* ?-{3,}/"
"""Three or more dashes, a word or a few (ASCII letters and digits), three or more dashes:
``---END---``, ``--- CONTINUE ---``, ``-----PART_2-----``. Dashes alone are Markdown (a rule,
a heading's underline) and never match; dashes around a word are no Markdown at all."""


class JekyllFeedTags(msgspec.Struct, frozen=True, kw_only=True):
    """jekyll-feed's ``feed.tags`` as a mapping: which tags get a feed, and where."""

    only: tuple[str, ...] | None = None
    """The tags to make feeds for; ``None``: every tag of a published post."""
    except_: tuple[str, ...] = msgspec.field(default=(), name="except")
    path: str = "/feed/by_tag/"
    """Prefixed to ``<tag>.xml`` as it is (jekyll-feed adds no ``/``)."""


class JekyllFeed(msgspec.Struct, frozen=True, kw_only=True):
    """jekyll-feed's settings: the ``feed:`` mapping of ``_config.yml``.

    Read only for ``[feeds] jekyll_feed``, to write the feeds jekyll-feed wrote,
    where it wrote them. Keys jekyll-feed has and publisher does not use
    (``collections``, ``disable_in_development``) are ignored.
    """

    path: str = "/feed.xml"
    categories: tuple[str, ...] = ()
    tags: bool | JekyllFeedTags = False
    posts_limit: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 10
    excerpt_only: bool = False


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
    feed: JekyllFeed = JekyllFeed()
    """jekyll-feed's ``feed:`` settings, from ``_config.yml``."""

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
    jekyll_feed: bool = False
    """Also write jekyll-feed's feeds (``feed.xml``, ``feed/<category>.xml``…) with its entry ids,
    so readers subscribed to them notice no switch."""
    jekyll_feed_until: str = ""
    """ISO 8601 date or time; posts dated after it get publisher's ``tag:`` ids in those feeds
    too. Empty: every post keeps the id jekyll-feed gives it."""

    def jekyll_cutoff(self, tz: tzinfo) -> datetime | None:
        """``jekyll_feed_until`` as an aware time (no offset: in ``tz``); None when empty.

        >>> from datetime import UTC
        >>> FeedSettings(jekyll_feed_until="2026-01-01").jekyll_cutoff(UTC).isoformat()
        '2026-01-01T00:00:00+00:00'
        """
        if not self.jekyll_feed_until:
            return None
        moment = datetime.fromisoformat(self.jekyll_feed_until)
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)


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
    pending_per_hour: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 200
    """Sign-ups (addresses added or sent a confirm link) the whole site takes in an hour
    (0: no limit); past it the form answers 429 and mails no one."""
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=1_048_576)] = 8192
    """The largest request body the web edge reads; a larger one gets 413 unread."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (``"127.0.0.1"``, ``"10.0.0.0/8"``) of the reverse proxies whose
    ``X-Forwarded-For`` names the client. Empty: the header is ignored."""
    allowed_origins: tuple[str, ...] = ()
    """Origins besides ``base_url``'s (``"https://blog.example.com"``) whose pages may post
    the subscribe form, or frame ``/subscribe/embed`` (the site's own ``url`` may frame it
    without being listed)."""

    def __post_init__(self) -> None:
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                reason = f"trusted_proxies: {entry!r} is not an address or network"
                raise ValueError(reason) from exc
        for origin in self.allowed_origins:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"allowed_origins: {origin!r} is not an http(s) origin")


class BounceSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The IMAP mailbox that receives returned mail: bounces and complaints.

    No ``host``: nothing is read (bounces the relay gives while sending still count).
    The password comes from ``PUBLISHER_IMAP_PASSWORD``.
    """

    host: str = ""
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 993
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str = ""
    folder: str = "INBOX"
    """Where returned mail arrives."""
    done_folder: str = "publisher-done"
    """Where a report publisher has recorded is moved (made if missing)."""
    ignored_folder: str = "publisher-ignored"
    """Where anything else is moved: replies, spam, reports about mail that is not ours."""
    poll_minutes: Annotated[float, msgspec.Meta(gt=0)] = 15.0
    """``publisher run`` reads the mailbox this often."""
    timeout: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    ca_file: str = ""
    """A PEM file of the CA certificates to trust for the server, instead of the system's."""

    def __post_init__(self) -> None:
        for name in ("folder", "done_folder", "ignored_folder"):
            value = getattr(self, name)
            if not value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
                raise ValueError(f"{name}: {value!r} is not a folder name")
        if len({self.folder, self.done_folder, self.ignored_folder}) < 3:
            raise ValueError("folder, done_folder and ignored_folder must be three folders")


class ConsoleSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The editors' console: who may log in, and for how long."""

    password_hash: str = ""
    """An argon2id hash (``publisher console hash-password``); the environment's
    ``PUBLISHER_CONSOLE_PASSWORD_HASH`` comes first."""
    session_hours: Annotated[float, msgspec.Meta(gt=0, le=24 * 30)] = 12.0
    """A login lasts this long; then the editor logs in again."""


class ContentSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What ``publisher check`` looks for in the posts, and what feeds and digests leave out."""

    markers: tuple[str, ...] = (DEFAULT_MARKER,)
    """Lines a post generator leaves behind: ``/regex/`` (matched against the whole line,
    spaces around it ignored) or a literal line (``---END---``)."""
    clean: tuple[CleanKind, ...] = ()
    """Left out of what feeds and digests publish (never of the files): ``markers``,
    ``repeats`` (paragraphs repeated exactly), ``title_line`` (a first line repeating the title)."""
    known_keys: tuple[str, ...] = ()
    """Front-matter keys of the site's theme or plugins, so ``check`` does not report them."""

    def __post_init__(self) -> None:
        for spec in self.markers:
            if len(spec) > 2 and spec.startswith("/") and spec.endswith("/"):
                try:
                    re.compile(spec[1:-1])
                except re.error as exc:
                    raise ValueError(
                        f"markers: {spec!r} is not a regular expression: {exc}"
                    ) from None
            elif not spec.strip():
                raise ValueError("markers: an empty line cannot be a marker")


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
    console: ConsoleSettings = ConsoleSettings()
    bounces: BounceSettings = BounceSettings()
    content: ContentSettings = ContentSettings()

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL in force (SQLite in ``[paths] var`` by default)."""
        return self.database.url or f"sqlite:///{Path(self.paths.var) / 'publisher.db'}"

    def fingerprint(self) -> str:
        """A short hash of the settings that shape posts and feeds; build caches key on it."""
        shaping: tuple[object, ...] = (self.site, self.feeds, self.categories, self.tags)
        if self.content != ContentSettings():  # the default keeps the caches of earlier versions
            shaping += (self.content,)
        return hashlib.sha256(msgspec.json.encode(shaping)).hexdigest()[:16]
