"""Hostile posts and folders: each is one reported problem (or a warning), the rest are published.

Real files, links and folders in a temporary site; the build and the
subscriber page are driven the way a user drives them (click's CliRunner,
Starlette's TestClient).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine
from starlette.testclient import TestClient
from web_support import make_context, make_site

from publisher.app import BuildRequest, build_feeds
from publisher.cli import main
from publisher.config import Settings, load_settings
from publisher.content import ReadResult, read_posts
from publisher.content.bodies import render_bodies
from publisher.content.cache import HtmlCache
from publisher.models import Problem
from publisher.web import create_app

Write = Callable[..., Path]
GOOD = "2025-09-01-good.md"
MAX_POST_BYTES = 8 * 1024 * 1024  # the documented limit


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def conf(site: Path, state: Path) -> Settings:
    return load_settings(site, environ={"PUBLISHER_PATHS__VAR": str(state)})


@pytest.fixture
def good(write_post: Write) -> Path:
    return write_post(GOOD, "title: Good post", "A good body.\n")


def _read(site: Path, conf: Settings, now: datetime, cache: Path | None = None) -> ReadResult:
    return read_posts(site, conf, now, cache_file=cache)


def _line_of(path: Path, prefix: str) -> int:
    lines = path.read_bytes().split(b"\n")
    return next(i for i, line in enumerate(lines, 1) if line.startswith(prefix.encode()))


def _one(problems: tuple[Problem, ...], path: str) -> Problem:
    (found,) = [p for p in problems if p.path == path]
    return found


def _cli(site: Path, state: Path, *args: str) -> Result:
    out = site.parent / "out"
    env = {"PUBLISHER_PATHS__VAR": str(state)}
    argv = ["build", "--site", str(site), "--output", str(out), "--now", "2025-11-20", *args]
    return CliRunner().invoke(main, argv, env=env)


# --- values YAML reads but Python cannot hold ------------------------------------


@pytest.mark.parametrize(
    ("date", "words"),
    [
        ("2025-02-30", "day is out of range"),  # YAML date: PyYAML raises ValueError
        ("2025-02-30 10:00:00 +09:00", "day is out of range"),  # YAML timestamp
        ("0001-01-01 00:00 +09:00", "too close to year 1"),  # overflows in astimezone
        ("9999-12-31 23:00:00 -09:00", "too close to year 1 or 9999"),
    ],
)
def test_impossible_date_is_a_problem_on_its_line(
    site: Path, conf: Settings, now: datetime, write_post: Write, good: Path, date: str, words: str
) -> None:
    bad = write_post("2025-09-02-bad.md", f'title: "Bad"\nlayout: post\ndate: {date}')
    result = _read(site, conf, now)
    assert [p.title for p in result.posts] == ["Good post"]
    problem = _one(result.problems, f"_posts/{bad.name}")
    assert problem.line == _line_of(bad, "date:") == 4
    assert words in problem.reason


def test_an_integer_of_ten_thousand_digits_is_a_problem_on_its_line(
    site: Path, conf: Settings, now: datetime, write_post: Write, good: Path
) -> None:
    bad = write_post("2025-09-02-bad.md", "title: Bad\nreading_time: " + "7" * 10_000)
    result = _read(site, conf, now)
    assert len(result.posts) == 1
    problem = _one(result.problems, f"_posts/{bad.name}")
    assert problem.line == 3 and "impossible value" in problem.reason


def test_a_date_too_early_in_the_file_name_is_a_problem(
    site: Path, conf: Settings, now: datetime, write_post: Write, good: Path
) -> None:
    bad = write_post("0001-01-01-ancient.md", "title: Ancient")
    result = _read(site, conf, now)
    assert len(result.posts) == 1
    assert "too close to year 1" in _one(result.problems, f"_posts/{bad.name}").reason


def test_deep_nesting_is_a_problem_even_for_the_python_loader(
    site: Path, conf: Settings, now: datetime, write_post: Write, good: Path
) -> None:
    # The surrogate escape sends the document to PyYAML's pure Python loader
    # (libyaml rejects it), which recurses once a level.
    deep = "[" * 5000 + "]" * 5000
    a = write_post("2025-09-02-deep.md", f'title: "\\ud83d\\ude00"\ntags: {deep}')
    b = write_post("2025-09-03-deeper.md", f"title: Deeper\ntags: {deep}")  # libyaml's limit
    result = _read(site, conf, now)
    assert [p.title for p in result.posts] == ["Good post"]
    assert "nested too deeply" in _one(result.problems, f"_posts/{a.name}").reason
    assert "nesting depth" in _one(result.problems, f"_posts/{b.name}").reason


def test_recursive_aliases_are_walked_once(
    site: Path, conf: Settings, now: datetime, write_post: Write
) -> None:
    write_post("2025-09-02-alias.md", 'title: "A\\ud83d\\ude00"\ntags: &x [*x, "t\\udc00"]')
    (post,) = _read(site, conf, now).posts
    assert post.title == "A😀"


# --- files too big to read ----------------------------------------------------------


def test_an_oversized_file_is_reported_from_its_size(
    site: Path, conf: Settings, now: datetime, write_post: Write, good: Path
) -> None:
    big = write_post("2025-09-02-big.md", "title: Big")
    with big.open("r+b") as handle:  # sparse: the size without the bytes
        handle.truncate(MAX_POST_BYTES + 1)
    result = _read(site, conf, now)
    assert [p.title for p in result.posts] == ["Good post"]
    problem = _one(result.problems, f"_posts/{big.name}")
    assert "8,388,609 bytes is over the 8 MiB" in problem.reason


def test_a_body_grown_too_big_since_reading_keeps_the_excerpt(
    site: Path, conf: Settings, now: datetime, good: Path
) -> None:
    (post,) = _read(site, conf, now).posts
    with good.open("r+b") as handle:
        handle.truncate(MAX_POST_BYTES + 10)
    html, problems = render_bodies([post], conf, HtmlCache(None, ""))
    assert html[post.id] == "<p>A good body.</p>"
    assert [p.path for p in problems] == [f"_posts/{GOOD}"]
    assert "over the 8 MiB" in problems[0].reason


# --- characters YAML refuses and escapes it decodes half-way -------------------------


def test_a_control_character_in_a_quoted_title_is_removed_with_a_warning(
    site: Path, conf: Settings, now: datetime, write_post: Write
) -> None:
    path = write_post("2025-09-02-ctl.md", 'layout: post\ntitle: "Bad\x01 \x7fcontrol"')
    result = _read(site, conf, now)
    assert result.problems == ()
    assert [p.title for p in result.posts] == ["Bad control"]
    (warning,) = result.warnings
    assert (warning.path, warning.line) == (f"_posts/{path.name}", 3)
    assert "removed 2 characters" in warning.reason and "U+0001, U+007F" in warning.reason


def test_a_surrogate_pair_escape_is_one_character(
    site: Path, conf: Settings, now: datetime, write_post: Write
) -> None:
    write_post("2025-09-02-emoji.md", 'title: "smile \\ud83d\\ude00"\ntags: ["\\uD83C\\uDF63"]')
    result = _read(site, conf, now)
    assert result.problems == ()
    (post,) = result.posts
    assert post.title == "smile \U0001f600" and len(post.title) == 7
    assert post.tags == ("\U0001f363",)


def test_a_lone_surrogate_is_dropped_with_a_warning(
    site: Path, conf: Settings, now: datetime, write_post: Write
) -> None:
    path = write_post("2025-09-02-lone.md", 'layout: post\ntitle: "half \\ud83d here"')
    result = _read(site, conf, now)
    assert result.problems == ()
    assert [p.title for p in result.posts] == ["half  here"]
    (warning,) = result.warnings
    assert (warning.path, warning.line) == (f"_posts/{path.name}", 3)
    assert "title: 1 lone UTF-16 surrogate escape dropped" in warning.reason


def test_a_surrogate_escape_beyond_unicode_stays_a_problem_with_its_line(
    site: Path, conf: Settings, now: datetime, write_post: Write
) -> None:
    bad = write_post("2025-09-02-big-escape.md", 'layout: post\ntitle: "\\ud83d \\U00110000"')
    (problem,) = _read(site, conf, now).problems
    assert (problem.path, problem.line) == (f"_posts/{bad.name}", 3)
    assert "escape" in problem.reason


def test_a_body_the_rust_markdown_engine_panics_on_is_still_published(
    site: Path, conf: Settings, now: datetime, write_post: Write
) -> None:
    # markdown-it-pyrs 0.4 panics on an unclosed "[`"; the reference engine renders it.
    write_post("2025-09-02-tick.md", "title: Tick", "An unclosed [` and a tick.\n\nMore.\n")
    out = site.parent / "out"
    report = build_feeds(BuildRequest(site_dir=site, output_dir=out, now=now, settings=conf))
    assert report.exit_code == 0 and report.problems == ()
    atom = (out / "feeds" / "atom.xml").read_text(encoding="utf-8")
    assert "&lt;p&gt;An unclosed [` and a tick.&lt;/p&gt;" in atom
    assert 'type="text">An unclosed [` and a tick.</summary>' in atom


# --- links and folders --------------------------------------------------------------


def test_a_link_outside_the_site_is_reported_not_read(
    site: Path, conf: Settings, now: datetime, write_post: Write, good: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    secret = elsewhere / "2025-09-05-secret.md"
    secret.write_text("---\ntitle: Secret\n---\n\nNot for the feed.\n", encoding="utf-8")
    system = tmp_path / "etc" / "passwd"  # a system file, but the test's own (never the real)
    system.parent.mkdir()
    system.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    posts = site / "_posts"
    (posts / "2025-09-03-passwd.md").symlink_to(system)
    (posts / "2025-09-04-secret.md").symlink_to(secret)
    (posts / "more").symlink_to(elsewhere, target_is_directory=True)
    (site / "_drafts").mkdir()
    write_post("../_drafts/2025-09-06-draft.md", "title: Inside the site")
    (posts / "drafts").symlink_to("../_drafts", target_is_directory=True)
    result = _read(site, conf, now)
    assert sorted(p.title for p in result.posts) == ["Good post", "Inside the site"]
    assert [str(p) for p in result.problems] == [
        f"_posts/2025-09-03-passwd.md: symlink points outside the site ({system}): not read",
        f"_posts/2025-09-04-secret.md: symlink points outside the site ({secret}): not read",
        f"_posts/more: symlink points outside the site ({elsewhere}): not read",
    ]


def test_broken_links_and_link_loops_are_reported(
    site: Path, conf: Settings, now: datetime, good: Path
) -> None:
    posts = site / "_posts"
    (posts / "2025-09-03-gone.md").symlink_to("2025-09-03-nowhere.md")
    (posts / "2025-09-04-a.md").symlink_to("2025-09-04-b.md")
    (posts / "2025-09-04-b.md").symlink_to("2025-09-04-a.md")
    (posts / "year").mkdir()
    (posts / "year" / "up").symlink_to("..", target_is_directory=True)
    (posts / "again").symlink_to("year", target_is_directory=True)
    result = _read(site, conf, now)
    assert [p.title for p in result.posts] == ["Good post"]
    reasons = {p.path: p.reason for p in result.problems}
    assert reasons == {
        "_posts/2025-09-03-gone.md": "broken symlink (2025-09-03-nowhere.md): No such file or directory",
        "_posts/2025-09-04-a.md": "broken symlink (2025-09-04-b.md): Too many levels of symbolic links",
        "_posts/2025-09-04-b.md": "broken symlink (2025-09-04-a.md): Too many levels of symbolic links",
        "_posts/again": "the same folder as _posts/year: not read twice",
        "_posts/year/up": "symlink loop: leads back to _posts: not followed",
    }
    assert result.files == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_an_unreadable_folder_is_reported(
    site: Path, conf: Settings, now: datetime, write_post: Write, good: Path
) -> None:
    write_post("locked/2025-09-02-hidden.md", "title: Hidden")
    locked = site / "_posts" / "locked"
    locked.chmod(0)
    try:
        result = _read(site, conf, now)
    finally:
        locked.chmod(0o755)
    assert [p.title for p in result.posts] == ["Good post"]
    assert [str(p) for p in result.problems] == [
        "_posts/locked: cannot read the folder: Permission denied"
    ]


def test_a_name_that_is_not_utf8_is_reported(
    site: Path, conf: Settings, now: datetime, good: Path
) -> None:
    name = os.fsdecode(b"2025-09-02-\xff\xfe.md")
    (site / "_posts" / name).write_bytes(b"---\ntitle: Latin-1 name\n---\n")
    result = _read(site, conf, now)
    assert [p.title for p in result.posts] == ["Good post"]
    assert [str(p) for p in result.problems] == [
        "_posts/2025-09-02-\\xff\\xfe.md: the file name is not UTF-8: not read"
    ]


def test_unreadable_entries_are_cached_like_bad_posts(
    site: Path, conf: Settings, now: datetime, good: Path, state: Path
) -> None:
    (site / "_posts" / "loop").symlink_to(".", target_is_directory=True)
    cache = state / "posts.json"
    first = _read(site, conf, now, cache)
    second = _read(site, conf, now, cache)
    assert (first.parsed, second.parsed) == (2, 0)
    assert second.problems == first.problems and len(first.problems) == 1


# --- the build, as the command line runs it ------------------------------------------


def test_build_with_a_link_loop_and_an_impossible_date_publishes_the_rest(
    site: Path, state: Path, write_post: Write, good: Path
) -> None:
    write_post("2025-09-02-bad.md", "title: Bad\ndate: 2025-02-30")
    (site / "_posts" / "loop").symlink_to(".", target_is_directory=True)
    result = _cli(site, state)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1, result.output
    assert "_posts/2025-09-02-bad.md:3: impossible date '2025-02-30'" in result.output
    assert "_posts/loop: symlink loop: leads back to _posts: not followed" in result.output
    atom = (site.parent / "out" / "feeds" / "atom.xml").read_text(encoding="utf-8")
    assert "Good post" in atom and "Bad" not in atom
    again = _cli(site, state, "--json")  # the unchanged-rebuild fast path reports them too
    report = json.loads(again.stdout)
    assert again.exit_code == 1 and report["posts"]["parsed"] == 0
    assert [p["path"] for p in report["problems"]] == ["_posts/2025-09-02-bad.md", "_posts/loop"]


def test_build_of_a_site_without_posts_folder_exits_2(site: Path, state: Path) -> None:
    (site / "_posts").rmdir()
    result = _cli(site, state)
    assert result.exit_code == 2, result.output
    assert "_posts: no such folder (set [site] posts_dir)" in result.output
    assert not (site.parent / "out").exists()


def test_warnings_alone_exit_0_and_strict_refuses_them(
    site: Path, state: Path, write_post: Write, good: Path
) -> None:
    write_post("2025-09-02-ctl.md", 'title: "Bell\x07"')
    lenient = _cli(site, state)
    assert lenient.exit_code == 0, lenient.output
    assert "Warnings:\n  _posts/2025-09-02-ctl.md:2: removed 1 character" in lenient.output
    assert "1 published with warnings" in lenient.output
    cached = _cli(site, state, "--json")
    assert cached.exit_code == 0
    assert json.loads(cached.stdout)["warnings"][0]["line"] == 2
    strict = _cli(site, state, "--strict")
    assert strict.exit_code == 2 and "--strict: nothing was written" in strict.output


def test_build_report_carries_warnings(
    site: Path, conf: Settings, now: datetime, write_post: Write
) -> None:
    write_post("2025-09-02-ctl.md", 'title: "Bell\x07"')
    report = build_feeds(
        BuildRequest(site_dir=site, output_dir=site.parent / "o", now=now, settings=conf)
    )
    assert report.exit_code == 0 and report.problems == ()
    assert [(w.path, w.line) for w in report.warnings] == [("_posts/2025-09-02-ctl.md", 2)]
    assert report.to_dict()["warnings"] == [
        {"path": "_posts/2025-09-02-ctl.md", "line": 2, "reason": report.warnings[0].reason}
    ]


# --- the subscriber page reads the posts too -----------------------------------------


@pytest.fixture
def hostile_site(tmp_path: Path, db: Engine) -> Iterator[Path]:
    site = make_site(tmp_path, db.url.render_as_string(hide_password=False))
    posts = site / "_posts"
    (posts / "2025-09-30-bad-date.md").write_text("---\ntitle: X\ndate: 2025-02-30\n---\n")
    (posts / "loop").symlink_to(".", target_is_directory=True)
    system = tmp_path / "etc" / "passwd"  # the test's own, never the real one
    system.parent.mkdir()
    system.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (posts / "2025-09-29-passwd.md").symlink_to(system)
    yield site


def test_subscribe_page_works_with_hostile_posts(hostile_site: Path) -> None:
    ctx = make_context(hostile_site)
    try:
        response = TestClient(create_app(lambda: ctx)).get("/subscribe")
    finally:
        ctx.engine.dispose()
    assert response.status_code == 200
    assert '<form method="post"' in response.text


def test_a_link_to_the_site_folder_is_a_loop_not_a_walk_of_the_site(
    site: Path, conf: Settings, now: datetime, write_post: Write, good: Path
) -> None:
    write_post("../vendor/2025-09-02-vendored.md", "title: Not a post of the blog")
    (site / "_posts" / "site").symlink_to("..", target_is_directory=True)
    result = _read(site, conf, now)
    assert [p.title for p in result.posts] == ["Good post"]
    assert [str(p) for p in result.problems] == [
        "_posts/site: symlink loop: leads back to the site folder: not followed"
    ]


def test_a_fifo_named_like_a_post_is_reported_not_opened(
    site: Path, conf: Settings, now: datetime, good: Path
) -> None:
    os.mkfifo(site / "_posts" / "2025-09-02-pipe.md")  # opening it would wait for a writer
    result = _read(site, conf, now)
    assert [p.title for p in result.posts] == ["Good post"]
    assert [str(p) for p in result.problems] == [
        "_posts/2025-09-02-pipe.md: not a regular file: not read"
    ]
