"""A feed opened in a browser: Chromium applies feed.xsl and shows a readable page.

The example site's feeds are built into a temporary folder and served as
static files on 127.0.0.1; Playwright opens the site feed and a category feed
(whose stylesheet is one folder up) as a reader who clicked a feed link would.
Skipped when /usr/bin/chromium or playwright is not installed.
"""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from conftest import copy_example_site
from live_server import serving
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from publisher.app import BuildRequest, build_feeds
from publisher.cli.options import parse_now
from publisher.config import load_settings

NOW = "2025-11-20T09:00:00+09:00"


def _build(tmp_path: Path, lang: str) -> Path:
    site = tmp_path / "site"
    copy_example_site(site)
    config = site / "_config.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("lang: ja", f"lang: {lang}"), encoding="utf-8"
    )
    settings = load_settings(site)
    out = tmp_path / "out"
    report = build_feeds(BuildRequest(site_dir=site, output_dir=out, now=parse_now(NOW, settings)))
    assert report.written
    return out


@pytest.mark.parametrize(
    ("lang", "about"),
    [("ja", "これはフィードです。"), ("en", "This is a web feed.")],
)
def test_a_feed_opened_in_a_browser_is_a_readable_page(
    browser: object, tmp_path: Path, lang: str, about: str
) -> None:
    out = _build(tmp_path, lang)
    app = Starlette(routes=[Mount("/", StaticFiles(directory=out))])
    with serving(app) as base:
        page = browser.new_page(locale="ja-JP")  # type: ignore[attr-defined]
        for path in ("feeds/atom.xml", "feeds/categories/investment.xml"):
            feed = feedparser.parse((out / path).read_bytes())
            response = page.goto(f"{base}/{path}")
            assert response is not None and response.ok
            assert page.evaluate("document.documentElement.lang") == lang
            text = page.inner_text("body")
            assert about in text and feed.feed.link in text
            assert page.locator("h1").inner_text() == feed.feed.title
            titles = page.locator(".entry h2").all_inner_texts()
            assert titles == [entry.title for entry in feed.entries]
            first = page.locator(".entry h2 a").first.get_attribute("href")
            assert first == feed.entries[0].link
            page.screenshot(path=str(tmp_path / f"{lang}-{path.replace('/', '-')}.png"))
