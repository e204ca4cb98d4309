"""Generate a benchmark Jekyll site shaped like the first customer's posts.

Seeded and deterministic: the same --seed gives byte-identical files.

    python bench/make_corpus.py --posts 10000 --out /tmp/corpus10k [--seed 1]

Each post: Japanese front matter like the customer's (a Jekyll date string,
one of 12 Japanese categories, 3-6 tags from 30, ~70 % with an excerpt,
reading_time), a body that repeats the title on its first line, then 30-70 KB
of Japanese prose with ### headings, **bold**, numbered and bulleted lists and
the odd link. Dates are spread over the five years before 2025-11-30.
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

MARKER = "# publisher bench corpus"
CATEGORIES = [
    "投資分析",
    "業界別AI活用",
    "技術解説",
    "政策動向",
    "半導体",
    "クラウド",
    "スタートアップ",
    "データ活用",
    "セキュリティ",
    "ロボティクス",
    "金融テック",
    "人材と組織",
]
TAGS = [
    "AI",
    "LLM",
    "GPU",
    "最新ニュース",
    "技術動向",
    "投資",
    "チップ",
    "規制",
    "生成AI",
    "データセンター",
    "電力",
    "量子",
    "自動運転",
    "医療",
    "教育",
    "製造業",
    "物流",
    "小売",
    "金融",
    "保険",
    "OpenAI",
    "Google",
    "Meta",
    "Amazon",
    "Apple",
    "NVIDIA",
    "エッジAI",
    "オープンソース",
    "評価",
    "倫理",
]
SUBJECTS = [
    "国内の大手企業",
    "新興のスタートアップ",
    "各国の政府",
    "研究機関",
    "投資家",
    "現場の技術者",
    "地方の中小企業",
    "大学の研究室",
]
VERBS = [
    "注目しています",
    "検討を進めています",
    "投資を拡大しています",
    "慎重に見極めています",
    "実証実験を始めました",
    "方針を転換しました",
]
TOPICS = [
    "推論コストの削減",
    "データの整備",
    "人材の育成",
    "電力の確保",
    "規制への対応",
    "専用チップの開発",
    "業務への組み込み",
    "評価方法の確立",
]
CONNECTORS = [
    "しかし",
    "一方で",
    "さらに",
    "つまり",
    "実際のところ",
    "正直なところ",
    "その結果",
    "とはいえ",
]
ENDINGS = ["。", "。", "。", "？", "。"]
TITLE_A = [
    "日本企業",
    "世界市場",
    "国産AI",
    "半導体業界",
    "金融機関",
    "自治体",
    "製造現場",
    "クラウド各社",
]
TITLE_B = [
    "の真意とは",
    "が直面する課題",
    "の次の一手",
    "に迫る変化",
    "はどこへ向かうのか",
    "の勝ち筋",
    "を読み解く",
    "の舞台裏",
]


def _sentence(rng: random.Random) -> str:
    text = f"{rng.choice(CONNECTORS)}、{rng.choice(SUBJECTS)}は{rng.choice(TOPICS)}に{rng.choice(VERBS)}"
    if rng.random() < 0.2:
        text = text.replace(rng.choice(TOPICS), f"**{rng.choice(TOPICS)}**", 1)
    return text + rng.choice(ENDINGS)


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    return ["".join(_sentence(rng) for _ in range(rng.randint(4, 9))) for _ in range(count)]


def _blocks(rng: random.Random) -> list[str]:
    """A few hundred ready-made blocks that bodies are assembled from (fast, varied)."""
    blocks = _paragraphs(rng, 300)
    for n in range(40):
        blocks.append(f"### {rng.choice(TITLE_A)}{rng.choice(TITLE_B)}")
        items = [
            f"{i}.  **{rng.choice(TOPICS)}:** {_sentence(rng)}" for i in range(1, rng.randint(3, 6))
        ]
        blocks.append("\n".join(items))
        blocks.append("\n".join(f"*   {_sentence(rng)}" for _ in range(rng.randint(2, 5))))
        blocks.append(
            f"{_sentence(rng)}詳しくは[参考資料](https://example.com/ref/{n})を参照してください。"
        )
    return blocks


def _body(rng: random.Random, blocks: list[str], title: str) -> str:
    target = rng.randint(30_000, 70_000)
    parts = [title]
    size = len(title.encode())
    while size < target:
        block = rng.choice(blocks)
        parts.append(block)
        size += len(block.encode()) + 2
    return "\n\n".join(parts) + "\n"


def write_corpus(out: Path, posts: int, seed: int) -> tuple[int, int]:
    """Write the site; return (files, bytes)."""
    rng = random.Random(seed)
    config = out / "_config.yml"
    if out.exists() and any(out.iterdir()):
        if not (config.is_file() and MARKER in config.read_text(encoding="utf-8")):
            raise SystemExit(f"{out} is not empty and not a bench corpus; refusing to overwrite")
        shutil.rmtree(out / "_posts", ignore_errors=True)
    (out / "_posts").mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"{MARKER}\ntitle: ベンチマークブログ\ndescription: 性能測定用のコーパス\n"
        'url: "https://bench.example.com"\nbaseurl: ""\ntimezone: Asia/Tokyo\nlang: ja\n'
        "permalink: /:categories/:year/:month/:day/:title.html\nauthor: ベンチ編集部\n",
        encoding="utf-8",
    )
    blocks = _blocks(rng)
    end = datetime(2025, 11, 30, tzinfo=UTC)
    span = int(timedelta(days=5 * 365).total_seconds())
    tokyo = timezone(timedelta(hours=9))
    total = 0
    for n in range(posts):
        date = end - timedelta(seconds=rng.randrange(span))
        title = f"{rng.choice(TITLE_A)}{rng.choice(TITLE_B)}？{rng.choice(TOPICS)}から考える"
        tags = rng.sample(TAGS, rng.randint(3, 6))
        lines = [
            "---",
            "layout: post",
            f'title: "{title}"',
            f"date: {date:%Y-%m-%d %H:%M:%S} +0000",
            f'categories: ["{rng.choice(CATEGORIES)}"]',
            "tags: [" + ", ".join(f'"{t}"' for t in tags) + "]",
            'author: "ベンチ編集部"',
        ]
        if rng.random() < 0.7:
            lines.append(f'excerpt: "{_sentence(rng)}{_sentence(rng)}"')
        lines += [f"reading_time: {rng.randint(5, 20)}", "---", "", ""]
        text = "\n".join(lines) + _body(rng, blocks, title)
        name = f"{date.astimezone(tokyo):%Y-%m-%d}-post-{n:05d}.md"
        data = text.encode("utf-8")
        (out / "_posts" / name).write_bytes(data)
        total += len(data)
    return posts, total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    files, size = write_corpus(args.out, args.posts, args.seed)
    print(
        f"wrote {files} posts, {size / 1e6:.0f} MB, to {args.out} in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
