"""Generate a benchmark Jekyll site shaped like the first customer's posts.

    python bench/make_corpus.py --posts 10000 --out /tmp/corpus10k [--seed 1]

Writes OUT/_config.yml and OUT/_posts/YYYY-MM-DD-post-NNNNN.md. Stdlib only,
seeded and deterministic: the same --posts and --seed give byte-identical files.

Each post has the customer's front matter (layout, a Japanese title of 20-45
characters, a Jekyll date string in UTC spread uniformly over the five years up
to 2025-11-30 in Asia/Tokyo, one of 12 Japanese categories, 3-6 distinct tags
from a pool of 30, author, an excerpt of 40-100 characters on ~70 % of posts,
reading_time). The body repeats the title on its first line, then 30-70 KB
(UTF-8 bytes, a uniform target per post) of Japanese prose: paragraphs of
150-400 characters, ### headings every few paragraphs, **bold** phrases,
numbered and bulleted lists and the odd [参考](https://example.com/ref/N) link.

All text comes from the word lists below, never from the customer's posts. For
speed, a few hundred sentences, paragraphs, lists and headings are made once
from the seed and bodies are assembled by choosing among them.

OUT must be missing, empty, or an earlier corpus (its _config.yml starts with
the marker comment); an earlier corpus's _posts/ is deleted first.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

MARKER = "# publisher bench corpus"
TOKYO = timezone(timedelta(hours=9))
# Uniform over the five years that end with 2025-11-30 (Asia/Tokyo), end exclusive.
END = datetime(2025, 12, 1, tzinfo=TOKYO)
START = datetime(2020, 12, 1, tzinfo=TOKYO)

BODY_MIN, BODY_MAX = 30_000, 70_000  # body bytes after the front matter
PARA_MIN, PARA_MAX = 150, 400  # paragraph characters
TITLE_MIN, TITLE_MAX = 20, 45
EXCERPT_MIN, EXCERPT_MAX = 40, 100
EXCERPT_SHARE = 0.7
BOLD_SHARE = 0.06  # sentences in bodies with a **bold** phrase
SENTENCES, PARAGRAPHS, LISTS, HEADINGS, LINKS = 900, 500, 120, 150, 200

CATEGORIES = [
    "投資分析",
    "業界別AI活用",
    "技術解説",
    "政策と規制",
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
    "API",
    "RAG",
    "SaaS",
    "IPO",
    "M&A",
    "ESG",
    "DX",
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
    "エッジAI",
    "オープンソース",
    "評価",
    "倫理",
]
SUBJECTS = [
    "国内の大手メーカー",
    "新興のスタートアップ",
    "欧州の規制当局",
    "米国の大手クラウド事業者",
    "地方銀行",
    "機関投資家",
    "個人投資家",
    "現場のエンジニア",
    "大学の研究チーム",
    "中堅の物流会社",
    "総合商社",
    "通信キャリア",
    "半導体メーカー",
    "保険会社",
    "自治体の担当者",
    "医療機関",
    "小売チェーン",
    "ベンチャーキャピタル",
    "多くの経営陣",
    "私たち",
]
TOPICS = [
    "推論コストの削減",
    "学習データの整備",
    "AI人材の育成",
    "データセンターの電力確保",
    "著作権への対応",
    "専用チップの開発",
    "業務プロセスへの組み込み",
    "モデル評価の仕組み",
    "オープンモデルの活用",
    "サプライチェーンの見直し",
    "顧客体験の改善",
    "セキュリティ対策",
    "ガバナンス体制",
    "エッジでの推論",
    "マルチモーダル化",
    "自動化による省人化",
    "資本提携",
    "価格競争",
    "海外展開",
    "研究開発投資",
    "検索体験の刷新",
    "需要予測の精度",
    "不正検知",
    "社内ナレッジの活用",
    "エージェント型AI",
    "小型モデルの最適化",
    "量子計算との連携",
    "設備投資の回収",
    "株主への説明",
    "規制のサンドボックス",
]
PREDICATES = [
    "に注目しています",
    "の検討を急いでいます",
    "への投資を拡大しています",
    "を慎重に見極めています",
    "の実証実験を始めました",
    "について方針を見直しました",
    "を次の成長の柱に据えています",
    "で出遅れを取り戻そうとしています",
    "に大きな期待を寄せています",
    "をめぐって議論を重ねています",
    "の優先順位を引き上げました",
    "に課題を感じているようです",
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
    "言い換えれば",
    "加えて",
    "もちろん",
    "だからこそ",
    "意外なことに",
    "長い目で見れば",
]
ADJECTIVES = [
    "避けて通れない",
    "見過ごされがちな",
    "本質的な",
    "地味ですが重要な",
    "最も難しい",
    "意外に身近な",
    "競争力を左右する",
    "長期的な",
]
NOUNS = ["課題", "テーマ", "論点", "分岐点", "試金石", "転換点"]
PLACES = [
    "シリコンバレー",
    "東京の大企業",
    "深圳の工場",
    "ソウルの研究所",
    "欧州の展示会",
    "地方の製造現場",
    "投資家向けの説明会",
    "大学の講義室",
]
PRIORITIES = ["最優先の課題", "今後三年の重点項目", "まだ様子見の段階", "予算を増やす分野"]
SCOPES = [
    "日本企業",
    "世界市場",
    "国産AI",
    "半導体業界",
    "金融機関",
    "自治体",
    "製造現場",
    "クラウド各社",
    "投資家",
    "スタートアップ",
    "医療分野",
    "エネルギー業界",
]
ANGLES = [
    "が直面する課題",
    "の次の一手",
    "に迫る変化",
    "の勝ち筋",
    "を読み解く",
    "の舞台裏",
    "が学ぶべきこと",
    "に残された時間",
    "の見えない壁",
    "の現在地",
]
LABELS = [
    "短期的な視点",
    "中長期の視点",
    "技術者の方へ",
    "投資家の方へ",
    "経営者の方へ",
    "リスク要因",
    "注目すべき指標",
    "見落としがちな点",
    "次に起きること",
    "私の結論",
]


def _quantity(rng: random.Random) -> str:
    n = rng.randint(2, 99)
    return rng.choice([f"約{n}億円", f"{n}兆円", f"前年比{n}%増", f"{n % 9 + 2}倍", f"{n}%"])


def _sentence(rng: random.Random, bold: float) -> str:
    """One sentence ending in 。 or ？; its topic is **bold** with probability `bold`."""
    topic, topic2 = rng.sample(TOPICS, 2)
    if rng.random() < bold:
        topic = f"**{topic}**"
    subject, subject2 = rng.sample(SUBJECTS, 2)
    connector = rng.choice(CONNECTORS)
    templates: list[Callable[[], str]] = [
        lambda: f"{connector}、{subject}は{topic}{rng.choice(PREDICATES)}。",
        lambda: f"{subject}にとって、{topic}は{rng.choice(ADJECTIVES)}{rng.choice(NOUNS)}です。",
        lambda: (
            f"{rng.randint(2026, 2035)}年までに、{topic}に関わる市場は{_quantity(rng)}の規模に達するとの見方もあります。"
        ),
        lambda: f"あなたの会社では、{topic}にどう向き合っていますか？",
        lambda: (
            f"私が{rng.choice(PLACES)}で見てきた限り、{topic}は{rng.choice(ADJECTIVES)}{rng.choice(NOUNS)}でした。"
        ),
        lambda: f"{connector}、{topic}と{topic2}は切り離して考えるべきではありません。",
        lambda: f"{topic}の成否を分けるのは、技術よりもむしろ{topic2}なのではないでしょうか？",
        lambda: (
            f"ある調査では、{subject}の{rng.randint(11, 89)}%が{topic}を{rng.choice(PRIORITIES)}と答えています。"
        ),
        lambda: f"{subject}が{topic}で成果を出すには、{topic2}から手をつけるのが近道です。",
        lambda: f"{connector}、{_quantity(rng)}という数字だけを見て{topic}を判断するのは危険です。",
        lambda: (
            f"これは単なる流行ではなく、{topic}をめぐる{rng.choice(NOUNS)}だと私は考えています。"
        ),
        lambda: f"{subject}と{subject2}の間で、{topic}に対する温度差が広がっています。",
        lambda: f"では、{topic}は本当に{rng.choice(SCOPES)}の追い風になるのでしょうか？",
    ]
    return rng.choice(templates)()


def _paragraph(rng: random.Random, sentences: list[str], room: int = 0) -> str:
    """Sentences joined to PARA_MIN-PARA_MAX characters, less `room` kept for a tail.

    Sentences are at most ~80 characters, so the result never passes PARA_MAX - room.
    """
    target = rng.randint(PARA_MIN, PARA_MAX - room)
    text = ""
    while True:
        sentence = rng.choice(sentences)
        if len(text) >= PARA_MIN - room and len(text) + len(sentence) > target:
            return text
        text += sentence


def _heading(rng: random.Random) -> str:
    scope, angle, topic = rng.choice(SCOPES), rng.choice(ANGLES), rng.choice(TOPICS)
    return rng.choice(
        [
            f"### {scope}{angle}",
            f"### {topic}：{scope}{angle}",
            f"### なぜ今、{topic}なのか",
            f"### 結び：{topic}の先にあるもの",
        ]
    )


def _numbered(rng: random.Random, sentences: list[str]) -> str:
    """`1.  **label:** text` on one line, or the label with the text indented below."""
    inline = rng.random() < 0.5
    items = []
    for n, label in enumerate(rng.sample(LABELS + TOPICS, rng.randint(3, 6)), 1):
        text = "".join(rng.choice(sentences) for _ in range(rng.randint(1, 3)))
        items.append(f"{n}.  **{label}:** {text}" if inline else f"{n}.  **{label}:**\n    {text}")
    return ("\n" if inline else "\n\n").join(items)


def _bullets(rng: random.Random, sentences: list[str]) -> str:
    if rng.random() < 0.5:
        return "\n".join(f"*   {rng.choice(sentences)}" for _ in range(rng.randint(2, 6)))
    labels = rng.sample(LABELS, rng.randint(2, 4))
    return "\n\n".join(f"*   **{label}:**\n    {rng.choice(sentences)}" for label in labels)


def _link(rng: random.Random, sentences: list[str]) -> str:
    ending = rng.choice(["をご覧ください。", "にまとめられています。", "も参考になります。"])
    tail = f"詳しくは[参考](https://example.com/ref/{rng.randint(1, 9999)}){ending}"
    return _paragraph(rng, sentences, room=len(tail)) + tail


class Pools:
    """Ready-made UTF-8 blocks that bodies are assembled from."""

    def __init__(self, rng: random.Random) -> None:
        sentences = [_sentence(rng, BOLD_SHARE) for _ in range(SENTENCES)]
        self.paragraphs = [_paragraph(rng, sentences).encode() for _ in range(PARAGRAPHS)]
        self.headings = [_heading(rng).encode() for _ in range(HEADINGS)]
        self.numbered = [_numbered(rng, sentences).encode() for _ in range(LISTS)]
        self.bullets = [_bullets(rng, sentences).encode() for _ in range(LISTS)]
        self.links = [_link(rng, sentences).encode() for _ in range(LINKS)]
        self.leads = [f"**{rng.choice(LABELS)}：**".encode() for _ in range(20)]
        self.fillers = [s.encode() for s in sentences if "**" not in s]
        self.longest_filler = max(len(s) for s in self.fillers)


def _section(rng: random.Random, pools: Pools, heading: bool) -> list[bytes]:
    """A ### heading (not before the first section), then 2-5 paragraphs or lists."""
    blocks = [rng.choice(pools.headings)] if heading else []
    for _ in range(rng.randint(2, 5)):
        roll = rng.random()
        if roll < 0.04:
            blocks.append(rng.choice(pools.numbered))
        elif roll < 0.07:
            blocks.append(rng.choice(pools.bullets))
        elif roll < 0.09:
            blocks.append(rng.choice(pools.links))
        elif roll < 0.12:
            blocks += [rng.choice(pools.leads), rng.choice(pools.paragraphs)]
        else:
            blocks.append(rng.choice(pools.paragraphs))
    return blocks


def _body(rng: random.Random, pools: Pools, title: str) -> bytes:
    """Title line, then sections up to a byte target, topped up with plain sentences.

    The target is uniform in [BODY_MIN, BODY_MAX - longest sentence - 2]; the body
    ends at most one sentence past it, so it is always BODY_MIN-BODY_MAX bytes.
    The closing paragraphs may be shorter than PARA_MIN.
    """
    target = rng.randint(BODY_MIN, BODY_MAX - pools.longest_filler - 2)
    parts = [title.encode()]
    size = len(parts[0]) + 1  # the final newline
    full = False
    while not full:
        for block in _section(rng, pools, heading=len(parts) > 1):
            if size + 2 + len(block) > target:
                full = True
                break
            parts.append(block)
            size += 2 + len(block)
    # Top up with plain sentences, starting a new paragraph before PARA_MAX characters.
    closing, chars = b"", 0
    while size < target:
        sentence = rng.choice(pools.fillers)
        if not closing or chars + len(sentence.decode()) > PARA_MAX:
            if closing:
                parts.append(closing)
            closing, chars = b"", 0
            size += 2
        closing += sentence
        chars += len(sentence.decode())
        size += len(sentence)
    if closing:
        parts.append(closing)
    return b"\n\n".join(parts) + b"\n"


def _fitting(make: Callable[[], str], low: int, high: int) -> str:
    """Call make() until its text is low-high characters long."""
    while not low <= len(text := make()) <= high:
        pass
    return text


def _title(rng: random.Random) -> str:
    def make() -> str:
        scope, angle = rng.choice(SCOPES), rng.choice(ANGLES)
        topic, topic2 = rng.sample(TOPICS, 2)
        subject, noun = rng.choice(SUBJECTS), rng.choice(NOUNS)
        return rng.choice(
            [
                f"{scope}{angle}とは？{topic}から考える",
                f"{scope}、{topic}に{_quantity(rng)}：その狙いと私たちが学ぶべきこと",
                f"{topic}は{scope}をどう変えるのか？{noun}を徹底分析",
                f"{scope}の{topic}、本当に勝算はあるのか？",
                f"{rng.randint(2026, 2030)}年の{scope}を占う：{topic}と{topic2}",
                f"なぜ{subject}は{topic}を急ぐのか？見えてきた{noun}",
                f"{topic}の現実：{scope}が{_quantity(rng)}を投じる理由",
            ]
        )

    return _fitting(make, TITLE_MIN, TITLE_MAX)


def _excerpt(rng: random.Random) -> str:
    def make() -> str:
        return "".join(_sentence(rng, 0.0) for _ in range(rng.randint(1, 2)))

    return _fitting(make, EXCERPT_MIN, EXCERPT_MAX)


def _post(rng: random.Random, pools: Pools, span: int) -> tuple[datetime, bytes]:
    date = START + timedelta(seconds=rng.randrange(span))
    title = _title(rng)
    tags = rng.sample(TAGS, rng.randint(3, 6))
    lines = [
        "---",
        "layout: post",
        f'title: "{title}"',
        f"date: {date.astimezone(UTC):%Y-%m-%d %H:%M:%S} +0000",
        f'categories: ["{rng.choice(CATEGORIES)}"]',
        "tags: [" + ", ".join(f'"{tag}"' for tag in tags) + "]",
        'author: "ベンチ編集部"',
    ]
    if rng.random() < EXCERPT_SHARE:
        lines.append(f'excerpt: "{_excerpt(rng)}"')
    body = _body(rng, pools, title)
    # Like the customer's: 8-20 minutes for 35-60 KB.
    lines += [f"reading_time: {max(1, round(len(body) / 3500))}", "---", "", ""]
    return date, "\n".join(lines).encode() + body


def _prepare(out: Path) -> None:
    """Refuse a folder that is not ours; delete an earlier corpus's posts."""
    config = out / "_config.yml"
    if out.exists() and not out.is_dir():
        raise SystemExit(f"make_corpus: {out} is not a folder")
    if out.is_dir() and any(out.iterdir()):
        try:
            lines = config.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            lines = []
        if MARKER not in (line.strip() for line in lines):
            raise SystemExit(
                f"make_corpus: {out} is not empty and not a bench corpus "
                f"(no '{MARKER}' line in _config.yml); refusing to touch it"
            )
        posts = out / "_posts"
        if posts.is_symlink() or posts.is_file():
            posts.unlink()
        elif posts.is_dir():
            shutil.rmtree(posts)
    (out / "_posts").mkdir(parents=True, exist_ok=True)


CONFIG = f"""{MARKER}
# Written by bench/make_corpus.py; its _posts/ is deleted and rewritten on the next run.
title: "ベンチマーク分析ブログ"
description: "AIと投資の動向を読み解く、性能測定用の架空のブログです。"
url: "https://bench.example.com"
baseurl: ""
timezone: Asia/Tokyo
lang: ja
permalink: /:categories/:year/:month/:day/:title.html
author: "ベンチ編集部"
"""


def write_corpus(out: Path, posts: int, seed: int) -> tuple[int, int]:
    """Write the site; return (posts written, bytes written under _posts/)."""
    _prepare(out)
    (out / "_config.yml").write_text(CONFIG, encoding="utf-8")
    rng = random.Random(seed)
    pools = Pools(rng)
    span = int((END - START).total_seconds())
    folder = out / "_posts"
    total = 0
    for n in range(posts):
        date, data = _post(rng, pools, span)
        (folder / f"{date:%Y-%m-%d}-post-{n:05d}.md").write_bytes(data)
        total += len(data)
    return posts, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=1000, help="number of posts (default 1000)")
    parser.add_argument("--out", type=Path, required=True, help="site folder to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    if not 0 <= args.posts <= 99_999:
        parser.error("--posts must be between 0 and 99999 (file names use five digits)")
    started = time.perf_counter()
    files, size = write_corpus(args.out, args.posts, args.seed)
    print(
        f"wrote {files} posts, {size / 1e6:.1f} MB (10^6 bytes) under {args.out / '_posts'} "
        f"in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
