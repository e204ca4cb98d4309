"""The fast path for flat front matter gives exactly what YAML gives, or steps aside."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from publisher.content.frontmatter import _split, clean_front, load_front, load_simple
from publisher.content.yamlsafe import load_yaml, repair_strings

ROOT = Path(__file__).resolve().parent.parent


def _yaml(front: str) -> object:
    return yaml.load(front, Loader=yaml.CSafeLoader)


def _front_matters() -> list[tuple[str, str]]:
    files = [*ROOT.glob("examples/site/_posts/*.md"), *ROOT.glob("tests/fixtures/posts/*.md")]
    files += sorted((ROOT.parent / "shared" / "sample-posts").glob("*.txt"))
    found = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
        except UnicodeDecodeError:
            continue
        split = _split(text)
        if split is not None:
            found.append((path.name, split[0]))
    return found


@pytest.mark.parametrize(
    "front",
    [
        'title: "韓国AI、世界3位浮上の真意とは？"\ndate: 2025-09-21 02:15:11 +0000\ncategories: ["投資分析"]',
        'tags: ["AI", "最新ニュース", "技術動向"]\nreading_time: 8\nlayout: post',
        "published: false",
        "published: no",
        "published: off",
        "draft: Yes",
        "x: null",
        "x: ~",
        "date: 2025-09-21",
        "date: 2025-09-21 02:15:11",
        "date: 2025-09-21T02:15:11Z",
        "n: 010",
        "n: 0",
        "n: 12345",
        "n: 1_000",
        "n: 1:20",
        "n: 0x1F",
        "f: 1.5",
        "f: .inf",
        'title: "with \\"escape\\""',
        "title: 'single quoted'",
        'title: "a" # comment',
        "title: plain text with spaces",
        "title: key: value",
        "tags: [a, b]",
        "tags: []",
        'tags: [ "a" , "b" ]',
        "categories: 技術解説 入門",
        "title: y",
        "title: n",
        "on: x",
        "yes: 1",
        "a: b\na: c",
        "nested:\n  key: value",
        "list:\n  - a\n  - b",
        "title: |\n  block",
        "",
        "\n\n",
        'title: "tab\there"',
        'title: "\x01"',
        'title: "ok"\n\ndate: 2025-09-21 02:15:11 +0000',
        "key:value",
        "key: ",
        'title: "emoji 😀"',
        "author: {name: x}",
    ],
)
def test_fast_path_agrees_with_yaml_or_declines(front: str) -> None:
    fast = load_simple(front)
    if fast is None:
        return
    assert fast == (_yaml(front) or {})


def test_real_front_matters_agree() -> None:
    cases = _front_matters()
    assert len(cases) > 30
    taken = 0
    for name, front in cases:
        fast = load_simple(front)
        if fast is not None:
            taken += 1
            assert fast == (_yaml(front) or {}), name
    assert taken > 10  # the fast path really is the common path


def test_generated_corpus_agrees(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from make_corpus import write_corpus
    finally:
        sys.path.pop(0)
    write_corpus(tmp_path / "corpus", 200, 5)
    for path in sorted((tmp_path / "corpus" / "_posts").iterdir()):
        split = _split(path.read_text(encoding="utf-8"))
        assert split is not None
        fast = load_simple(split[0])
        assert fast is not None, path.name
        assert fast == _yaml(split[0]), path.name


@pytest.mark.parametrize(
    ("front", "line", "fast"),
    [
        ('title: "a\x01b"', 2, True),
        ('layout: post\ntitle: "a\x7fb"', 3, True),
        ('title: "\x80x\x9f"', 2, True),
        ("title: plain\ufffe text", 2, False),
        ('tags: ["a\x0b", "b"]', 2, True),
        ("title: x\x00y\nreading_time: 3", 2, True),
        ('title: "ok"\n\x1bdate: 2025-09-21 02:15:11 +0000', 3, True),
        ('title: "a\\x01 \x02"\nnested:\n  k: "\x03"', 2, False),
    ],
)
def test_cleaned_front_matter_reads_the_same_both_ways(front: str, line: int, fast: bool) -> None:
    cleaned, notes = clean_front(front)
    assert [n[0] for n in notes] == [line]
    assert "\x7f" not in cleaned and all(ord(c) >= 0x20 or c == "\n" for c in cleaned)
    by_yaml, _ = repair_strings(load_yaml(cleaned), lambda key: None)
    simple = load_simple(cleaned)
    assert (simple is not None) == fast
    if simple is not None:
        assert simple == by_yaml
    meta, warnings = load_front(Path("x.md"), front)
    assert meta == by_yaml
    assert warnings[0] == notes[0]
