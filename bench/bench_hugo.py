"""Hugo and ``publisher build`` side by side on the same corpus, runs interleaved.

Usage:
    apt-get install hugo                      # Debian 12: Hugo 0.111.3
    python bench/bench_hugo.py /tmp/corpus10k [--runs 5] [--keep DIR] [--hugo-only] [--quiet-wait 20]

The corpus (bench/make_corpus.py) becomes a Hugo site in a temporary folder
(or DIR with --keep):

- ``content/posts/``: the posts themselves, hard-linked (copied if the folder
  is on another file system), front matter untouched. Hugo 0.111 reads the
  Jekyll date strings (``2023-04-05 12:34:56 +0000``) as they are; this is
  checked after the first build (the site feed's first item must carry the
  newest post's date), so nothing is converted.
- ``hugo.toml``: taxonomies category and tag; RSS only, for the home page and
  each term (category or tag) page; no section, taxonomy-list, sitemap,
  robots.txt or 404 pages; posts are listed and get a permalink but are not
  rendered to disk (``_build: {render: link, list: always}``); 20 items a feed.
- ``layouts/_default/rss.xml``: Hugo 0.111's embedded RSS template with
  ``.Content`` (the full HTML) where it has ``.Summary``, so both tools render
  and write the whole body of every feed item.

So Hugo writes exactly the site feed, one feed per category and one per tag
(43 files for the corpus's 12 categories and 30 tags), with full content.
publisher writes the same feeds as Atom plus RSS and JSON Feed twins of the
site feed and feed.xsl (46 files).

Each round runs publisher's cold, warm and touch builds (bench_build.py) and
Hugo "cold" (public/, resources/ and Hugo's cache folder removed first) and
"rerun" (nothing changed, public/ kept: Hugo has no incremental mode outside
``hugo server`` and builds everything again); odd rounds start with Hugo, even
rounds with publisher. Hugo is one process, so its ``ru_maxrss`` (what
``/usr/bin/time -f "%e %M" hugo --quiet`` prints) is its whole footprint.
Runs wait for a quiet machine and report the noise as in bench_build.py.
"""

from __future__ import annotations

import argparse
import email.utils
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_build import (
    KINDS,
    QUIET,
    CpuClock,
    Outcome,
    Run,
    add_quiet_options,
    corpus,
    describe,
    machine_line,
    measure,
    noise,
    noise_line,
    publisher_cycle,
    publisher_location,
    summary_line,
    tree_line,
    warm_problem,
)

CONFIG = """\
# Written by bench/bench_hugo.py from {corpus}
baseURL = "{url}/"
title = {title}
languageCode = "ja"
timeZone = "Asia/Tokyo"
cacheDir = "{cache}"
disableKinds = ["section", "taxonomy", "sitemap", "robotsTXT", "404"]
# Hugo >= 0.73 warns that "taxonomy" now means the list of terms; that is the one meant.
ignoreErrors = ["error-disable-taxonomy"]

[taxonomies]
category = "categories"
tag = "tags"

[outputs]
home = ["RSS"]
term = ["RSS"]

[services.rss]
limit = 20

# Posts: in feeds, with a permalink, but no page of their own.
[[cascade]]
[cascade._build]
render = "link"
list = "always"
[cascade._target]
kind = "page"
"""

# Hugo 0.111.3's embedded _default/rss.xml, with .Content in place of .Summary.
RSS_TEMPLATE = """\
{{- $pctx := . -}}
{{- if .IsHome -}}{{ $pctx = .Site }}{{- end -}}
{{- $pages := slice -}}
{{- if or $.IsHome $.IsSection -}}
{{- $pages = $pctx.RegularPages -}}
{{- else -}}
{{- $pages = $pctx.Pages -}}
{{- end -}}
{{- $limit := .Site.Config.Services.RSS.Limit -}}
{{- if ge $limit 1 -}}
{{- $pages = $pages | first $limit -}}
{{- end -}}
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\" standalone=\\"yes\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{{ if eq  .Title  .Site.Title }}{{ .Site.Title }}{{ else }}{{ with .Title }}{{.}} on {{ end }}{{ .Site.Title }}{{ end }}</title>
    <link>{{ .Permalink }}</link>
    <description>Recent content {{ if ne  .Title  .Site.Title }}{{ with .Title }}in {{.}} {{ end }}{{ end }}on {{ .Site.Title }}</description>
    <generator>Hugo -- gohugo.io</generator>{{ with .Site.LanguageCode }}
    <language>{{.}}</language>{{end}}{{ with .Site.Copyright }}
    <copyright>{{.}}</copyright>{{end}}{{ if not .Date.IsZero }}
    <lastBuildDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</lastBuildDate>{{ end }}
    {{- with .OutputFormats.Get "RSS" -}}
    {{ printf "<atom:link href=%q rel=\\"self\\" type=%q />" .Permalink .MediaType | safeHTML }}
    {{- end -}}
    {{ range $pages }}
    <item>
      <title>{{ .Title }}</title>
      <link>{{ .Permalink }}</link>
      <pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
      <guid>{{ .Permalink }}</guid>
      <description>{{ .Content | html }}</description>
    </item>
    {{ end }}
  </channel>
</rss>
"""

DATE_LINE = re.compile(r"^date:\s*(.+?)\s*$", re.MULTILINE)


def _config_value(site: Path, key: str) -> str:
    text = (site / "_config.yml").read_text(encoding="utf-8")
    match = re.search(rf"^{key}:\s*\"?(.*?)\"?\s*$", text, re.MULTILINE)
    return match[1] if match else ""


def make_site(site: Path, posts: list[Path], dest: Path) -> None:
    """Write the Hugo site for the corpus ``site`` under ``dest`` (see the module docstring)."""
    content = dest / "content" / "posts"
    if content.exists():
        shutil.rmtree(content)
    content.mkdir(parents=True)
    for post in posts:
        try:
            os.link(post, content / post.name)
        except OSError:
            shutil.copy2(post, content / post.name)
    title = _config_value(site, "title") or "bench"
    url = (_config_value(site, "url") or "https://bench.example.com").rstrip("/")
    config = CONFIG.format(
        corpus=site, url=url, title=_toml_string(title), cache=dest / "hugo_cache"
    )
    (dest / "hugo.toml").write_text(config, encoding="utf-8")
    layouts = dest / "layouts" / "_default"
    layouts.mkdir(parents=True, exist_ok=True)
    (layouts / "rss.xml").write_text(RSS_TEMPLATE, encoding="utf-8")


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hugo_build(hugo: str, dest: Path, cold: bool) -> Run:
    if cold:
        for name in ("public", "resources", "hugo_cache"):
            shutil.rmtree(dest / name, ignore_errors=True)
    run = measure([hugo, "--quiet"], dest)
    if run.status != 0:
        raise SystemExit(f"hugo failed ({run.status}) in {dest}")
    return run


def check_hugo_output(dest: Path, newest: Path) -> tuple[int, str]:
    """(feed files written, a line describing them); fails if dates or content are off."""
    public = dest / "public"
    feeds = sorted(public.rglob("*.xml"))
    others = [p for p in public.rglob("*") if p.is_file() and p.suffix != ".xml"]
    if others:
        raise SystemExit(f"Hugo wrote more than feeds: {others[:5]}")
    home = (public / "index.xml").read_text(encoding="utf-8")
    items = home.count("<item>")
    match = DATE_LINE.search(newest.read_text(encoding="utf-8").split("\n---", 1)[0])
    if match is None:
        raise SystemExit(f"no date in {newest}")
    expected = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S %z")
    first = re.search(r"<item>.*?<pubDate>(.*?)</pubDate>", home, re.DOTALL)
    got = email.utils.parsedate_to_datetime(first[1]) if first else None
    if got != expected:
        raise SystemExit(
            f"Hugo's newest item is dated {got}, the newest post {expected}: "
            "Hugo did not read the Jekyll dates; convert them in the copy"
        )
    description = re.search(r"<description>([^<]*)</description>\s*</item>", home)
    size = len(description[1].encode()) if description else 0
    if size < 10_000:
        raise SystemExit(f"Hugo's first item has {size} bytes of content; expected the full body")
    most = max(f.read_text(encoding="utf-8").count("<item>") for f in feeds)
    return len(feeds), (
        f"Hugo output: {len(feeds)} feed files, site feed {items} items "
        f"(at most {most} in any feed), newest item dated {got:%Y-%m-%d %H:%M:%S %z} "
        f"as in its front matter, its content {size:,} bytes (escaped HTML)"
    )


def hugo_version(hugo: str) -> str:
    return subprocess.run([hugo, "version"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("site", type=Path, help="a corpus written by make_corpus.py")
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--keep", type=Path, help="build the Hugo site here and keep it")
    parser.add_argument("--hugo", default="hugo", help="the hugo binary (default: hugo)")
    parser.add_argument("--hugo-only", action="store_true", help="no publisher runs")
    parser.add_argument(
        "--no-tree", action="store_true", help="skip publisher's sampled memory set"
    )
    add_quiet_options(parser)
    args = parser.parse_args()
    QUIET.max_wait, QUIET.below = args.quiet_wait, args.quiet_below
    if shutil.which(args.hugo) is None:
        raise SystemExit(f"{args.hugo} not found (Debian: apt-get install hugo)")
    site = args.site.resolve()
    posts, newest = corpus(site)
    tmp = None
    if args.keep:
        dest = args.keep.resolve()
        dest.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-hugo-")
        dest = Path(tmp.name)
    try:
        make_site(site, posts, dest)
        print(f"corpus: {site} ({len(posts)} posts); Hugo site: {dest}")
        print(hugo_version(args.hugo))
        if not args.hugo_only:
            print(f"publisher from {publisher_location()}")
        hugo_build(args.hugo, dest, cold=True)  # untimed: checks the output once
        feeds, line = check_hugo_output(dest, newest)
        print(line)
        run_rounds(args, site, newest, dest, feeds)
    finally:
        if tmp is not None:
            tmp.cleanup()


def run_rounds(args: argparse.Namespace, site: Path, newest: Path, dest: Path, feeds: int) -> None:
    posts = sum(1 for _ in (dest / "content" / "posts").iterdir())
    hugo: dict[str, list[Run]] = {"hugo cold": [], "hugo rerun": []}
    pub: dict[str, list[Outcome]] = {kind: [] for kind in KINDS}
    failures: list[str] = []
    print(f"before: {machine_line()}")
    clock = CpuClock.now()
    for n in range(1, args.runs + 1):
        print(f"round {n}:")
        order = ["hugo", "publisher"] if n % 2 else ["publisher", "hugo"]
        for tool in order:
            if tool == "hugo":
                for kind, cold in (("hugo cold", True), ("hugo rerun", False)):
                    run = hugo_build(args.hugo, dest, cold)
                    hugo[kind].append(run)
                    print(
                        f"  {kind:10s} {run.seconds:6.2f} s  peak RSS {run.peak_mb:6.1f} MB  "
                        f"posts read {posts}  "
                        f"feeds written {feeds}{noise(run)}"
                    )
            elif not args.hugo_only:
                for kind, outcome in publisher_cycle(site, newest).items():
                    pub[kind].append(outcome)
                    print(describe(f"pub {kind}", outcome))
                    if kind == "warm" and (problem := warm_problem(outcome)):
                        failures.append(problem)
                        print(f"    WARM BUILD NOT CLEAN: {problem}")
    print(f"after: {machine_line()}")
    print(noise_line(clock, CpuClock.now()))
    print(f"over {args.runs} rounds:")
    for kind, outcomes in pub.items():
        if outcomes:
            o = outcomes[0]
            extra = f"   parsed {o.parsed}, bodies {o.rendered}, written {o.written}"
            print(summary_line(f"publisher {kind}", [x.run for x in outcomes], extra))
    for kind, runs in hugo.items():
        print(summary_line(kind, runs, f"   written {feeds}"))
    if pub["cold"]:
        ratio = statistics.median(r.seconds for r in hugo["hugo cold"]) / statistics.median(
            o.run.seconds for o in pub["cold"]
        )
        print(f"  cold medians, Hugo / publisher: {ratio:.2f} (above 1: publisher is faster)")
    if not args.hugo_only and not args.no_tree:
        print("publisher process-tree memory (one more set, sampled every 10 ms, not timed):")
        for kind, outcome in publisher_cycle(site, newest, sample_tree=True).items():
            print(tree_line(f"publisher {kind}", outcome.run))
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
