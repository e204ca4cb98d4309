"""Shared fixtures: a temporary Jekyll site, fixed clocks, settings, golden files."""

from __future__ import annotations

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
