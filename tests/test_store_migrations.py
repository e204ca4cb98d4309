"""publisher.store.engine and migrations: the migrated schema is exactly schema.metadata."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, Table, inspect, text

from publisher.store import current_revision, open_engine, open_store, upgrade
from publisher.store.schema import metadata

HEAD = "0004"


def schema_differences(engine: Engine, target: MetaData) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        return list(compare_metadata(context, target))


def test_the_migrated_schema_matches_the_tables(db: Engine) -> None:
    assert schema_differences(db, metadata) == []
    assert current_revision(db) == HEAD
    tables = set(inspect(db).get_table_names())
    assert {"subscribers", "editions", "outbox", "runner_lock", "alembic_version"} <= tables


def test_the_comparison_would_see_a_difference(db: Engine) -> None:
    changed = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    Table("outbox", changed, Column("priority", Integer), extend_existing=True)
    assert [d[0] for d in schema_differences(db, changed)] == ["add_column"]  # type: ignore[index]


def test_upgrading_again_changes_nothing(db: Engine) -> None:
    upgrade(db)
    assert current_revision(db) == HEAD
    assert schema_differences(db, metadata) == []


def test_the_first_run_creates_the_sqlite_file_and_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "publisher.db"
    engine = open_engine(f"sqlite:///{path}")
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == HEAD
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        engine.dispose()
    assert path.is_file()
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    reopened = open_store(f"sqlite:///{path}")
    assert current_revision(reopened) == HEAD
    reopened.dispose()


def test_sqlite_transactions_begin_immediate(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'publisher.db'}")
    try:
        with (
            engine.connect() as conn,
            closing(sqlite3.connect(tmp_path / "publisher.db", timeout=0)) as other,
        ):
            conn.execute(text("SELECT 1"))
            # Even a read holds the write lock from its first statement.
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        engine.dispose()


def test_postgresql_urls_use_psycopg_3() -> None:
    for url in ("postgresql://u@db.example.com/publisher", "postgres://u@db.example.com/publisher"):
        engine = open_engine(url)
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
        engine.dispose()
    explicit = open_engine("postgresql+psycopg://u@db.example.com/publisher")
    assert explicit.dialect.driver == "psycopg"
    explicit.dispose()


def test_a_0002_database_with_subscribers_upgrades_and_keeps_them(db: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    from publisher.store.engine import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
    assert current_revision(db) == "0002"
    assert "confirm_sent_at" not in {c["name"] for c in inspect(db).get_columns("subscribers")}
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO subscribers (email, email_key, status, created_at, updated_at)"
                " VALUES ('Ann@example.org', 'ann@example.org', 'pending', :t, :t)"
            ),
            {"t": "2025-11-20 00:00:00"},
        )
    upgrade(db)
    assert current_revision(db) == HEAD
    assert schema_differences(db, metadata) == []
    with db.connect() as conn:
        rows = conn.execute(text("SELECT email, status, confirm_sent_at FROM subscribers"))
        assert rows.all() == [("Ann@example.org", "pending", None)]


def test_a_0003_database_with_an_edition_upgrades_and_keeps_it(db: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    from publisher.store import get_edition, message_templates
    from publisher.store.engine import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    assert current_revision(db) == "0003"
    assert "edition_messages" not in inspect(db).get_table_names()
    t = "2025-11-20 00:00:00"
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO subscribers (id, email, email_key, status, created_at, updated_at)"
                " VALUES (1, 'ann@example.org', 'ann@example.org', 'active', :t, :t)"
            ),
            {"t": t},
        )
        conn.execute(
            text(
                "INSERT INTO editions (id, number, cutoff_from, cutoff_to, subject, created_at,"
                " state, post_ids) VALUES (7, 3, :t, :u, 'No. 3', :u, 'paused', '[\"tag:a\"]')"
            ),
            {"t": t, "u": "2025-11-27 00:00:00"},
        )
        conn.execute(
            text(
                "INSERT INTO outbox (edition_id, subscriber_id, email, state, attempts)"
                " VALUES (7, 1, 'ann@example.org', 'pending', 2)"
            )
        )
    upgrade(db)
    assert current_revision(db) == HEAD
    assert schema_differences(db, metadata) == []
    edition = get_edition(db, 7)
    assert edition is not None
    assert (edition.number, edition.subject, edition.state, edition.post_ids) == (
        3,
        "No. 3",
        "paused",
        ("tag:a",),
    )
    assert (edition.paused_reason, edition.paused_reply, edition.resume_at) == ("", "", None)
    assert message_templates(db, 7) == {}  # sent the old way: from the posts
    with db.connect() as conn:
        assert conn.execute(text("SELECT attempts FROM outbox")).scalar_one() == 2


def test_the_code_s_schema_revision_is_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    from publisher.store.engine import MIGRATIONS, SCHEMA_REVISION

    config = __import__("alembic.config", fromlist=["Config"]).Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_REVISION == HEAD


def test_a_one_shot_command_on_an_old_schema_says_to_upgrade(tmp_path: Path) -> None:
    """Only `db upgrade` (and run, worker, serve) migrate; the others say so and change nothing."""
    from alembic import command
    from alembic.config import Config
    from click.testing import CliRunner

    from publisher.cli import main
    from publisher.store.engine import MIGRATIONS

    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text('url: "https://blog.example.com"\n', encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = open_store(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    engine.dispose()
    env = {"PUBLISHER_DATABASE__URL": url}
    runner = CliRunner()
    refused = runner.invoke(main, ["subscribers", "list", "--site", str(site)], env=env)
    assert refused.exit_code == 1
    assert "revision 0003" in refused.output and "run `publisher db upgrade`" in refused.output
    engine = open_engine(url)
    assert current_revision(engine) == "0003"  # nothing was changed
    engine.dispose()
    upgraded = runner.invoke(main, ["db", "upgrade", "--site", str(site)], env=env)
    assert upgraded.exit_code == 0 and f"revision {HEAD}" in upgraded.output
    assert runner.invoke(main, ["subscribers", "list", "--site", str(site)], env=env).exit_code == 0
