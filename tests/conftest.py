"""Shared fixtures: a temporary Jekyll site, fixed clocks, settings, golden files."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from publisher.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_POSTS = ROOT / "tests" / "fixtures" / "posts"
EXAMPLE_SITE = ROOT / "examples" / "site"
SAMPLE_POSTS = ROOT.parent / "shared" / "sample-posts"
GOLDEN = ROOT / "tests" / "golden"
# A fixed "now" for every test: after all example posts, before the future one.
NOW = datetime(2025, 11, 20, 0, 0, tzinfo=UTC)

CONFIG_YML = """\
title: テストブログ
description: A blog for tests
url: "https://blog.example.com"
baseurl: ""
timezone: Asia/Tokyo
lang: ja
author: テスト編集部
"""


# The machine's own files that no test may change. The suite runs as root in CI: a test
# that once wrote "a post" through a symlink it had made to /etc/passwd replaced the
# machine's user list (every later apt install, Dovecot and man-db then failed).
GUARDED = (Path("/etc/passwd"), Path("/etc/group"), Path("/etc/shadow"), Path("/etc/hosts"))


def _fingerprints() -> dict[Path, bytes]:
    found = {}
    for path in GUARDED:
        try:
            found[path] = hashlib.sha256(path.read_bytes()).digest()
        except OSError:
            continue
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_GUARD] = _fingerprints()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_GUARD, {})
    changed = [str(path) for path, digest in _fingerprints().items() if before.get(path) != digest]
    if changed and before:
        print(f"\nA test changed the machine's own files: {', '.join(changed)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_GUARD = pytest.StashKey[dict[Path, bytes]]()


def copy_example_site(target: Path) -> Path:
    """``examples/site`` as the repository has it: its posts and settings, never what
    ``./dev demo`` left in it (``.publisher/`` with an edition already sent, ``feeds/``)."""
    shutil.copytree(
        EXAMPLE_SITE,
        target,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".publisher", "feeds", "_site"),
    )
    return target


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/ from the current output (review the diff!).",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Jekyll site in a temp folder (the cwd, so var/ and output/ land there)."""
    root = tmp_path / "site"
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(CONFIG_YML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("PUBLISHER_") and "__" in name:
            monkeypatch.delenv(name)
    return root


@pytest.fixture
def settings(site: Path) -> Settings:
    return load_settings(site)


@pytest.fixture
def add_fixture(site: Path) -> Callable[..., Path]:
    """Copy ``tests/fixtures/posts/NAME.md`` into the site as a Jekyll post file."""

    def add(name: str, day: str = "2025-09-21", slug: str | None = None) -> Path:
        target = site / "_posts" / f"{day}-{slug or name.removesuffix('.md')}.md"
        shutil.copyfile(FIXTURE_POSTS / name, target)
        return target

    return add


@pytest.fixture
def write_post(site: Path) -> Callable[..., Path]:
    """Write a post file from front matter lines and a body."""

    def write(name: str, front: str, body: str = "Body.\n") -> Path:
        target = site / "_posts" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"---\n{front.strip()}\n---\n\n{body}", encoding="utf-8")
        return target

    return write


@pytest.fixture
def sample_posts() -> list[Path]:
    """The customer's real posts (read in place; skipped when the folder is absent)."""
    if not SAMPLE_POSTS.is_dir():
        pytest.skip("../shared/sample-posts is not here")
    return sorted(SAMPLE_POSTS.glob("*.txt"))


# --- the database (publisher.store) ------------------------------------------------
# Appended as a block of its own, imports included, so it merges cleanly.

import os  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from publisher.store import open_engine, open_store  # noqa: E402

TEST_DATABASE_ENV = "PUBLISHER_TEST_DATABASE_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated database: a SQLite file, and PostgreSQL when configured.

    PostgreSQL runs when ``PUBLISHER_TEST_DATABASE_URL`` is set (e.g.
    ``postgresql://postgres@127.0.0.1:5432/test``). Each test gets a schema of
    its own process, dropped and created again, so two test runs sharing the
    server do not see each other's tables. ``db.url`` is the URL to open.
    """
    if request.param == "sqlite":
        engine = open_store(f"sqlite:///{tmp_path / 'var' / 'publisher.db'}")
        yield engine
        engine.dispose()
        return
    base = os.environ.get(TEST_DATABASE_ENV)
    if not base:
        pytest.skip(f"{TEST_DATABASE_ENV} is not set")
    schema = f"publisher_test_{os.getpid()}"
    _reset_postgres_schema(base, schema, create=True)
    engine = open_store(
        make_url(base)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    yield engine
    engine.dispose()
    _reset_postgres_schema(base, schema, create=False)


def _reset_postgres_schema(url: str, schema: str, *, create: bool) -> None:
    admin = open_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            if create:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        admin.dispose()


@pytest.fixture
def browser() -> Iterator[object]:
    """Headless Chromium through Playwright (skipped when either is not installed)."""
    from browser_support import chromium

    with chromium() as launched:
        yield launched
