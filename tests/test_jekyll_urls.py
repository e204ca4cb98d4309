"""Every link publisher puts in a feed is a page the real Jekyll wrote, with the same date.

Each test writes a Jekyll site into a temporary folder, runs ``jekyll build``
(offline, see ``tests/jekyll_support.py``; skipped without Jekyll), then
``publisher build`` on the same site, and reads every Atom feed publisher
wrote (site, category and tag feeds) with lxml. For every entry:

- its link, minus ``url`` + ``baseurl`` and percent-decoded, names a file
  Jekyll wrote under ``_site/`` (``index.html`` after a ``/``; ``.html``
  after a path without it, which is where Jekyll writes an extension-less
  permalink), and that file is the page of the same post (by its title);
- that page's own ``page.url``, decoded, is the same path;
- the entry's ``published`` is the page's ``{{ page.date | date_to_xmlschema }}``,
  the same instant. The offset agrees only where the post gave none (then
  both use the site's timezone; checked too) or gave the site's: for a post
  written with ``+0000`` on a Tokyo site the page says ``+09:00`` (Jekyll's
  date filters convert every date to the site's timezone) and the feed
  ``+00:00`` (publisher keeps the offset the post was written with).

One site per permalink style or pattern, each with every post of
``tests/test_permalink.py``'s table, whose ``page.url`` values are checked
here too; and the customer's five posts under the four permalinks they tried.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

import pytest
from jekyll_support import find_jekyll, jekyll_build, jekyll_ruby
from lxml import etree
from state_support import clean_env, ok, publisher
from test_ids import SLUGIFY
from test_permalink import ALL, BLOG, CASES, CATEGORIES_HTML, Case, write_case

URL = "https://blog.example.com"
ATOM = "{http://www.w3.org/2005/Atom}"
NOW = "2030-01-01T00:00:00+00:00"
LAYOUT = (
    "<title>{{ page.title }}</title>\n"
    "<time>{{ page.date | date_to_xmlschema }}</time>\n"
    "<url>{{ page.url }}</url>\n"
)
_OFFSET = re.compile(r"^date: .*(?:Z|[+-]\d\d:?\d\d)$", re.M)
_PAGE = re.compile(r"<title>(.*)</title>\n<time>(.*)</time>\n<url>(.*)</url>")


class Page(NamedTuple):
    file: str  # under _site/
    date: datetime
    url: str  # Jekyll's page.url


class Site(NamedTuple):
    permalink: str
    baseurl: str = ""
    timezone: str = "Asia/Tokyo"


SITES = [
    Site("date"),
    Site("pretty", baseurl="/ja"),
    Site("ordinal"),
    Site("weekdate"),
    Site("none"),
    Site(CATEGORIES_HTML),
    Site(BLOG, baseurl="/sub/dir/"),
    Site(ALL),
    Site("date", timezone="America/New_York"),  # the dates, in another zone: no table check
]
SAMPLE_PERMALINKS = ["date", "pretty", CATEGORIES_HTML, BLOG]


def write_site(root: Path, site: Site) -> Path:
    """A Jekyll site with the layout every post uses, and no post yet."""
    (root / "_posts").mkdir(parents=True)
    (root / "_layouts").mkdir()
    (root / "_layouts" / "post.html").write_text(LAYOUT, encoding="utf-8")
    config = {
        "title": "テストブログ",
        "url": URL,
        "baseurl": site.baseurl,
        "timezone": site.timezone,
        "lang": "ja",
        "permalink": site.permalink,
        "future": True,
    }
    (root / "_config.yml").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return root


def jekyll_pages(root: Path) -> dict[str, Page]:
    """Build ``root`` with Jekyll: every post page it wrote, by title."""
    built = jekyll_build(root)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "Conflict" not in built.stdout + built.stderr, built.stdout + built.stderr
    pages: dict[str, Page] = {}
    for path in (root / "_site").rglob("*"):
        found = _PAGE.search(path.read_text("utf-8")) if path.is_file() else None
        if found:
            title, date, url = found.groups()
            file = path.relative_to(root / "_site").as_posix()
            pages[title] = Page(file, datetime.fromisoformat(date), url)
    return pages


def feed_entries(root: Path, out: Path, var: Path) -> dict[str, list[tuple[str, str, str]]]:
    """``publisher build`` of ``root``: each Atom feed's (title, link, published) entries."""
    env = clean_env(PUBLISHER_PATHS__VAR=str(var), PUBLISHER_FEEDS__LIMIT="1000")
    shown = ok(
        publisher(
            "build",
            *("--site", str(root), "--output", str(out), "--now", NOW),
            cwd=out.parent,
            env=env,
        ),
        0,
        1,
    )
    # Every post is published; the only problem allowed is the note that "Tech" and "tech"
    # (one category to Jekyll) share a feed.
    assert "Problems:" not in shown or all(
        "both map to the feed slug" in line
        for line in shown.split("Problems:")[1].strip().splitlines()
    ), shown
    feeds: dict[str, list[tuple[str, str, str]]] = {}
    for path in sorted((out / "feeds").rglob("*.xml")):
        feed = etree.parse(str(path)).getroot()
        feeds[path.relative_to(out).as_posix()] = [_entry(e) for e in feed.iter(f"{ATOM}entry")]
    return feeds


def _entry(entry: etree._Element) -> tuple[str, str, str]:
    # RFC 4287 4.2.7.2: a link without rel is rel="alternate".
    links = [
        e.get("href") for e in entry.iter(f"{ATOM}link") if e.get("rel", "alternate") == "alternate"
    ]
    assert len(links) == 1, etree.tostring(entry)
    return (
        entry.findtext(f"{ATOM}title") or "",
        links[0] or "",
        entry.findtext(f"{ATOM}published") or "",
    )


def _twin_links(feeds: Path) -> set[str]:
    """The links of the RSS and JSON twins of the site feed (the same set in each)."""
    rss = {e.text or "" for e in etree.parse(str(feeds / "rss.xml")).iterfind("channel/item/link")}
    items = json.loads((feeds / "feed.json").read_text("utf-8"))["items"]
    assert rss == {item["url"] for item in items}
    return rss


def written_file(path: str, source: str) -> str:
    """Where Jekyll writes the page of URL path ``path`` (Document#destination).

    ``source`` is the post's file name: a ``.mdown`` file is not Markdown to
    Jekyll, so its output extension is its own.
    """
    output_ext = ".mdown" if source.endswith(".mdown") else ".html"
    if path.endswith("/"):
        return path + "index.html"
    return path if path.endswith(output_ext) else path + output_ext


def check_links(
    root: Path, tmp_path: Path, root_url: str
) -> tuple[dict[str, Page], dict[str, str]]:
    """Build with both; assert every feed link is the Jekyll page of its post.

    Jekyll's pages, and the site feed's ``published`` text, by title.
    """
    pages = jekyll_pages(root)
    feeds = feed_entries(root, tmp_path / "out", tmp_path / "var")
    assert {title for title, _, _ in feeds["feeds/atom.xml"]} == set(pages)
    assert _twin_links(tmp_path / "out" / "feeds") == {
        link for _, link, _ in feeds["feeds/atom.xml"]
    }
    assert len(feeds) > 3, feeds.keys()  # the site feed, category and tag feeds
    for feed, entries in feeds.items():
        for title, link, published in entries:
            where = f"{feed}: {title}: {link}"
            assert link.startswith(root_url + "/"), where
            path = unquote(link.removeprefix(root_url), errors="strict")
            # (A title is the file name in the table's sites; the samples are all .md.)
            assert written_file(path, title).lstrip("/") == pages[title].file, where
            assert (root / "_site" / pages[title].file).is_file(), where
            assert unquote(pages[title].url) == path, where
            assert datetime.fromisoformat(published) == pages[title].date, where
    return pages, {title: published for title, _, published in feeds["feeds/atom.xml"]}


def _posts() -> list[Case]:
    """One case per file (a file that is in several rows has the same front matter in each)."""
    by_file: dict[str, Case] = {}
    for case in CASES:
        assert by_file.setdefault(case.file, case).front == case.front, case.file
    return list(by_file.values())


@pytest.mark.parametrize("site", SITES, ids=lambda s: f"{s.permalink}-{s.timezone}")
def test_feed_links_are_the_pages_jekyll_wrote(tmp_path: Path, site: Site) -> None:
    find_jekyll()
    root = write_site(tmp_path / "site", site)
    for case in _posts():
        write_case(root / "_posts", case)
    root_url = URL + ("/" + site.baseurl.strip("/") if site.baseurl.strip("/") else "")
    pages, published = check_links(root, tmp_path, root_url)

    # The table in tests/test_permalink.py is what this Jekyll gives.
    if site.timezone == "Asia/Tokyo":
        for case in CASES:
            if case.permalink == site.permalink:
                assert pages[case.file].url == case.url, case.file
    # A date written without an offset is shown in the site's timezone by both.
    for case in _posts():
        if not _OFFSET.search(case.front):
            assert published[case.file] == pages[case.file].date.isoformat(), case


@pytest.mark.parametrize("permalink", SAMPLE_PERMALINKS)
def test_the_customers_posts(tmp_path: Path, sample_posts: list[Path], permalink: str) -> None:
    find_jekyll()
    root = write_site(tmp_path / "site", Site(permalink))
    for sample in sample_posts:
        text = sample.read_text("utf-8")
        day = re.search(r"^date:\s*(\d{4}-\d{2}-\d{2})", text, re.M)
        assert day, sample
        shutil.copyfile(sample, root / "_posts" / f"{day[1]}-{sample.stem}.md")
    pages, _ = check_links(root, tmp_path, URL)
    assert len(pages) == len(sample_posts)
    assert all("_" in page.url for page in pages.values())  # .../000_f2add3d526d6bbe3...


def test_slugify_table_is_jekylls() -> None:
    script = (
        "puts JSON.generate(JSON.parse($stdin.read).map { |t, m, c| "
        "Jekyll::Utils.slugify(t, mode: m, cased: c) })"
    )
    cases = [[text, mode, cased] for text, mode, cased, _ in SLUGIFY]
    given = json.loads(jekyll_ruby(script, json.dumps(cases)))
    assert given == [expected for *_, expected in SLUGIFY]
