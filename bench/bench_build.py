"""Benchmark ``publisher build`` on a generated corpus: cold, warm, one post changed.

Usage:
    python bench/make_corpus.py --posts 10000 --out /tmp/corpus10k
    python bench/bench_build.py /tmp/corpus10k [--runs 3]

Each run is a fresh ``publisher build`` process (imports included), timed from
outside; peak memory is the child's maximum resident set size. "cold" starts
with no cache and no output; "warm" reruns with nothing changed (it must write
nothing); "touch" appends a line to the newest post first.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_build(site: Path, work: Path) -> tuple[float, dict[str, object]]:
    """Wall seconds and the --json report of one ``publisher build`` process."""
    command = [
        sys.executable,
        "-m",
        "publisher",
        "build",
        "--site",
        str(site),
        "--output",
        "out",
        "--json",
    ]
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=work, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"build failed ({proc.returncode}): {proc.stderr.decode()}")
    return elapsed, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("site", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    site = args.site.resolve()
    posts = sorted((site / "_posts").glob("*.md"))
    print(f"corpus: {site} ({len(posts)} posts)")
    results: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": [], "touch": []}
    report: dict[str, object] = {}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            # Peak RSS via RUSAGE_CHILDREN is a high-water mark over all children,
            # so each measurement runs in its own helper process.
            work = Path(tmp)
            for kind in ("cold", "warm", "touch"):
                if kind == "touch":
                    with posts[-1].open("a", encoding="utf-8") as handle:
                        handle.write("\n追記。\n")
                seconds, peak, report = _measure(site, work)
                results[kind].append((seconds, peak))
                feeds = report["feeds"]
                assert isinstance(feeds, dict)
                print(
                    f"  {kind:5s} {seconds:6.2f} s  peak {peak:6.1f} MB  "
                    f"written {len(feeds['written']):3d}  unchanged {len(feeds['unchanged']):3d}  "
                    f"posts parsed {report['posts']['parsed']}  bodies rendered {report['posts']['rendered']}"  # type: ignore[index]
                )
            shutil.rmtree(work / "var", ignore_errors=True)
        _restore(posts[-1])
    print("median over runs:")
    for kind, values in results.items():
        print(
            f"  {kind:5s} {statistics.median(v[0] for v in values):6.2f} s  "
            f"peak {max(v[1] for v in values):6.1f} MB"
        )


def _measure(site: Path, work: Path) -> tuple[float, float, dict[str, object]]:
    code = (
        "import sys, json, resource, subprocess, time\n"
        "from pathlib import Path\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from bench_build import run_build\n"
        f"s, r = run_build(Path({str(site)!r}), Path({str(work)!r}))\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps([s, peak, r]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    seconds, peak, report = json.loads(out)
    return seconds, peak, report


def _restore(post: Path) -> None:
    text = post.read_text(encoding="utf-8")
    post.write_text(text.removesuffix("\n追記。\n"), encoding="utf-8")


if __name__ == "__main__":
    main()
