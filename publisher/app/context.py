"""What every newsletter use case is given: settings, the database, the secret, two clocks.

A :class:`Context` is made once, at the edge (a command, the web server, the
runner), and never changes: the settings are read and checked when it is
made, the credentials are taken from the environment then (:class:`Credentials`),
and nothing below reads the environment again. ``publisher run`` applies
edited settings by making a new context that shares the open database
(:meth:`Context.with_settings`) and handing it to the jobs that start after;
a job already running keeps the one it started with.

Why one object rather than four arguments: nearly every use case needs three
or four of the same things (settings, the database, the real clock, the link
secret; ``--now`` for the window), and what varies from one to the next, the
transport, is passed on its own (``transport=``). What a use case may not do
through it is what made such objects hard to follow: it cannot change it,
cannot read the environment through it, and opening the database never
migrates it unless the edge asked for that.

**State** lives in ``[paths] var``, which :func:`~publisher.config.load_settings`
anchors to the site folder (default ``SITE/.publisher``), never to the
current folder: a command run by cron, by systemd or from a shell sees the
same database and signs links with the same secret. The folder is made 0700.
State left by an earlier version in ``./var`` or ``SITE/var`` is never
migrated silently: a command that would otherwise start an empty database or
a new secret stops and says how to move it.

**The database** is opened on first use, by whichever copy of the context
uses it first, and shared by all of them. ``migrate`` says whether an older
schema is brought up to date then (``publisher db upgrade`` and the
long-running commands); a one-shot command on an older schema is refused with
"run ``publisher db upgrade``".

**The secret** signs confirm and unsubscribe links. It comes from the
environment (``PUBLISHER_SECRET``); with the embedded defaults (no SMTP relay,
mail goes to ``.eml`` files) one is generated once into ``var/secret``
(atomically, 0600), but a real send (``[smtp] host`` set) without
``PUBLISHER_SECRET`` is refused at start-up, so links never depend on a file
that a redeploy may lose.

**Two clocks.** :meth:`Context.as_of` is ``--now`` when given: it only chooses
which posts are published and which edition window a send covers.
:meth:`Context.clock` is always the real clock (``wall``, which tests may
replace): leases, claims, backoff, timestamps and link dates use it, so a
preview time never leaks into coordination with other processes.

>>> ctx = Context(site_dir=Path("examples/site"), environ={})
>>> ctx.config.site.title
'Tsumiki Notes'
>>> later = ctx.at(datetime(2025, 11, 20, tzinfo=UTC))    # a copy; ctx never changes
>>> (ctx.now, later.now.year, later.site_dir == ctx.site_dir)
(None, 2025, True)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from publisher.config import Settings, load_settings
from publisher.errors import ConfigError, OutputError
from publisher.files import private_dir

if TYPE_CHECKING:
    from publisher.content import ReadResult
    from publisher.store import Engine

__all__ = [
    "CONSOLE_HASH_ENV",
    "CONSOLE_PASSWORD_ENV",
    "IMAP_PASSWORD_ENV",
    "SECRET_ENV",
    "SMTP_PASSWORD_ENV",
    "Context",
    "Credentials",
    "find_old_state",
    "read_site",
    "utc_now",
]

SECRET_ENV = "PUBLISHER_SECRET"
SMTP_PASSWORD_ENV = "PUBLISHER_SMTP_PASSWORD"
IMAP_PASSWORD_ENV = "PUBLISHER_IMAP_PASSWORD"
CONSOLE_HASH_ENV = "PUBLISHER_CONSOLE_PASSWORD_HASH"
CONSOLE_PASSWORD_ENV = "PUBLISHER_CONSOLE_PASSWORD"
_MIN_SECRET = 16
_MIN_SECRET_FILE = 32
_OLD_STATE = ("publisher.db", "secret")


def utc_now() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Credentials:
    """What only the environment holds (never a settings file): read once, when a context is made.

    >>> Credentials.from_environ({"PUBLISHER_SMTP_PASSWORD": "right horse"}).smtp_password
    'right horse'
    """

    link_secret: str = ""
    """``PUBLISHER_SECRET``: the key that signs links (else a generated file, see the module)."""
    smtp_password: str = ""
    """``PUBLISHER_SMTP_PASSWORD``: for ``[smtp] username``."""
    console_password: str = ""
    """``PUBLISHER_CONSOLE_PASSWORD``: the console's password in the clear (discouraged)."""
    console_password_hash: str = ""
    """``PUBLISHER_CONSOLE_PASSWORD_HASH``: its argon2id hash."""
    imap_password: str = ""
    """``PUBLISHER_IMAP_PASSWORD``: for ``[bounces] username``."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Credentials:
        """The credentials ``environ`` holds."""
        return cls(
            link_secret=environ.get(SECRET_ENV, ""),
            smtp_password=environ.get(SMTP_PASSWORD_ENV, ""),
            console_password=environ.get(CONSOLE_PASSWORD_ENV, ""),
            console_password_hash=environ.get(CONSOLE_HASH_ENV, "").strip(),
            imap_password=environ.get(IMAP_PASSWORD_ENV, ""),
        )

    def __repr__(self) -> str:  # never a secret in a log line or a traceback
        shown = ", ".join(
            f"{f.name}={'<set>' if getattr(self, f.name) else '<unset>'}" for f in fields(self)
        )
        return f"Credentials({shown})"


class _Opened:
    """The database and the secret once opened: shared by a context and the copies made of it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.engine: Engine | None = None
        self.secret: bytes | None = None


@dataclass(frozen=True, eq=False)
class Context:
    """One command's view of the site: settings, clocks, credentials; database and secret lazily."""

    site_dir: Path = Path()
    config_file: Path | None = None
    now: datetime | None = None
    """``--now``: the moment whose posts and edition window to act on (see :meth:`as_of`)."""
    settings: Settings | None = None
    """The settings; None: read from the site, ``config_file`` and ``environ`` when made."""
    environ: InitVar[Mapping[str, str] | None] = None
    """Where the settings' overrides and the credentials come from (default: this process's)."""
    wall: Callable[[], datetime] = utc_now
    """The real clock (see :meth:`clock`)."""
    migrate: bool = False
    """Bring an older database schema up to date when it is opened: what ``publisher db
    upgrade`` and the long-running commands do; others refuse an old schema, saying so."""
    credentials: Credentials = field(init=False)
    _environ: Mapping[str, str] = field(init=False, repr=False, compare=False)
    _opened: _Opened = field(init=False, repr=False, compare=False)

    def __post_init__(self, environ: Mapping[str, str] | None) -> None:
        env = MappingProxyType(dict(os.environ if environ is None else environ))
        if self.settings is None:
            object.__setattr__(
                self, "settings", load_settings(self.site_dir, self.config_file, env)
            )
        object.__setattr__(self, "credentials", Credentials.from_environ(env))
        object.__setattr__(self, "_environ", env)
        object.__setattr__(self, "_opened", _Opened())

    @property
    def config(self) -> Settings:
        """The validated settings."""
        assert self.settings is not None
        return self.settings

    def reread_settings(self) -> Settings:
        """The settings as their files and the environment say now (ConfigError if invalid)."""
        return load_settings(self.site_dir, self.config_file, self._environ)

    def with_settings(self, settings: Settings) -> Context:
        """A copy with other settings, sharing this one's database and secret."""
        return self._copy(settings=settings)

    def migrating(self) -> Context:
        """A copy that brings an older schema up to date when it opens the database.

        The copies share one database: one opened already has the current schema (an
        older one is refused when opened without ``migrate``).
        """
        return self._copy(migrate=True)

    def at(self, now: datetime | None) -> Context:
        """A copy that acts as of ``now`` (``--now``), sharing this one's database and secret."""
        return self._copy(now=now)

    def _copy(self, **changes: object) -> Context:
        new = object.__new__(Context)
        for name, value in {**self.__dict__, **changes}.items():
            object.__setattr__(new, name, value)
        return new

    def clock(self) -> datetime:
        """The real time: for leases, backoff, timestamps and link dates. Never ``--now``."""
        return self.wall()

    def as_of(self) -> datetime:
        """``--now`` if given, else the real time: which posts and which edition window."""
        return self.now or self.wall()

    @property
    def var(self) -> Path:
        """Where publisher keeps its state (absolute; see the module docstring)."""
        return Path(self.config.paths.var)

    def state_dir(self) -> Path:
        """The state folder, created 0700 if missing (and narrowed to 0700 if ours and wider)."""
        return private_dir(self.var)

    def close(self) -> None:
        """Release the database connections, if the database was opened (for every copy)."""
        with self._opened.lock:
            engine, self._opened.engine = self._opened.engine, None
        if engine is not None:
            engine.dispose()

    @property
    def engine(self) -> Engine:
        """The database, created (and with ``migrate`` migrated) on first use."""
        with self._opened.lock:
            if self._opened.engine is None:
                self._opened.engine = self._open_engine()
            return self._opened.engine

    def _open_engine(self) -> Engine:
        from publisher.store import open_store

        if not self.config.database.url:
            self._refuse_old_state("publisher.db")
            self.state_dir()
        return open_store(self.config.database_url, migrate=self.migrate)

    @property
    def secret(self) -> bytes:
        """The HMAC key for links (see the module docstring)."""
        with self._opened.lock:
            if self._opened.secret is None:
                self._opened.secret = self._load_secret()
            return self._opened.secret

    def _load_secret(self) -> bytes:
        value = self.credentials.link_secret
        if value:
            if len(value) < _MIN_SECRET:
                raise ConfigError(SECRET_ENV, f"must be at least {_MIN_SECRET} characters")
            return value.encode("utf-8")
        if self.config.smtp.host:
            raise ConfigError(
                SECRET_ENV,
                "required when [smtp] host is set: links in real mail must not depend on a"
                " generated file (generate one with: python3 -c 'import secrets;"
                " print(secrets.token_urlsafe(32))')",
            )
        path = self.var / "secret"
        if not path.exists():
            self._refuse_old_state("secret")
            try:
                _create_secret(self.state_dir() / "secret")
            except OSError as exc:
                raise OutputError(path, f"cannot write the link secret: {exc.strerror}") from exc
        return _read_secret(path)

    def _refuse_old_state(self, name: str) -> None:
        """Stop before starting anew beside an earlier version's ``name`` (see module docstring)."""
        if (self.var / name).exists():
            return
        old = find_old_state(self.site_dir, self.var)
        if old is not None:
            move = _move_command(old, self.var)
            raise ConfigError(
                "paths.var",
                f"{old} holds publisher's state from an earlier version, which kept it in the"
                f" current folder; it now lives in {self.var}. Move it ({move}) or"
                f' keep it where it is with [paths] var = "{old}". Nothing was changed.',
            )


def read_site(ctx: Context, now: datetime | None = None) -> ReadResult:
    """The site's posts as of ``now`` (default :meth:`Context.as_of`), through the build's cache."""
    from publisher.content import read_posts

    cache = ctx.var / "cache" / "posts.json"  # the same file `publisher build` keeps
    return read_posts(ctx.site_dir, ctx.config, now or ctx.as_of(), cache_file=cache)


def find_old_state(site_dir: Path, var: Path) -> Path | None:
    """A ``var/`` with a database or secret in the current folder or the site, if not ``var``."""
    for candidate in (Path.cwd() / "var", site_dir.absolute() / "var"):
        if os.path.normpath(candidate) == os.path.normpath(var):
            continue
        if any((candidate / name).is_file() for name in _OLD_STATE):
            return candidate
    return None


def _move_command(old: Path, var: Path) -> str:
    """The shell command that makes ``old``'s state ``var``'s.

    ``mv OLD VAR`` while ``var`` exists (a build already made its ``cache/`` there) would
    put ``old`` inside it, as ``VAR/var``, where nothing looks: then move what ``old`` holds,
    less its cache (rebuilt when missing).
    """
    import shlex

    if not var.exists():
        return f"mv {shlex.quote(str(old))} {shlex.quote(str(var))}"
    held = sorted(shlex.quote(str(p)) for p in old.iterdir() if p.name != "cache")
    return f"mv {' '.join(held)} {shlex.quote(str(var))}/"


def _create_secret(path: Path) -> None:
    """Write a new secret atomically (0600, fsync, link into place); another's wins a race."""
    tmp = path.with_name(f".secret-{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(32))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made one first: use theirs
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


def _read_secret(path: Path) -> bytes:
    try:
        value = path.read_text(encoding="utf-8").strip().encode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read the link secret: {exc}") from exc
    if len(value) < _MIN_SECRET_FILE:
        raise ConfigError(
            str(path),
            f"the link secret must be at least {_MIN_SECRET_FILE} bytes, this one has"
            f" {len(value)}: delete the file to have a new one made (links in mail already"
            f" sent then stop working), or set {SECRET_ENV}",
        )
    return value
