"""Property tests: whatever is in ``_posts/``, reading never raises and every feed is well formed.

Arbitrary bytes as a post file, arbitrary front matter text, arbitrary Unicode
in titles and bodies, random folder trees with links (loops, links out of the
site, broken links). Derandomized and few examples each, so CI sees the same
cases every run, in seconds.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from publisher.app import BuildRequest, build_feeds
from publisher.config import load_settings
from publisher.content import ReadResult, read_posts

NOW = datetime(2025, 11, 20, tzinfo=UTC)
CONFIG = 'title: Props\nurl: "https://blog.example.com"\ntimezone: Asia/Tokyo\n'
FAST = settings(
    max_examples=250,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
OUTSIDE_TITLE = "Outside the site"


@contextmanager
def _site() -> Iterator[Path]:
    """A fresh site with one good post, in a folder of its own (examples share no state)."""
    with tempfile.TemporaryDirectory(prefix="publisher-props-") as tmp:
        root = Path(tmp)
        site = root / "site"
        (site / "_posts").mkdir(parents=True)
        (site / "_config.yml").write_text(CONFIG, encoding="utf-8")
        good = site / "_posts" / "2025-01-01-good.md"
        good.write_text("---\ntitle: Good\n---\n\nGood body.\n", encoding="utf-8")
        yield site


def _read_and_build(site: Path) -> ReadResult:
    """read_posts and build_feeds on ``site``; every feed written must parse cleanly."""
    conf = load_settings(site, environ={"PUBLISHER_PATHS__VAR": str(site.parent / "state")})
    result = read_posts(site, conf, NOW)
    for problem in (*result.problems, *result.warnings):
        str(problem).encode("utf-8")  # printable, storable
    out = site.parent / "out"
    build_feeds(BuildRequest(site_dir=site, output_dir=out, now=NOW, settings=conf))
    _check_feeds(out)
    return result


def _check_feeds(out: Path) -> None:
    written = sorted(out.rglob("*.xml")) + sorted(out.rglob("*.json"))
    assert any(p.name == "atom.xml" for p in written)
    for path in written:
        data = path.read_bytes()
        if path.suffix == ".json":
            json.loads(data)
            continue
        etree.fromstring(data, etree.XMLParser(resolve_entities=False))
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (path.name, parsed.get("bozo_exception"))


def _write(site: Path, name: str, data: bytes) -> Path:
    path = site / "_posts" / name
    path.write_bytes(data)
    return path


_front_bytes = st.builds(
    lambda front, body: b"---\n" + front + b"\n---\n" + body, st.binary(), st.binary()
)


@FAST
@given(data=st.one_of(st.binary(max_size=2000), _front_bytes))
def test_any_bytes_as_a_post_file(data: bytes) -> None:
    with _site() as site:
        _write(site, "2025-02-02-bytes.md", data)
        result = _read_and_build(site)
        assert "Good" in [p.title for p in result.posts]
        assert len(result.posts) + len(result.problems) + result.drafts == 2


_KEYS = ["title", "date", "categories", "tags", "slug", "permalink", "id", "author", "excerpt"]
_KEYS += ["published", "last_modified_at", "reading_time", "category", "tag"]
_scalar = st.one_of(
    st.text(max_size=30).map(json.dumps),
    st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=20),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(
        [
            *(
                "2025-02-30",
                "0001-01-01",
                "9999-12-31 23:59:59 -12:00",
                "2025-09-21 02:15:11 +0000",
            ),
            *("no", "~", "[]", "{}", "&a [*a]", "/../..", ":categories/:title", "../../etc/passwd"),
        ]
    ),
)
_value = st.one_of(_scalar, st.lists(_scalar, max_size=4).map(lambda xs: f"[{', '.join(xs)}]"))
_mapping = st.lists(st.tuples(st.sampled_from(_KEYS), _value), max_size=8).map(
    lambda pairs: "title: T\n" + "\n".join(f"{k}: {v}" for k, v in pairs)
)


@FAST
@given(front=st.one_of(st.text(max_size=400), _mapping))
def test_any_front_matter_text(front: str) -> None:
    with _site() as site:
        _write(site, "2025-02-02-front.md", f"---\n{front}\n---\n\nBody.\n".encode())
        result = _read_and_build(site)
        assert "Good" in [p.title for p in result.posts]


def _kept(char: str) -> bool:
    """What may stay in a title: XML 1.0's characters (json.dumps escapes every control)."""
    code = ord(char)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


@FAST
@given(
    title=st.text(st.characters(codec="utf-8"), min_size=1, max_size=60),
    body=st.text(max_size=300),
)
def test_any_unicode_in_titles_and_bodies(title: str, body: str) -> None:
    # JSON with ASCII escapes is YAML too; astral characters become surrogate pairs.
    front = f"title: {json.dumps(title)}\ncategories: [{json.dumps(title)}]"
    with _site() as site:
        _write(site, "2025-02-02-unicode.md", f"---\n{front}\n---\n\n{body}".encode())
        result = _read_and_build(site)
        expected = "".join(c for c in title if _kept(c)).strip()
        titles = sorted(p.title for p in result.posts)
        if expected:
            assert titles == sorted(["Good", expected])
        else:
            assert titles == ["Good"]
            assert [p.reason for p in result.problems] == ["no title in front matter"]


_NAMES = st.sampled_from(["a", "b", "2025-03-03-x.md", "2025-04-04-y.md", "c"])
_TARGETS = st.sampled_from([".", "..", "../..", "a", "b/c", "missing", "SYSTEM", "OUT", "OUTDIR"])
"""Where the links point; ``SYSTEM`` stands for a system file such as /etc/passwd, made in
the example's own folder: a later step writing "a post" at the link's name must never reach
a real one (it once overwrote /etc/passwd, running as root)."""
_tree = st.lists(
    st.tuples(st.sampled_from(["dir", "post", "link"]), _NAMES, _NAMES, _TARGETS), max_size=12
)


def _make_tree(site: Path, steps: list[tuple[str, str, str, str]]) -> None:
    outside = site.parent / "outside"
    outside.mkdir(exist_ok=True)
    secret = f"---\ntitle: {OUTSIDE_TITLE}\n---\n\nSecret.\n"
    (outside / "2025-05-05-secret.md").write_text(secret, encoding="utf-8")
    system = site.parent / "system" / "passwd"
    system.parent.mkdir(exist_ok=True)
    system.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    posts = site / "_posts"
    where = {
        "OUT": str(outside / "2025-05-05-secret.md"),
        "OUTDIR": str(outside),
        "SYSTEM": str(system),
    }
    for kind, folder, name, target in steps:
        parent = posts / folder if folder in ("a", "b", "c") else posts
        path = parent / name
        try:  # a step that cannot be done (its folder is a file, say) is skipped
            parent.mkdir(parents=True, exist_ok=True)
            if kind == "dir":
                path.mkdir()
            elif kind == "post":
                _write_new(path, site.parent, f"---\ntitle: Post {name}\n---\n\nText.\n")
            else:
                os.symlink(where.get(target, target), path)
        except OSError:
            continue


def _write_new(path: Path, root: Path, text: str) -> None:
    """Write a post at ``path``, never through a link, and only inside ``root``."""
    if not path.parent.resolve().is_relative_to(root.resolve()):
        raise OSError("outside the example's folder")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


@settings(FAST, max_examples=300)
@given(steps=_tree)
def test_random_trees_with_links(steps: list[tuple[str, str, str, str]]) -> None:
    with _site() as site:
        _make_tree(site, steps)
        result = _read_and_build(site)
        assert OUTSIDE_TITLE not in [p.title for p in result.posts]
        assert "Good" in [p.title for p in result.posts]
        keys = [p.path for p in result.problems]
        assert len(keys) == len(set(keys))  # each thing reported once
