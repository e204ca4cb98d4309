"""publisher.app.reloading: settings files changed under a running context."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.app.context import Context
from publisher.app.reloading import reload_settings, settings_stamp
from publisher.joblog import change_line


@pytest.fixture
def ctx(site: Path) -> Context:
    (site / "publisher.toml").write_text("[feeds]\nlimit = 20\n", encoding="utf-8")
    return Context(site_dir=site, environ={})


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_a_valid_change_is_applied(ctx: Context, site: Path) -> None:
    before = settings_stamp(ctx)
    _write(site / "publisher.toml", '[feeds]\nlimit = 5\n[digest]\nschedule = "daily 07:00"\n')
    assert settings_stamp(ctx) != before
    change = reload_settings(ctx)
    assert change.applied and change.changed == ("feeds", "digest") and change.settings
    assert (change.settings.feeds.limit, change.settings.digest.schedule) == (5, "daily 07:00")
    assert change_line(change) == "settings: reloaded (feeds, digest changed)"
    assert ctx.config.feeds.limit == 20  # a context never changes: the runner makes a new one


def test_the_new_context_shares_the_database_and_leaves_the_old_one_alone(
    ctx: Context, site: Path
) -> None:
    engine, secret = ctx.engine, ctx.secret
    _write(site / "publisher.toml", "[feeds]\nlimit = 7\n")
    change = reload_settings(ctx)
    assert change.settings is not None
    new = ctx.with_settings(change.settings)
    assert (new.config.feeds.limit, ctx.config.feeds.limit) == (7, 20)
    assert new.engine is engine and new.secret == secret
    ctx.close()  # closing one closes the database they share
    assert new.engine is not engine
    new.close()


def test_the_site_config_counts_too(ctx: Context, site: Path) -> None:
    config = site / "_config.yml"
    _write(config, config.read_text(encoding="utf-8") + "description: A new one\n")
    change = reload_settings(ctx)
    assert change.changed == ("site",) and change.settings
    assert change.settings.site.description == "A new one"


def test_invalid_settings_are_reported_and_the_old_ones_stay(ctx: Context, site: Path) -> None:
    old = ctx.config
    _write(site / "publisher.toml", '[feeds]\nlimit = "ten"\n')
    change = reload_settings(ctx)
    assert not change.applied and change.settings is None and ctx.config is old
    assert "feeds.limit" in change.error
    assert change_line(change).startswith(
        "settings: not reloaded, keeping the old ones: feeds.limit"
    )


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[database]\nurl = "sqlite:////tmp/elsewhere.db"\n', "[database] url"),
        ('[paths]\nvar = "/tmp/elsewhere"\n', "[paths] var"),
        ('[site]\nposts_dir = "posts"\n', "[site] posts_dir"),
    ],
)
def test_what_needs_a_restart_is_not_applied(ctx: Context, site: Path, toml: str, key: str) -> None:
    _write(site / "publisher.toml", toml + "[feeds]\nlimit = 3\n")
    change = reload_settings(ctx)
    assert change.needs_restart == (key,) and not change.applied and change.settings is None
    assert "restart publisher run" in change_line(change)


def test_a_touched_file_with_the_same_settings_changes_nothing(ctx: Context, site: Path) -> None:
    _write(site / "publisher.toml", "# a comment\n[feeds]\nlimit = 20\n")
    change = reload_settings(ctx)
    assert change.changed == () and not change.applied and change.settings is None


def test_a_config_file_created_later_is_noticed(site: Path) -> None:
    ctx = Context(site_dir=site, environ={})
    before = settings_stamp(ctx)
    (site / "config").mkdir()
    _write(site / "config" / "publisher.toml", "[feeds]\nlimit = 2\n")
    assert settings_stamp(ctx) != before
    change = reload_settings(ctx)
    assert change.applied and change.settings and change.settings.feeds.limit == 2
