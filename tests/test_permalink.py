"""Post URLs: a table of what Jekyll 4.3.1 gave, and publisher against it.

Every ``url`` below is the ``page.url`` Jekyll printed for that post (site in
Asia/Tokyo); ``tests/test_jekyll_urls.py`` builds these posts with the real
Jekyll and checks each value again, so the table cannot drift from Jekyll.
publisher's path must decode to the same text (the file Jekyll writes), and
equal it byte for byte where Jekyll's is a valid URI path; where Jekyll leaves
a space, a non-ASCII letter, ``?`` or ``#`` in its URL (a post's own
``permalink`` is not encoded by Jekyll, nor ``?`` in a category), publisher
percent-encodes it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

import pytest

from publisher.config import load_settings
from publisher.content.permalink import post_path, site_template
from publisher.content.post import parse_post
from publisher.models import Post

ALL = (
    "/:year/:i_month/:i_day/:short_year/:hour-:minute-:second/:y_day/:week/:w_year/:w_day"
    "/:short_day/:long_day/:short_month/:long_month/:month_:day/:name/:slug/:path/:collection"
    "/:slugified_categories/:categories/:title:output_ext"
)
CATEGORIES_HTML = "/:categories/:year/:month/:day/:title.html"
BLOG = "/blog/:year/:i_month/:title/"
INVEST = "%E6%8A%95%E8%B3%87%E5%88%86%E6%9E%90"  # 投資分析


class Case(NamedTuple):
    permalink: str  # the site's
    file: str  # under _posts/
    front: str  # front matter lines besides layout and title
    url: str  # Jekyll's page.url


# fmt: off
CASES = [
    # The customer's file names: Jekyll's "pretty" slugify keeps "_", "." and case.
    Case("date", "2025-09-21-000_f2add3d526d6bbe3.md", 'date: 2025-09-21 02:15:11 +0000\ncategories: ["投資分析"]\ntags: ["AI", "投資"]', f"/{INVEST}/2025/09/21/000_f2add3d526d6bbe3.html"),
    Case("pretty", "2025-09-21-000_f2add3d526d6bbe3.md", 'date: 2025-09-21 02:15:11 +0000\ncategories: ["投資分析"]\ntags: ["AI", "投資"]', f"/{INVEST}/2025/09/21/000_f2add3d526d6bbe3/"),
    Case(CATEGORIES_HTML, "2025-09-21-000_f2add3d526d6bbe3.md", 'date: 2025-09-21 02:15:11 +0000\ncategories: ["投資分析"]\ntags: ["AI", "投資"]', f"/{INVEST}/2025/09/21/000_f2add3d526d6bbe3.html"),
    Case(BLOG, "2025-09-21-000_f2add3d526d6bbe3.md", 'date: 2025-09-21 02:15:11 +0000\ncategories: ["投資分析"]\ntags: ["AI", "投資"]', "/blog/2025/9/000_f2add3d526d6bbe3/"),
    Case("date", "2025-08-01-Upper_Case.Name.md", "categories: [Tech News, 投資]\ntags: Tag One", "/tech%20news/%E6%8A%95%E8%B3%87/2025/08/01/Upper_Case.Name.html"),
    Case("none", "2025-08-01-Upper_Case.Name.md", "categories: [Tech News, 投資]\ntags: Tag One", "/tech%20news/%E6%8A%95%E8%B3%87/Upper_Case.Name.html"),
    Case(BLOG, "2025-08-01-Upper_Case.Name.md", "categories: [Tech News, 投資]\ntags: Tag One", "/blog/2025/8/Upper_Case.Name/"),
    # Other names: spaces, "+", Japanese, marks, digits that are not decimal, dots.
    Case("date", "2025-08-02-with space+plus.md", "categories: A b", "/a/b/2025/08/02/with-space+plus.html"),
    Case("date", "2025-08-08-名前 テスト＋全角.md", "category: 投資分析", f"/{INVEST}/2025/08/08/%E5%90%8D%E5%89%8D-%E3%83%86%E3%82%B9%E3%83%88-%E5%85%A8%E8%A7%92.html"),
    Case("date", "2025-08-09-①Ⅳ²x\u0301y_ー々３.md", "", "/2025/08/09/x%CC%81y_%E3%83%BC%E3%80%85%EF%BC%93.html"),
    Case("date", "2025-08-27-raw.mdown", "", "/2025/08/27/raw.mdown"),  # not Markdown to Jekyll
    Case("date", "2025-08-03-dots..here.md", "", "/2025/08/03/dots/here.html"),
    Case("date", "2025-08-04-trail....md", "", "/2025/08/04/trail.html"),
    Case("date", "2025-08-10-odd #1 ?q %41 [x] {y} ü é〜.md", "", "/2025/08/10/odd-1-q-41-x-y-%C3%BC-%C3%A9.html"),
    # Categories are lower-cased and used as written (no slugify), each once.
    Case("date", "2025-08-11-cats.md", 'categories: [Tech, tech, "A%B", "c#d", "[z]", "x:y", "..", ""]\ncategory: Single One', "/tech/a%25b/c%23d/%5Bz%5D/x:y/single%20one/2025/08/11/cats.html"),
    Case("date", "2025-08-24-jp-string.md", "categories: 投資 AI分析", "/%E6%8A%95%E8%B3%87/ai%E5%88%86%E6%9E%90/2025/08/24/jp-string.html"),
    Case("date", "2025-08-26-slash-cat.md", 'categories: ["AI/ML"]', "/ai/ml/2025/08/26/slash-cat.html"),
    Case("date", "2025-08-12-question.md", 'categories: ["e?f"]', "/e?f/2025/08/12/question.html"),
    # Dates are in the site's timezone; an offset is converted to it.
    Case("date", "2025-09-21-utc-late.md", "date: 2025-09-21 16:30:00 +0000", "/2025/09/22/utc-late.html"),
    Case("date", "2025-09-22-tokyo-early.md", "date: 2025-09-22 00:30:00 +0900", "/2025/09/22/tokyo-early.html"),
    Case("date", "2025-09-21-india.md", "date: 2025-09-21 20:30:00 +0530", "/2025/09/22/india.html"),
    Case("date", "2025-09-21-zulu.md", "date: 2025-09-21T23:30:00Z", "/2025/09/22/zulu.html"),
    # No offset: YAML's timestamp (seconds given) is UTC to Ruby; other text is local time.
    Case("date", "2025-09-21-naive.md", "date: 2025-09-21 23:30:00", "/2025/09/22/naive.html"),
    Case("date", "2025-09-21-naive-minutes.md", "date: 2025-09-21 23:30", "/2025/09/21/naive-minutes.html"),
    Case("date", "2025-09-21-naive-quoted.md", 'date: "2025-09-21 23:30:00"', "/2025/09/21/naive-quoted.html"),
    Case("date", "2025-09-20-day-only.md", "date: 2025-09-21", "/2025/09/21/day-only.html"),
    # slug: gives :title (pretty, case kept) and :slug (lower case).
    Case("date", "2025-08-13-slugged.md", "slug: My Slug_Here!", "/2025/08/13/My-Slug_Here!.html"),
    Case("pretty", "2025-08-14-empty-slug.md", 'slug: ""', "/2025/08/14/"),
    # A post's own permalink: a pattern (never a style), placeholders replaced.
    Case("date", "2025-08-15-own-slash.md", "permalink: /own/:year/:title/:categories", "/own/2025/own-slash/"),
    Case("date", "2025-08-25-own-empty.md", 'permalink: ""', "/"),  # the site's index.html
    Case("date", "2025-08-16-own-bare.md", "permalink: /own/:year/:title", "/own/2025/own-bare"),
    Case("date", "2025-08-17-own-style.md", "permalink: pretty", "/pretty"),
    Case("date", "2025-08-18-own-dot.md", "permalink: /own/end./", "/own/end"),
    Case("date", "2025-08-19-dotty.md", 'slug: "Dotty."\npermalink: /:title.html', "/Dotty/html"),
    Case("date", "2025-08-20-own-text.md", "permalink: /日本 語/x y", "/日本 語/x y"),
    Case("date", "2025-08-21-own-escaped.md", "permalink: /own/%E6%97%A5%20x/", "/own/%E6%97%A5%20x/"),
    Case("date", "2025-08-22-own-query.md", "permalink: /own/q?x#y/", "/own/q?x#y/"),
    Case("date", "2025-08-23-own-case.md", 'permalink: "/own/:Year/:year:month:title"', "/own/:Year/202508own-case"),
    # The other styles, near the ends of an ISO week year.
    Case("ordinal", "2025-12-31-ordinal.md", "", "/2025/365/ordinal.html"),
    Case("weekdate", "2025-12-29-weekdate.md", "", "/2025/W01/Mon/weekdate.html"),
    Case("weekdate", "2021-01-01-week-53.md", "categories: [Old]", "/old/2021/W53/Fri/week-53.html"),
    # Every placeholder UrlDrop has.
    Case(ALL, "2025-12-29-Mixed_Case.All.md", "date: 2025-12-29 01:02:03 +0900\ncategories: [Tech News, 投資]", "/2025/12/29/25/01-02-03/363/01/2026/1/Mon/Monday/Dec/December/12_29/2025-12-29-mixed-case-all/mixed-case-all/2025-12-29-Mixed_Case.All/posts/tech-news/%E6%8A%95%E8%B3%87/tech%20news/%E6%8A%95%E8%B3%87/Mixed_Case.All.html"),
    Case(ALL, "2021-01-01-x.y.md", "date: 2021-01-01 09:00:00 +0900", "/2021/1/1/21/09-00-00/001/53/2020/5/Fri/Friday/Jan/January/01_01/2021-01-01-x-y/x-y/2021-01-01-x.y/posts/x.y.html"),
]
# fmt: on
_URI_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")


def write_case(posts: Path, case: Case) -> Path:
    """The post file of ``case`` under ``posts`` (front matter as Jekyll reads it)."""
    path = posts / case.file
    front = f"layout: post\ntitle: {json.dumps(case.file)}\n{case.front}".strip()
    path.write_text(f"---\n{front}\n---\n\nBody.\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.permalink}:{c.file}")
def test_url_is_jekylls(site: Path, case: Case) -> None:
    config = site / "_config.yml"
    config.write_text(config.read_text("utf-8") + f'permalink: "{case.permalink}"\n', "utf-8")
    settings = load_settings(site)
    post, _ = parse_post(write_case(site / "_posts", case), f"_posts/{case.file}", settings)
    assert isinstance(post, Post)
    assert post.url.startswith("https://blog.example.com/")
    path = post.url.removeprefix("https://blog.example.com")
    assert unquote(path) == unquote(case.url)
    assert _URI_PATH.fullmatch(path)
    if _URI_PATH.fullmatch(case.url) and "?" not in unquote(case.url):
        assert path == case.url


DATE = datetime(2025, 9, 21, 2, 15, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("/:year/:nope/:title", "/2025/:nope/x"),  # Jekyll stops the build; the text stays
        ("/:year/:title_x", "/2025/:title_x"),  # the name is "title_x": none such
        ("/:month_:day/", "/09_21/"),  # a final "_" is text
        ("//:categories//:title/", "/x/"),  # no categories: no empty segment
    ],
)
def test_post_path_patterns(template: str, expected: str) -> None:
    assert post_path(template, DATE, (), "x") == expected


def test_site_template_maps_only_the_styles() -> None:
    assert site_template("pretty") == "/:categories/:year/:month/:day/:title/"
    assert site_template("Pretty") == "Pretty"
    assert site_template("/:title/") == "/:title/"
