"""publisher check: what a post generator leaves behind, found at the right lines, and cleaned."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURE_POSTS, NOW

from publisher.app import BuildRequest, CheckRequest, build_feeds, check_site
from publisher.cli import main
from publisher.config import load_settings
from publisher.content.blocks import marker_lines
from publisher.content.doctor import ends_sentence
from publisher.content.tally import scan

LEFTOVERS = "post_generated_leftovers.md"
HELLO = """\
---
title: "前回の記事"
date: 2025-09-01 10:00:00 +0900
categories: ["Policy"]
excerpt: "短い要約です。"
---

前回の記事の本文です。図は![売上の推移](/images/sales.png)にあります。

次の段落も、文の終わりで終わります。
"""


def _findings(site: Path) -> list[tuple[str, int, str]]:
    report = check_site(CheckRequest(site_dir=site, now=NOW))
    return [(Path(f.path).name, f.line, f.kind) for f in report.findings]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_every_finding_of_the_fixture_post_is_on_its_line(
    site: Path, add_fixture: Callable[..., Path], write_post: Callable[..., Path]
) -> None:
    # Saved under 2025-10-05 while its date says 2025-09-21: a date mismatch too.
    add_fixture(LEFTOVERS, day="2025-10-05", slug="generated")
    (site / "_posts" / "2025-09-01-hello.md").write_text(HELLO, encoding="utf-8")
    found = [(line, kind) for name, line, kind in _findings(site) if "generated" in name]
    assert found == [
        (1, "no-category"),  # categroies is not categories
        (4, "date-mismatch"),
        (5, "unknown-key"),
        (9, "title-line"),
        (19, "dead-link"),  # the first link only: /policy/2025/09/01/hello.html is a post
        (21, "image-alt"),
        (23, "replacement-character"),
        (25, "cut-off"),
        (27, "marker"),  # not the ---END--- inside the code block at line 38
        (29, "repeat"),
        (35, "near-repeat"),
    ]


def test_messages_say_what_repeats_what_and_did_you_mean(
    site: Path, add_fixture: Callable[..., Path]
) -> None:
    add_fixture(LEFTOVERS, day="2025-09-21", slug="generated")
    report = check_site(CheckRequest(site_dir=site, now=NOW))
    by_kind = {f.kind: f.message for f in report.findings}
    assert by_kind["repeat"] == "lines 29-33 repeat lines 13-17 exactly (3 blocks)"
    assert by_kind["near-repeat"].startswith("line 35 nearly repeats line 11 (100%")
    assert "(did you mean 'categories'?)" in by_kind["unknown-key"]
    assert "before the marker on line 27" in by_kind["cut-off"]
    assert "/images/chart.png" in by_kind["image-alt"]
    assert str(report.findings[0]).startswith("_posts/2025-09-21-generated.md:1: no-category: ")


def test_a_clean_post_gives_no_finding(site: Path) -> None:
    (site / "_posts" / "2025-09-01-hello.md").write_text(HELLO, encoding="utf-8")
    assert _findings(site) == []
    assert _run("check", "--site", str(site)) == (0, "", "Checked 1 post files: nothing found.\n")


@pytest.mark.parametrize(
    ("line", "is_marker"),
    [
        ("---END---", True),
        ("  --- END ---  ", True),
        ("-----CONTINUE-----", True),
        ("---PART 2---", True),
        ("---end_of_chunk---", True),
        ("---", False),  # a rule, or a setext heading's underline
        ("-----", False),
        ("--- a note", False),
        ("---END", False),
        ("END---", False),
        ("---終わり---", False),
        ("x ---END---", False),
    ],
)
def test_which_lines_are_markers_by_default(line: str, is_marker: bool) -> None:
    assert (marker_lines().search(f"before\n{line}\nafter") is not None) is is_marker


def test_markers_can_be_literal_lines_or_regular_expressions(
    site: Path, write_post: Callable[..., Path]
) -> None:
    body = "One sentence.\n\n<<<CUT>>>\n\nchunk 7 ends here\n\nLast one.\n"
    write_post("2025-09-21-a.md", 'title: "A"\ncategories: [x]', body)
    (site / "publisher.toml").write_text(
        '[content]\nmarkers = ["<<<CUT>>>", "/chunk \\\\d+ ends here/"]\n', encoding="utf-8"
    )
    assert _findings(site) == [("2025-09-21-a.md", 8, "marker"), ("2025-09-21-a.md", 10, "marker")]


def test_a_bad_marker_pattern_is_a_settings_error(site: Path) -> None:
    (site / "publisher.toml").write_text('[content]\nmarkers = ["/(/"]\n', encoding="utf-8")
    code, _, err = _run("check", "--site", str(site))
    assert code == 2
    assert "markers: '/(/' is not a regular expression" in err


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("終わりです。", True),
        ("本当ですか？", True),
        ("「はい」", True),
        ("（注）", True),
        ("**太字で終わる。**", True),
        ("It ends.", True),
        ('He said "yes."', True),
        ("(see above)", True),
        ("その理由が説明でき", False),
        ("そして、", False),
        ("It stops in the", False),
    ],
)
def test_sentence_ends(text: str, ends: bool) -> None:
    assert ends_sentence(text) is ends


def test_cut_off_is_only_looked_for_in_paragraphs(
    site: Path, write_post: Callable[..., Path]
) -> None:
    body = (
        "A paragraph that ends.\n\n### A heading without a stop\n\n---END---\n\n"
        "* a list item without a stop\n\n---END---\n\n| a | table |\n\n---END---\n\n"
        "```\ncode without a stop\n```\n\n---END---\n\nthe end of the body without a stop\n"
    )
    write_post("2025-09-21-a.md", 'title: "A"\ncategories: [x]', body)
    found = [(line, kind) for _, line, kind in _findings(site)]
    assert found == [
        (10, "marker"),
        (14, "marker"),
        (18, "marker"),
        (24, "marker"),
        (26, "cut-off"),
    ]


def test_different_paragraphs_sharing_a_sentence_are_not_near_repeats(
    site: Path, write_post: Callable[..., Path]
) -> None:
    shared = "この一文だけは二つの段落に共通していますが、ほかの文はまったく違います。"
    first = shared + "最初の段落は、市場の規模と成長の速さについて数字を挙げて説明しています。"
    second = "二番目の段落は、人材の確保と育成という別の話題を扱っています。" + shared
    write_post("2025-09-21-a.md", 'title: "A"\ncategories: [x]', f"{first}\n\n{second}\n")
    assert _findings(site) == []


def test_the_customers_posts(site: Path, sample_posts: list[Path]) -> None:
    for number, source in enumerate(sample_posts):
        shutil.copyfile(source, site / "_posts" / f"2025-09-{number + 10:02d}-sample{number}.md")
    report = check_site(CheckRequest(site_dir=site, now=NOW))
    for number, source in enumerate(sample_posts):
        name = f"2025-09-{number + 10:02d}-sample{number}.md"
        raw = source.read_text(encoding="utf-8").split("\n")
        found = [f for f in report.findings if f.path.endswith(name)]
        markers = [n for n, line in enumerate(raw, 1) if line.strip() == "---END---"]
        assert [f.line for f in found if f.kind == "marker"] == markers, source.name
        for finding in found:
            if finding.kind == "repeat":  # the line it names as repeated is the same text
                first, origin = map(int, re.findall(r"lines? (\d+)", finding.message))
                assert raw[first - 1].strip() == raw[origin - 1].strip(), finding
        starts = {f.line: f.kind for f in found if f.kind in ("repeat", "near-repeat")}
        after = {m: _next_text_line(raw, m) for m in markers}
        repeated = sorted((m, after[m]) for m in markers if after[m] in starts)
        assert repeated == EXPECTED_REPEATS_AFTER_MARKERS[source.name[:3]], source.name
    cut = [f.line for f in report.findings if f.path.endswith("sample4.md") and f.kind == "cut-off"]
    assert cut == [66, 126, 155, 231]  # 004 has no marker: each chunk ends before two blank lines


def _next_text_line(raw: list[str], line: int) -> int:
    """The number of the first non-blank line after ``line`` (0: none)."""
    return next((n for n in range(line + 1, len(raw) + 1) if raw[n - 1].strip()), 0)


# (marker line, the first line after it), where that line starts a repeated section: read
# off the customer's files by hand.
EXPECTED_REPEATS_AFTER_MARKERS = {
    "000": [(116, 117), (155, 157), (191, 193)],
    "001": [(87, 89), (190, 192), (203, 205)],
    "002": [(82, 84)],
    "003": [(63, 65), (128, 130), (173, 175), (189, 191)],
    "004": [],
}


def test_clean_changes_the_feed_and_never_the_file(
    site: Path, add_fixture: Callable[..., Path]
) -> None:
    post = add_fixture(LEFTOVERS, day="2025-09-21", slug="generated")
    before, mtime = post.read_bytes(), post.stat().st_mtime_ns
    build_feeds(BuildRequest(site_dir=site, now=NOW))
    plain = (site / "feeds" / "atom.xml").read_text(encoding="utf-8")
    (site / "publisher.toml").write_text(
        '[content]\nclean = ["markers", "repeats", "title_line"]\n', encoding="utf-8"
    )
    build_feeds(BuildRequest(site_dir=site, now=NOW, settings=load_settings(site)))
    cleaned = (site / "feeds" / "atom.xml").read_text(encoding="utf-8")
    paragraph = "この節の段落は、あとで生成器がそのまま繰り返します。"
    assert plain.count("---END---") == 2  # the marker line and the code block's line
    assert cleaned.count("---END---") == 1  # the code block is content
    assert plain.count(paragraph) == 2 and cleaned.count(paragraph) == 1
    title = "生成された記事の見本"  # the entry's title, and the content's first line
    assert plain.count(title) == 2 and cleaned.count(title) == 1
    assert post.read_bytes() == before and post.stat().st_mtime_ns == mtime


def test_fix_shows_a_diff_and_write_keeps_a_backup(
    site: Path, add_fixture: Callable[..., Path]
) -> None:
    post = add_fixture(LEFTOVERS, day="2025-09-21", slug="generated")
    before = post.read_bytes()
    code, out, _ = _run("check", "--site", str(site), "--fix")
    assert code == 1
    assert "----END---\n" in out and "+++ _posts/2025-09-21-generated.md (fixed)" in out
    assert post.read_bytes() == before and not (site / ".publisher" / "backups").exists()
    code, _, err = _run("check", "--site", str(site), "--fix", "--write")
    assert code == 1
    [folder] = (site / ".publisher" / "backups").iterdir()
    assert re.fullmatch(r"check-\d{8}T\d{6}Z", folder.name)
    backup = folder / "_posts" / "2025-09-21-generated.md"
    assert backup.read_bytes() == before and post.read_bytes() != before
    assert f"the old file is .publisher/backups/{folder.name}/_posts/2025-09-21-generated.md" in err
    assert f"kept in .publisher/backups/{folder.name}/ (never published)" in err
    assert sorted(p.name for p in post.parent.iterdir()) == [post.name]  # nothing beside it
    kinds = [kind for _, _, kind in _findings(site)]
    assert not {"marker", "repeat", "title-line"} & set(kinds)
    assert "near-repeat" in kinds  # only reported: which version to keep is the writer's choice


def test_exit_statuses(site: Path, add_fixture: Callable[..., Path]) -> None:
    add_fixture(LEFTOVERS, day="2025-09-21", slug="generated")
    assert _run("check", "--site", str(site))[0] == 1
    assert _run("check", "--site", str(site), "--strict")[0] == 2
    assert _run("check", "--site", str(site), "--write")[0] == 2
    code, out, _ = _run("check", "--site", str(site), "--json")
    data = json.loads(out)
    assert code == 1 and data["counts"]["marker"] == 1 and data["files"] == 1


def test_build_says_it_in_one_line_and_a_warm_build_parses_nothing(
    site: Path, add_fixture: Callable[..., Path], write_post: Callable[..., Path]
) -> None:
    add_fixture(LEFTOVERS, day="2025-09-21", slug="generated")
    write_post("2025-09-22-b.md", 'title: "B"\ncategories: [x]', "Fine.\n")
    code, out, _ = _run("build", "--site", str(site), "--now", NOW.isoformat())
    hint = "1 post in the feeds has generation markers, 1 post in the feeds has U+FFFD (text lost in decoding): run `publisher check`"
    assert code == 0 and hint in out
    code, out, _ = _run("build", "--site", str(site), "--now", NOW.isoformat(), "--json")
    data = json.loads(out)
    assert code == 0 and data["posts"]["parsed"] == 0
    assert data["check"] == {"marker": 1, "replacement-character": 1}
    code, out, _ = _run("build", "--site", str(site), "--now", NOW.isoformat())
    assert hint in out


def test_the_builds_byte_scan_agrees_with_check() -> None:
    data = (FIXTURE_POSTS / LEFTOVERS).read_bytes()
    assert scan(data, ("---END---",)) == ("marker", "replacement-character")
    assert scan(b"---\ntitle: a\n---\nclean\n", ("---END---",)) == ()
    assert scan(b"---\ntitle: a\n---\nx\x01y\n", ("---END---",)) == ("control-character",)
    assert scan(b"---\ntitle: a\n---\nx\xc2\x85y\n", ("---END---",)) == ("control-character",)


def test_a_second_write_keeps_the_first_backups(
    site: Path, add_fixture: Callable[..., Path]
) -> None:
    post = add_fixture(LEFTOVERS, day="2025-09-21", slug="generated")
    original = post.read_bytes()
    assert _run("check", "--site", str(site), "--fix", "--write")[0] == 1
    fixed = post.read_bytes()
    post.write_bytes(original)  # the generator ran again
    assert _run("check", "--site", str(site), "--fix", "--write")[0] == 1
    folders = sorted((site / ".publisher" / "backups").iterdir())
    assert len(folders) == 2  # the same second: check-TIME and check-TIME-2
    copies = [(f / "_posts" / post.name).read_bytes() for f in folders]
    assert copies == [original, original] and post.read_bytes() == fixed


def test_a_state_folder_that_cannot_be_made_stops_before_any_file_changes(
    site: Path, add_fixture: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    post = add_fixture(LEFTOVERS, day="2025-09-21", slug="generated")
    before = post.read_bytes()
    blocker = site.parent / "not-a-folder"
    blocker.write_text("a file where the state folder should be", encoding="utf-8")
    monkeypatch.setenv("PUBLISHER_PATHS__VAR", str(blocker / "state"))
    code, _, err = _run("check", "--site", str(site), "--fix", "--write")
    assert code == 1 and "Traceback" not in err and "bug" not in err
    assert f"{blocker / 'state'}: cannot make the state folder: Not a directory" in err
    assert post.read_bytes() == before


def test_jekyll_publishes_no_backup(site: Path, add_fixture: Callable[..., Path]) -> None:
    """The real Jekyll builds the site after --fix --write: one page for the post, no copy."""
    from jekyll_support import jekyll_build

    add_fixture(LEFTOVERS, day="2025-09-21", slug="generated")
    assert _run("check", "--site", str(site), "--fix", "--write")[0] == 1
    result = jekyll_build(site)
    assert result.returncode == 0, result.stdout + result.stderr
    built = [p.relative_to(site / "_site").as_posix() for p in (site / "_site").rglob("*")]
    pages = [name for name in built if "generated" in name]
    assert len(pages) == 1 and pages[0].endswith("generated.html"), built
    assert not [name for name in built if "backups" in name or name.startswith(".publisher")]


@pytest.mark.parametrize(
    "args", [["build"], ["check"], ["check", "--fix", "--write"], ["subscribers", "list"]]
)
def test_a_state_folder_in_the_way_of_a_file_is_one_line(
    site: Path,
    add_fixture: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    """Every command that keeps state (the build's cache too) names the folder it cannot make."""
    add_fixture(LEFTOVERS, day="2025-09-21", slug="generated")
    blocker = site.parent / "a-file"
    blocker.write_text("in the way", encoding="utf-8")
    monkeypatch.setenv("PUBLISHER_PATHS__VAR", str(blocker / "state"))
    code, _, err = _run(*args, "--site", str(site))
    assert code == 1, err  # an output fault (2 is for settings and options)
    assert f"{blocker / 'state'}: cannot make the state folder: Not a directory" in err
    assert "bug" not in err and "Traceback" not in err


def test_a_missing_posts_folder_is_one_line_and_exit_2(site: Path) -> None:
    shutil.rmtree(site / "_posts")
    code, out, err = _run("check", "--site", str(site))
    assert (code, out, err) == (
        2,
        "_posts:1: unreadable: no such folder (set [site] posts_dir)\n",
        "",
    )
    code, out, _ = _run("check", "--site", str(site), "--json")
    assert code == 2 and json.loads(out)["aborted"] is True and json.loads(out)["files"] == 0
