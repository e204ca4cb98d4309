"""The real Jekyll publishes the feeds and none of publisher's state.

An author works inside the site folder: ``publisher build``, a subscriber
import, a digest sent as ``.eml`` files, then ``jekyll build``, all from
there, while a ``publisher run`` keeps the database open (so its ``-wal`` and
``-shm`` files exist during the Jekyll build). ``_site/`` must hold the feeds
and nothing from ``SITE/.publisher/``: no database, no secret, no mail with
live unsubscribe links, no cache, and no ``var/`` (where state used to live).

Jekyll is run by ``tests/jekyll_support.py`` (offline; skipped without one).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import copy_example_site
from jekyll_support import find_jekyll, jekyll_build
from state_support import CSV, NOW, SCRIPT, clean_env, ok, publisher

DEADLINE = 60.0
STATE = ".publisher"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _wait_for(*paths: Path) -> bool:
    deadline = time.monotonic() + DEADLINE
    while not all(p.exists() for p in paths) and time.monotonic() < deadline:
        time.sleep(0.1)
    return all(p.exists() for p in paths)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the example site (its own _config.yml and publisher.toml)."""
    find_jekyll()
    target = tmp_path / "blog"
    copy_example_site(target)
    return target


@contextlib.contextmanager
def running(site: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``publisher run`` from inside the site, holding the database open until the block ends."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "publisher"]
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [*command, "run"], cwd=site, env=clean_env(), stdout=handle, stderr=handle
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=DEADLINE)


def test_jekyll_publishes_the_feeds_and_no_state(site: Path, tmp_path: Path) -> None:
    csv = tmp_path / "subscribers.csv"
    csv.write_text(CSV, encoding="utf-8")
    state = site / STATE

    # The author's commands, from inside the site, no PUBLISHER_* (so no PUBLISHER_SECRET).
    ok(publisher("build", "--now", NOW, cwd=site), 1)  # 1: the example's broken post
    assert "added 2" in ok(publisher("subscribers", "import", str(csv), cwd=site))
    sent = ok(publisher("digest", "send", "--now", NOW, cwd=site))
    assert "sent 2" in sent, sent
    assert "finished" in ok(publisher("digest", "status", cwd=site))
    mails = sorted(state.rglob("*.eml"))
    assert len(mails) == 2
    secret = (state / "secret").read_bytes().strip()
    assert len(secret) >= 32

    # Jekyll builds while `publisher run` has the database open, -wal and -shm included.
    db, wal, shm = (state / f"publisher.db{suffix}" for suffix in ("", "-wal", "-shm"))
    log = tmp_path / "run.log"
    with running(site, log) as runner:
        assert _wait_for(wal, shm), log.read_text(errors="replace")
        built = jekyll_build(site)
        assert built.returncode == 0, built.stdout + built.stderr
        assert runner.poll() is None, log.read_text(errors="replace")
        wal_mode, shm_mode = _mode(wal), _mode(shm)
    assert runner.returncode == 0, log.read_text(errors="replace")

    # What Jekyll published.
    published = site / "_site"
    files = [p for p in published.rglob("*") if p.is_file()]
    relative = [p.relative_to(published) for p in published.rglob("*")]
    assert (published / "feeds" / "atom.xml").read_bytes() == (site / "feeds/atom.xml").read_bytes()
    assert (published / "feeds" / "feed.xsl").is_file()
    assert (published / "feeds" / "categories" / "investment.xml").is_file()
    leaked = [
        str(p)
        for p in relative
        if p.suffix == ".eml"
        or {STATE, "var", "cache", "secret", "outbox"} & set(p.parts)
        or p.name.startswith("publisher.db")
    ]
    assert leaked == []
    assert not (published / "publisher.toml").exists()  # the example's _config.yml excludes it
    for path in files:  # no byte of state either, whatever the file is called
        data = path.read_bytes()
        assert secret not in data, path
        assert b"state-ann@example.net" not in data, path
        assert b"/unsubscribe/" not in data, path

    # The state folder: the owner's only.
    assert _mode(state) == 0o700
    assert (wal_mode, shm_mode) == (0o600, 0o600)
    for private in (db, state / "secret", *mails):
        assert _mode(private) == 0o600, f"{private}: {oct(_mode(private))}"
    assert not (site / "var").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blog", "run.log", "subscribers.csv"]


def test_jekyll_publishes_publisher_toml_unless_excluded(site: Path) -> None:
    # Why a site should keep `exclude: [publisher.toml]`: Jekyll copies any other file it
    # does not know as a static file, and publisher.toml may hold a database URL.
    config = site / "_config.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("  - publisher.toml\n", ""), encoding="utf-8"
    )
    (site / "config").mkdir()
    (site / "config" / "publisher.toml").write_text("# the other place publisher looks\n", "utf-8")
    built = jekyll_build(site)
    assert built.returncode == 0, built.stdout + built.stderr
    assert (site / "_site" / "publisher.toml").is_file()
    assert (site / "_site" / "config" / "publisher.toml").is_file()

    # What the README says to add to _config.yml keeps both out.
    shutil.rmtree(site / "_site")
    text = config.read_text(encoding="utf-8").replace(
        "exclude:\n", "exclude:\n  - publisher.toml\n  - config\n"
    )
    config.write_text(text, encoding="utf-8")
    built = jekyll_build(site)
    assert built.returncode == 0, built.stdout + built.stderr
    assert any((site / "_site").rglob("*.html"))  # the site itself was built
    assert not (site / "_site" / "publisher.toml").exists()
    assert not (site / "_site" / "config").exists()
