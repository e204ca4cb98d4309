"""Use cases of the console's login: the password hash, the sessions, throttled failures.

**The password** is held as an argon2id hash: ``PUBLISHER_CONSOLE_PASSWORD_HASH``
in the environment, else ``[console] password_hash``; ``publisher console
hash-password`` makes one. A plain ``PUBLISHER_CONSOLE_PASSWORD`` (what earlier
versions read) is still accepted, hashed in memory, with a warning at start-up
saying how to replace it: refusing it would lock the editors out on upgrade,
and the length rule applies to it all the same. Nothing set: the console is off.

**A session** is a signed, dated cookie value (:func:`publisher.tokens.sign_dated`)
whose signature covers a fingerprint of the hash in force, so a new password
logs everyone out; it is also listed here, in this process, until it expires
or its editor logs out, so a copy of a logged-out cookie is worth nothing. A
restart therefore logs everyone out too (the console's send and its progress
live in this one process as well).

**Failures** are throttled by :class:`~publisher.app.console_throttle.LoginThrottle`;
one password check runs at a time (argon2 takes 64 MiB and tens of ms), so a
burst of parallel guesses cannot slip past the throttle's count.

>>> hashed = hash_password("correct horse battery staple")   # doctest: +SKIP
>>> verify_password(hashed, "correct horse battery staple")  # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from typing import Literal

import argon2

from publisher.app.console_throttle import LoginThrottle
from publisher.app.context import CONSOLE_HASH_ENV, CONSOLE_PASSWORD_ENV, Context
from publisher.errors import ConfigError, TokenError
from publisher.tokens import sign_dated, verify_dated

__all__ = [
    "HASH_ENV",
    "MIN_PASSWORD",
    "PASSWORD_ENV",
    "ConsoleAccess",
    "LoginResult",
    "check_password_length",
    "console_configured",
    "hash_password",
    "verify_password",
]

HASH_ENV = CONSOLE_HASH_ENV
PASSWORD_ENV = CONSOLE_PASSWORD_ENV
HASH_KEY = "console.password_hash"
MIN_PASSWORD = 12
"""The fewest characters a console password may have."""
MAX_SESSIONS = 1000
"""Live sessions kept at most; past that the oldest is logged out."""
_SESSION = "console-session"
_HASHER = argon2.PasswordHasher()  # argon2id, RFC 9106's low-memory profile


def check_password_length(password: str, key: str = "password") -> None:
    """Refuse (:class:`ConfigError` naming ``key``) a password shorter than :data:`MIN_PASSWORD`."""
    if len(password) < MIN_PASSWORD:
        raise ConfigError(
            key, f"must be at least {MIN_PASSWORD} characters long (it has {len(password)})"
        )


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (at least :data:`MIN_PASSWORD` characters)."""
    check_password_length(password)
    return _HASHER.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    """Whether ``password`` is the one ``hashed`` was made from (False for a broken hash)."""
    try:
        return _HASHER.verify(hashed, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def check_hash(hashed: str, key: str) -> str:
    """``hashed`` if it is an argon2id hash, else :class:`ConfigError` naming ``key``."""
    try:
        kind = argon2.extract_parameters(hashed).type
    except argon2.exceptions.InvalidHashError:
        kind = None
    if kind is not argon2.Type.ID:
        raise ConfigError(
            key, "is not an argon2id hash (make one with: publisher console hash-password)"
        )
    return hashed


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to; ``retry_after`` is in whole seconds."""

    outcome: Literal["ok", "wrong", "throttled"]
    session: str = ""
    """The cookie's value, when ``ok``."""
    retry_after: int = 0
    failures: int = 0
    """Failures from this client in a row, counting this one."""


class ConsoleAccess:
    """The console's credentials, live sessions and throttle (one per server process)."""

    def __init__(self, throttle: LoginThrottle | None = None) -> None:
        self.throttle = throttle or LoginThrottle()
        self._plain: dict[str, str] = {}  # a plain password -> its in-memory hash
        self._live: dict[int, int] = {}  # session id -> when it expires (Unix seconds)
        self._lock = threading.Lock()
        self._checking = threading.Lock()

    def password_hash(self, ctx: Context) -> str | None:
        """The hash in force (None: the console is off); a bad setting raises ConfigError."""
        hashed = ctx.credentials.console_password_hash
        if hashed:
            return check_hash(hashed, HASH_ENV)
        hashed = ctx.config.console.password_hash.strip()
        if hashed:
            return check_hash(hashed, HASH_KEY)
        plain = ctx.credentials.console_password
        return self._hash_plain(plain) if plain else None

    def warnings(self, ctx: Context) -> list[str]:
        """What the operator should change in the settings (said once, at start-up)."""
        if not ctx.credentials.console_password:
            return []
        if ctx.credentials.console_password_hash or ctx.config.console.password_hash.strip():
            return [f"{PASSWORD_ENV} is ignored: a password hash is set; remove it"]
        return [
            f"{PASSWORD_ENV} holds the console's password in the clear; set its hash in"
            f" {HASH_ENV} instead (publisher console hash-password) and remove it"
        ]

    def _hash_plain(self, plain: str) -> str:
        check_password_length(plain, PASSWORD_ENV)
        with self._lock:
            hashed = self._plain.get(plain)
        if hashed is None:
            hashed = _HASHER.hash(plain)
            with self._lock:
                self._plain = {plain: hashed}  # only the one in force is kept
        return hashed

    def log_in(self, ctx: Context, client: str, password: str) -> LoginResult:
        """Check ``password`` from ``client`` unless the throttle says wait; a session if right."""
        hashed = self.password_hash(ctx)
        if hashed is None:
            return LoginResult("wrong")
        if wait := self.throttle.wait(client, ctx.clock()):
            return LoginResult("throttled", retry_after=wait)
        with self._checking:
            if wait := self.throttle.wait(client, ctx.clock()):
                return LoginResult("throttled", retry_after=wait)
            right = verify_password(hashed, password)
            now = ctx.clock()
            if not right:
                failures, wait = self.throttle.failed(client, now)
                return LoginResult("throttled" if wait else "wrong", "", wait, failures)
            self.throttle.succeeded(client)
        return LoginResult("ok", session=self._open(ctx, hashed))

    def _open(self, ctx: Context, hashed: str) -> str:
        issued = int(ctx.clock().timestamp())
        ident = secrets.randbelow(10**18)
        with self._lock:
            self._live = {k: v for k, v in self._live.items() if v > issued}
            self._live[ident] = issued + session_seconds(ctx)
            while len(self._live) > MAX_SESSIONS:
                del self._live[next(iter(self._live))]
        return sign_dated(ctx.secret, _purpose(hashed), ident, issued)

    def session_valid(self, ctx: Context, session: str) -> bool:
        """Whether ``session`` is a live login under the password in force."""
        return self._session_id(ctx, session) is not None

    def log_out(self, ctx: Context, session: str) -> None:
        """End ``session`` (a copy of its cookie stops working too)."""
        ident = self._session_id(ctx, session)
        if ident is not None:
            with self._lock:
                self._live.pop(ident, None)

    def _session_id(self, ctx: Context, session: str) -> int | None:
        hashed = self.password_hash(ctx)
        if hashed is None or not session:
            return None
        now = int(ctx.clock().timestamp())
        try:
            ident = verify_dated(ctx.secret, _purpose(hashed), session, now, session_seconds(ctx))
        except TokenError:
            return None
        with self._lock:
            live = self._live.get(ident, 0) > now
        return ident if live else None


def console_configured(ctx: Context) -> bool:
    """Whether a console password (its hash, or the plain one) is set: else the console is off."""
    return bool(
        ctx.credentials.console_password_hash
        or ctx.config.console.password_hash.strip()
        or ctx.credentials.console_password
    )


def session_seconds(ctx: Context) -> int:
    """How long a login lasts (``[console] session_hours``)."""
    return int(ctx.config.console.session_hours * 3600)


def _purpose(hashed: str) -> str:
    """The session's signing purpose, bound to the password hash in force."""
    return f"{_SESSION}/{hashlib.sha256(hashed.encode()).hexdigest()[:16]}"
