import json
from pathlib import Path

import pytest

from publisher.config import load_settings
from publisher.errors import ConfigError


def test_defaults_come_from_jekyll_config(site: Path) -> None:
    s = load_settings(site, environ={})
    assert s.site.title == "テストブログ"
    assert s.site.timezone == "Asia/Tokyo"
    assert s.site.lang == "ja"
    assert s.site.permalink == "date"
    assert s.site.excerpt_separator == "\n\n"
    assert s.feeds.limit == 20
    assert s.feeds.formats == ("atom", "rss", "json")


def test_jekyll_author_mapping_and_extra_keys_are_fine(site: Path) -> None:
    (site / "_config.yml").write_text(
        "url: https://x.org\nbaseurl: /blog/\nauthor: {name: 編集部, email: a@x.org}\n"
        "plugins: [jekyll-feed]\nmarkdown: kramdown\n",
        encoding="utf-8",
    )
    s = load_settings(site, environ={})
    assert s.site.author == "編集部"
    assert s.site.root_url == "https://x.org/blog"


def test_toml_overrides_jekyll_and_env_overrides_toml(site: Path) -> None:
    (site / "publisher.toml").write_text(
        '[site]\ntitle = "From TOML"\n[feeds]\nlimit = 5\n[categories]\n"投資分析" = "investment"\n',
        encoding="utf-8",
    )
    s = load_settings(
        site, environ={"PUBLISHER_FEEDS__LIMIT": "7", "PUBLISHER_FEEDS__TAGS": "false"}
    )
    assert s.site.title == "From TOML"
    assert s.feeds.limit == 7
    assert s.feeds.tags is False
    assert s.categories == {"投資分析": "investment"}


def test_config_dir_file_is_found(site: Path) -> None:
    (site / "config").mkdir()
    (site / "config" / "publisher.toml").write_text("[feeds]\nlimit = 3\n", encoding="utf-8")
    assert load_settings(site, environ={}).feeds.limit == 3


def test_explicit_config_file(site: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text("[feeds]\ncontent = 'excerpt'\n", encoding="utf-8")
    assert load_settings(site, other, environ={}).feeds.content == "excerpt"


@pytest.mark.parametrize(
    ("toml", "env", "key", "reason"),
    [
        ("[feeds]\nlimt = 5\n", {}, "feeds.limt", "unknown key"),
        ("[feeds]\nlimit = 'ten'\n", {}, "feeds.limit", "Expected `int`, got `str`"),
        ("[feeds]\nlimit = 0\n", {}, "feeds.limit", ">= 1"),
        ("[feeds]\ncontent = 'some'\n", {}, "feeds.content", "Invalid enum value 'some'"),
        ("[feeds]\nformats = ['atom', 'opml']\n", {}, "feeds.formats[1]", "Invalid enum value"),
        ("[site]\ntimezone = 'Mars/Olympus'\n", {}, "site.timezone", "unknown timezone"),
        ("[site]\nurl = 'blog.example.com'\n", {}, "site.url", "absolute http(s) URL"),
        ("[categories]\n'投資' = '../up'\n", {}, "categories.投資", "not a safe file name"),
        ("[nonsense]\nx = 1\n", {}, "nonsense", "unknown key"),
        ("", {"PUBLISHER_FEEDS__LIMIT": "many"}, "feeds.limit", "Expected `int`, got `str`"),
        ("", {"PUBLISHER_NOPE__X": "1"}, "nope", "unknown key"),
    ],
)
def test_bad_settings_name_the_key(
    site: Path, toml: str, env: dict[str, str], key: str, reason: str
) -> None:
    (site / "publisher.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(site, environ=env)
    assert info.value.key == key
    assert reason in info.value.reason


def test_broken_toml_names_the_file_and_line(site: Path) -> None:
    (site / "publisher.toml").write_text("[feeds\nlimit = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"publisher.toml.*line 1"):
        load_settings(site, environ={})


def test_broken_jekyll_config_names_the_line(site: Path) -> None:
    (site / "_config.yml").write_text("title: x\nurl: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"_config.yml:\d"):
        load_settings(site, environ={})


def test_fingerprint_changes_with_any_setting(site: Path) -> None:
    a = load_settings(site, environ={})
    b = load_settings(site, environ={"PUBLISHER_FEEDS__EXCERPT_LENGTH": "50"})
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == load_settings(site, environ={}).fingerprint()


def test_paths_in_settings_are_relative_to_the_site_or_their_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "blog"
    site.mkdir()
    (site / "_config.yml").write_text('url: "https://blog.example.com"\n', encoding="utf-8")
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    toml = elsewhere / "publisher.toml"
    toml.write_text(
        '[paths]\nvar = "state"\n[smtp]\nca_file = "ca.pem"\n[digest]\ntemplates = "mail"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)  # the folder a command runs from plays no part
    settings = load_settings(Path("blog"), toml, environ={})
    assert settings.paths.var == str(elsewhere / "state")
    assert settings.smtp.ca_file == str(elsewhere / "ca.pem")
    assert settings.digest.templates == str(elsewhere / "mail")
    assert settings.paths.output == str(site)  # not set: the site folder
    env = {"PUBLISHER_PATHS__VAR": "from-env", "PUBLISHER_SMTP__CA_FILE": "/abs/ca.pem"}
    overridden = load_settings(Path("blog"), toml, environ=env)
    assert overridden.paths.var == str(site / "from-env")  # the environment has no folder
    assert overridden.smtp.ca_file == "/abs/ca.pem"
    plain = load_settings(Path("blog"), environ={})
    assert plain.paths.var == str(site / ".publisher")
    assert plain.smtp.ca_file == "" and plain.digest.templates == ""


def test_a_site_folder_that_does_not_exist_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "nope", environ={})
    assert caught.value.key == "--site" and "no such folder" in caught.value.reason


def test_jekyll_feed_settings_come_from_feed_in_jekyll_config(site: Path) -> None:
    config = site / "_config.yml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + "feed:\n  path: /atom.xml\n  categories: [投資分析, 2025]\n  posts_limit: 3\n"
        "  excerpt_only: true\n  tags: {only: [ml], except: [x], path: /t/}\n"
        "  collections: [notes]\n",
        encoding="utf-8",
    )
    feed = load_settings(site, environ={}).site.feed
    assert (feed.path, feed.categories, feed.posts_limit, feed.excerpt_only) == (
        "/atom.xml",
        ("投資分析", "2025"),
        3,
        True,
    )
    assert not isinstance(feed.tags, bool)
    assert (feed.tags.only, feed.tags.except_, feed.tags.path) == (("ml",), ("x",), "/t/")
    # Without feed: jekyll-feed's defaults.
    config.write_text("url: https://x.org\n", encoding="utf-8")
    feed = load_settings(site, environ={}).site.feed
    assert (feed.path, feed.categories, feed.tags, feed.posts_limit) == ("/feed.xml", (), False, 10)


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        ("feed: {posts_limit: ten}", "_config.yml: feed.posts_limit: Expected `int`, got `str`"),
        ("feed: {posts_limit: -1}", "_config.yml: feed.posts_limit: Expected `int` >= 0"),
        ("feed: {tags: yes please}", "_config.yml: feed.tags: Expected `bool | object`"),
        ("feed: {tags: {only: ml}}", "_config.yml: feed.tags.only: Expected `array | null`"),
        ("feed: {excerpt_only: 1}", "_config.yml: feed.excerpt_only: Expected `bool`"),
        ("feed: {path: ../../x.xml}", "_config.yml: feed.path: '../../x.xml' leaves the site"),
        ("feed: {tags: {path: /a/../../}}", "_config.yml: feed.tags.path: '/a/../../' leaves"),
        ("feed: {categories: [a/../..]}", "_config.yml: feed.categories: 'a/../..' is not a safe"),
        ("feed: [a]", "_config.yml: feed: expected a mapping"),
    ],
)
def test_a_bad_feed_setting_in_jekyll_config_names_the_key(
    site: Path, feed: str, message: str
) -> None:
    config = site / "_config.yml"
    config.write_text(config.read_text(encoding="utf-8") + feed + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(site, environ={})
    assert message in str(caught.value)


def test_jekyll_feed_until_is_an_iso_date_or_time(site: Path) -> None:
    toml = site / "publisher.toml"
    toml.write_text("[feeds]\njekyll_feed_until = 2026-01-01T09:30:00+09:00\n", encoding="utf-8")
    s = load_settings(site, environ={})
    cutoff = s.feeds.jekyll_cutoff(s.site.tz)
    assert cutoff is not None and cutoff.isoformat() == "2026-01-01T09:30:00+09:00"
    toml.write_text('[feeds]\njekyll_feed_until = "2026-01-01"\n', encoding="utf-8")
    s = load_settings(site, environ={})
    cutoff = s.feeds.jekyll_cutoff(s.site.tz)
    assert cutoff is not None and cutoff.isoformat() == "2026-01-01T00:00:00+09:00"  # the site's
    assert load_settings(site, environ={}).feeds.jekyll_feed is False
    toml.write_text('[feeds]\njekyll_feed_until = "soon"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^feeds.jekyll_feed_until: expected an ISO 8601"):
        load_settings(site, environ={})


@pytest.mark.parametrize(
    "folder",
    [
        "../x",
        "/tmp/feeds",
        "\\\\server\\share",
        "a\\..\\..\\b",
        "a/../../b",
        "",
        "/",
        "C:/f",
        "a\0b",
    ],
)
def test_feeds_dir_must_be_a_folder_inside_the_output(site: Path, folder: str) -> None:
    (site / "publisher.toml").write_text(f"[feeds]\ndir = {json.dumps(folder)}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(site, environ={})
    assert raised.value.key == "feeds.dir"
    assert raised.value.reason.startswith("expected a folder inside the output folder")


@pytest.mark.parametrize("folder", ["feeds", "assets/feeds", "."])
def test_feeds_dir_inside_the_output_is_fine(site: Path, folder: str) -> None:  # a guard
    assert load_settings(site, environ={"PUBLISHER_FEEDS__DIR": folder}).feeds.dir == folder
