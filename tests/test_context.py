"""publisher.app.context: made once at the edge, never changed, no secret in its repr."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from publisher.app.context import Context, Credentials

SECRET = "a-link-secret-of-thirty-two-bytes!!"
ENV = {
    "PUBLISHER_SECRET": SECRET,
    "PUBLISHER_SMTP_PASSWORD": "smtp horse battery",
    "PUBLISHER_CONSOLE_PASSWORD": "console horse battery",
    "PUBLISHER_CONSOLE_PASSWORD_HASH": "  $argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA  ",
}


def test_the_credentials_are_read_once_from_the_environment_given(site: Path) -> None:
    environ = dict(ENV)
    ctx = Context(site_dir=site, environ=environ)
    environ["PUBLISHER_SMTP_PASSWORD"] = "changed later"  # the context keeps what it read
    del environ["PUBLISHER_SECRET"]
    assert ctx.credentials == Credentials(
        link_secret=SECRET,
        smtp_password="smtp horse battery",
        console_password="console horse battery",
        console_password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
    )
    assert ctx.secret == SECRET.encode()


def test_no_secret_shows_in_a_repr(site: Path) -> None:
    ctx = Context(site_dir=site, environ=ENV)
    shown = repr(ctx)
    for value in ENV.values():
        assert value.strip() not in shown
    assert "smtp_password=<set>" in shown and "Credentials(" in shown
    assert "link_secret=<unset>" in repr(Credentials())


def test_a_context_cannot_be_changed(site: Path) -> None:
    ctx = Context(site_dir=site, environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.now = datetime(2025, 1, 1, tzinfo=UTC)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.settings = None  # type: ignore[misc]


def test_copies_share_the_database_and_the_secret(site: Path) -> None:
    ctx = Context(site_dir=site, environ={})
    later = ctx.at(datetime(2025, 11, 20, tzinfo=UTC))
    migrating = ctx.migrating()
    assert (ctx.now, ctx.migrate, migrating.migrate) == (None, False, True)
    assert later.engine is ctx.engine is migrating.engine  # opened once, by whichever is first
    assert later.secret == ctx.secret  # a generated one: made once, in the state folder
    assert len(list((site / ".publisher").glob("secret"))) == 1
    ctx.close()


def test_a_settings_error_stops_the_context_being_made(site: Path) -> None:
    (site / "publisher.toml").write_text("[feeds]\nlimit = 'ten'\n", encoding="utf-8")
    from publisher.errors import ConfigError

    with pytest.raises(ConfigError, match=r"feeds\.limit"):
        Context(site_dir=site, environ={})
