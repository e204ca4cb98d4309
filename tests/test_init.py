"""`publisher init` on an existing Jekyll site, through the real CLI (and the real Jekyll).

It writes a publisher.toml the settings loader reads, proposes feed names for
the posts' categories, adds `.publisher/` to .gitignore and publisher.toml to
`exclude` in _config.yml once (as text: comments and layout kept), replaces
nothing without --force, writes nothing outside the site, and answers a
hostile _config.yml with one line, never a traceback.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import msgspec
import pytest
import yaml
from click.testing import CliRunner, Result
from state_support import listing, ok, publisher

from publisher.app.setup_jekyll import DEFAULT_EXCLUDES
from publisher.app.setup_toml import EXAMPLE_BLOCKS
from publisher.cli import main
from publisher.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "config" / "publisher.example.toml"

HEAD = """\
# The blog's own settings.
title: つみきノート
url: "https://blog.example.com"   # the live address
timezone: Asia/Tokyo
lang: ja
"""
TAIL = """
# Build
markdown: kramdown
"""
BLOCK = """
exclude:            # not part of the site
  - README.md
  # the theme's sources
  - src/
"""
FLOW = "\nexclude: [README.md, 'src/']  # not part of the site\n"
SHAPES = {"block": HEAD + BLOCK + TAIL, "flow": HEAD + FLOW + TAIL, "none": HEAD + TAIL}
POSTS = {
    "2025-09-01-a.md": "title: A\ncategories: [投資分析, Policy]",
    "2025-09-02-b.md": "title: B\ncategories: Policy AI",
    "2025-09-03-c.md": "title: C\ncategory: 半導体",
    "2025-09-04-d.md": "title: D\ncategories: [Machine Learning]",
    "2025-09-05-broken.md": 'title: "unclosed',
}


def make_site(root: Path, config: str = SHAPES["block"]) -> Path:
    site = root / "blog"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text(config, encoding="utf-8")
    for name, front in POSTS.items():
        (site / "_posts" / name).write_text(f"---\n{front}\n---\n\nBody.\n", encoding="utf-8")
    return site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in __import__("os").environ if n.startswith("PUBLISHER_")]:
        monkeypatch.delenv(name)
    return make_site(tmp_path)


def init(*args: str) -> Result:
    result = CliRunner().invoke(main, ["init", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def test_writes_settings_that_load_with_a_slug_for_each_ascii_category(site: Path) -> None:
    result = init("--site", "blog")
    assert result.exit_code == 0, result.output
    settings = load_settings(site)
    assert settings.categories == {
        "AI": "ai",
        "Machine Learning": "machine-learning",
        "Policy": "policy",
    }
    assert settings.site.title == "つみきノート"  # still from _config.yml
    text = (site / "publisher.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for name in ("投資分析", "半導体"):  # left to the editor, commented out, with a note
        [line] = [line for line in lines if name in line]
        assert line.startswith(f'# "{name}" = ""'), line
        assert f"feeds/categories/{name}.xml" in line
    assert any(line.startswith('"Policy" = "policy"') and "2 posts" in line for line in lines)
    assert '# url = "https://blog.example.com"' in text and "from _config.yml" in text
    assert '# permalink = "date"' in text and "not in _config.yml" in text
    assert "Choose one for: 半導体, 投資分析" in result.output
    assert "1 post file could not be read" in result.output
    assert "  publisher build --site blog\n" in result.output
    assert "  publisher digest preview --site blog --format text\n" in result.output


def test_the_keys_shown_have_the_example_configs_defaults_and_comments(site: Path) -> None:
    assert init("--site", str(site)).exit_code == 0
    written = tomllib.loads((site / "publisher.toml").read_text(encoding="utf-8"))
    defaults = Settings()
    for section in ("digest", "web", "smtp"):
        shown = msgspec.convert(written[section], type(getattr(defaults, section)))
        assert shown == getattr(defaults, section), section
    example = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    for section, block in EXAMPLE_BLOCKS.items():
        table = example.split(f"\n[{section}]\n", 1)[1].split("\n[", 1)[0].splitlines()
        at = [table.index(line) for line in block.splitlines()]  # each line verbatim…
        assert at == sorted(at), section  # …and in the example's order


def test_gitignore_created_then_added_to_once(site: Path) -> None:
    assert init("--site", str(site)).exit_code == 0
    assert (site / ".gitignore").read_text(encoding="utf-8").splitlines().count(".publisher/") == 1
    (site / ".gitignore").write_text("_site/\n.jekyll-cache", encoding="utf-8")  # no last newline
    assert init("--site", str(site), "--force").exit_code == 0
    text = (site / ".gitignore").read_text(encoding="utf-8")
    assert text.startswith("_site/\n.jekyll-cache\n")
    assert text.splitlines().count(".publisher/") == 1
    before = (site / ".gitignore").read_bytes()
    result = init("--site", str(site), "--force")
    assert "already ignores .publisher/" in result.output
    assert (site / ".gitignore").read_bytes() == before
    (site / ".gitignore").write_text("/.publisher\n", encoding="utf-8")
    init("--site", str(site), "--force")
    assert (site / ".gitignore").read_text(encoding="utf-8") == "/.publisher\n"


@pytest.mark.parametrize("shape", SHAPES)
def test_exclude_added_once_in_each_shape_keeping_the_rest(tmp_path: Path, shape: str) -> None:
    site = make_site(tmp_path, SHAPES[shape])
    assert init("--site", str(site)).exit_code == 0
    text = (site / "_config.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    old = yaml.safe_load(SHAPES[shape])
    assert data == {**old, "exclude": data["exclude"]}
    if shape == "none":  # a new list keeps Jekyll's defaults (Jekyll 3 would drop them)
        assert data["exclude"] == [*DEFAULT_EXCLUDES, "publisher.toml"]
        assert text.startswith(SHAPES[shape])
    elif shape == "block":
        assert data["exclude"] == ["README.md", "src/", "publisher.toml"]
        assert text == SHAPES[shape].replace("  - src/\n", "  - src/\n  - publisher.toml\n")
    else:
        assert text == SHAPES[shape].replace("'src/']", "'src/', publisher.toml]")
    before = (site / "_config.yml").read_bytes()
    result = init("--site", str(site), "--force")
    assert "already keeps publisher.toml out of _site/" in result.output
    assert (site / "_config.yml").read_bytes() == before


@pytest.mark.parametrize(
    ("config", "edited"),
    [
        (
            "url: https://x.org\r\nexclude:\r\n  - a\r\n",
            "url: https://x.org\r\nexclude:\r\n  - a\r\n  - publisher.toml\r\n",
        ),
        (
            "url:\thttps://x.org\nexclude:\t[a]\t# tabs\n",
            "url:\thttps://x.org\nexclude:\t[a, publisher.toml]\t# tabs\n",
        ),
        (
            "url: https://x.org\nexclude: [\n  a,\n  b,  # c\n]\n",
            "url: https://x.org\nexclude: [\n  a,\n  b, publisher.toml  # c\n]\n",
        ),
        ("url: https://x.org\nexclude: []", "url: https://x.org\nexclude: [publisher.toml]"),
        (
            "url: https://x.org\nexclude:\n- a\nlang: ja",
            "url: https://x.org\nexclude:\n- a\n- publisher.toml\nlang: ja",
        ),
        ('url: https://x.org\nexclude: ["*.toml"]\n', None),
        ("url: https://x.org\nexclude: [pub]\n", None),  # Jekyll's prefix match
    ],
    ids=["crlf", "tabs", "flow-lines", "empty-flow", "block-at-0", "glob", "prefix"],
)
def test_hostile_layouts_are_edited_correctly(
    tmp_path: Path, config: str, edited: str | None
) -> None:
    site = tmp_path / "blog"
    site.mkdir()
    (site / "_config.yml").write_bytes(config.encode())
    result = init("--site", str(site))
    assert result.exit_code == 0, result.output
    assert (site / "_config.yml").read_bytes().decode() == (edited or config)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            b"url: https://x.org\nexclude: README.md\n",
            "_config.yml:2: exclude is a string ('README.md'), but Jekyll needs a list",
        ),
        (b"url: https://x.org\nexclude: {a: 1}\n", "_config.yml:2: exclude is a dict"),
        (
            b"url: https://x.org\n\texclude: [a]\n",
            "_config.yml:2: invalid YAML: found a tab character",
        ),
        (
            b"\xef\xbb\xbfurl: https://x.org\r\nexclude: [a]\r\n",
            "_config.yml:1: begins with a byte-order mark",
        ),
        (b"url: https://x.org\ntitle: \xff\n", "_config.yml: 'utf-8' codec can't decode"),
        (
            b"url: https://x.org\nexclude: [a]\nexclude: [b]\n",
            "_config.yml:3: exclude is set twice",
        ),
        (
            b"url: https://x.org\nexclude: &e [a]\nkeep: *e\n",
            "_config.yml:2: cannot add publisher.toml to this exclude (&e [a]): add it by hand",
        ),
        (b"- a\n- b\n", "_config.yml: expected a mapping of settings"),
        (b"title: no url\n", "site.url: expected an absolute http(s) URL"),
    ],
    ids=[
        "string",
        "mapping",
        "tab-indent",
        "bom",
        "not-utf8",
        "twice",
        "anchor",
        "a-list",
        "no-url",
    ],
)
def test_hostile_config_is_one_line_and_nothing_written(
    tmp_path: Path, config: bytes, message: str
) -> None:
    site = tmp_path / "blog"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_bytes(config)
    before = listing(tmp_path)
    result = init("--site", str(site))
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: "), result.output
    assert message in result.output
    assert listing(tmp_path) == before


def test_no_config_yml_is_exit_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "blog").mkdir()
    result = init("--site", str(tmp_path / "blog"))
    assert result.exit_code == 2
    assert (
        result.output
        == f"Error: {tmp_path / 'blog' / '_config.yml'}: no such file: publisher init reads the Jekyll site's settings there\n"
    )
    assert list((tmp_path / "blog").iterdir()) == []


def test_second_run_changes_nothing_without_force_and_rewrites_with_it(
    site: Path, tmp_path: Path
) -> None:
    assert init("--site", str(site)).exit_code == 0
    settings_file = site / "publisher.toml"
    settings_file.write_text(
        settings_file.read_text(encoding="utf-8") + "# mine\n", encoding="utf-8"
    )
    before = listing(tmp_path)
    contents = {p: p.read_bytes() for p in site.iterdir() if p.is_file()}
    result = init("--site", str(site))
    assert result.exit_code == 1
    assert (
        result.output
        == f"Error: {settings_file}: already exists: run `publisher init --force` to write a new publisher.toml\n"
    )
    assert listing(tmp_path) == before
    assert {p: p.read_bytes() for p in site.iterdir() if p.is_file()} == contents
    result = init("--site", str(site), "--force")
    assert result.exit_code == 0 and f"Replaced {settings_file}" in result.output
    assert "# mine" not in settings_file.read_text(encoding="utf-8")
    assert load_settings(site).categories["Policy"] == "policy"


def test_config_publisher_toml_counts_as_existing_settings(site: Path) -> None:
    (site / "config").mkdir()
    (site / "config" / "publisher.toml").write_text("", encoding="utf-8")
    result = init("--site", str(site))
    assert result.exit_code == 1 and "config/publisher.toml: already exists" in result.output
    assert not (site / "publisher.toml").exists()
    result = init("--site", str(site), "--force")
    assert result.exit_code == 0 and "takes precedence over it" in result.output


def test_writes_nothing_outside_the_site(site: Path, tmp_path: Path) -> None:
    outside = tmp_path / "shared.yml"
    outside.write_text(SHAPES["none"], encoding="utf-8")
    (site / "_config.yml").unlink()
    (site / "_config.yml").symlink_to(outside)
    before = {p.name for p in tmp_path.iterdir()}
    result = init("--site", str(site))
    assert result.exit_code == 1 and "is a link out of the site" in result.output
    assert outside.read_text(encoding="utf-8") == SHAPES["none"]
    assert sorted(p.name for p in site.iterdir()) == ["_config.yml", "_posts"]  # nothing half-done
    assert {p.name for p in tmp_path.iterdir()} == before


def test_include_that_publishes_the_state_is_reported(tmp_path: Path) -> None:
    site = make_site(tmp_path, HEAD + "include: [.publisher]\n")
    result = init("--site", str(site))
    assert result.exit_code == 0
    assert "include lists .publisher, so Jekyll publishes it" in result.output


# --- the real Jekyll --------------------------------------------------------------------

PAGES = {
    "index.md": "---\ntitle: Home\n---\nHome\n",
    "about.md": "---\ntitle: About\n---\nAbout\n",
    "README.md": "read me\n",
    "src/theme.scss": "body {}\n",
    "publisher-notes.txt": "published: a name beginning like ours\n",
    "node_modules/x/index.js": "x\n",
    "vendor/bundle/gem.rb": "x\n",
    "Gemfile": "source 'x'\n",
}


def _published(site: Path) -> set[str]:
    from jekyll_support import jekyll_build

    shutil.rmtree(site / "_site", ignore_errors=True)
    built = jekyll_build(site)
    assert built.returncode == 0, built.stdout + built.stderr
    return {str(p.relative_to(site / "_site")) for p in (site / "_site").rglob("*") if p.is_file()}


@pytest.mark.parametrize("shape", SHAPES)
def test_jekyll_publishes_what_it_did_and_none_of_publisher(tmp_path: Path, shape: str) -> None:
    from jekyll_support import find_jekyll

    find_jekyll()  # skips without jekyll
    site = make_site(tmp_path, SHAPES[shape])
    (site / "_posts" / "2025-09-05-broken.md").unlink()  # Jekyll would stop on it
    for name, text in PAGES.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    before = _published(site)
    assert "about.html" in before and "Gemfile" not in before

    ok(publisher("init", "--site", "blog", cwd=tmp_path))
    ok(publisher("build", "--site", "blog", cwd=tmp_path))
    after = _published(site)
    feeds = {p for p in after if p.startswith("feeds/")}
    assert "feeds/atom.xml" in feeds and "feeds/categories/policy.xml" in feeds
    assert after - feeds == before  # nothing init added to exclude took anything else away
    assert not [p for p in after if p.startswith((".publisher", "publisher.toml"))]
    assert (site / ".publisher").is_dir() and (site / "publisher.toml").is_file()


def test_jekyll_ignores_exclude_after_a_bom_which_is_why_init_refuses(tmp_path: Path) -> None:
    from jekyll_support import find_jekyll

    find_jekyll()
    site = tmp_path / "blog"
    site.mkdir()
    (site / "README.md").write_text("read me\n", encoding="utf-8")
    (site / "_config.yml").write_bytes(b"\xef\xbb\xbftitle: T\nexclude: [README.md]\n")
    assert "README.md" in _published(site)
    (site / "_config.yml").write_bytes(b"title: T\nexclude: [README.md]\n")
    assert "README.md" not in _published(site)
