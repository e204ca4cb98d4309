"""What every newsletter use case needs: settings, the database, the secret, a clock.

The secret signs confirm and unsubscribe links. It comes from the environment
(``PUBLISHER_SECRET``); with the embedded defaults (no SMTP relay, mail goes
to ``.eml`` files) one is generated once and kept in ``var/secret``, but a
real send (``[smtp] host`` set) without ``PUBLISHER_SECRET`` is refused at
start-up, so links never depend on a file that a redeploy may lose.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.config import Settings, load_settings
from publisher.errors import ConfigError

if TYPE_CHECKING:
    from publisher.store import Engine

__all__ = ["SECRET_ENV", "Context"]

SECRET_ENV = "PUBLISHER_SECRET"
_MIN_SECRET = 16


@dataclass
class Context:
    """One command's view of the site: settings, clock, database and secret (opened lazily)."""

    site_dir: Path = Path()
    config_file: Path | None = None
    now: datetime | None = None
    settings: Settings | None = None
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def __post_init__(self) -> None:
        if self.settings is None:
            self.settings = load_settings(self.site_dir, self.config_file, self.environ)

    @property
    def config(self) -> Settings:
        """The validated settings."""
        assert self.settings is not None
        return self.settings

    def clock(self) -> datetime:
        """``--now`` if given, else the current time (UTC)."""
        return self.now or datetime.now(UTC)

    @property
    def var(self) -> Path:
        """Where publisher keeps its state."""
        return Path(self.config.paths.var)

    def close(self) -> None:
        """Release the database connections, if the database was opened."""
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()

    @cached_property
    def engine(self) -> Engine:
        """The database, created and migrated on first use."""
        from publisher.store import open_store

        return open_store(self.config.database_url)

    @cached_property
    def secret(self) -> bytes:
        """The HMAC key for links (see the module docstring)."""
        value = self.environ.get(SECRET_ENV, "")
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
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first: use theirs
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(32))
        return path.read_text(encoding="utf-8").strip().encode("utf-8")
