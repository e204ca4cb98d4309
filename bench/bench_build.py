"""Benchmark ``publisher build`` on a generated corpus: cold, warm, one post changed.

Usage:
    python bench/make_corpus.py --posts 10000 --out /tmp/corpus10k
    python bench/bench_build.py /tmp/corpus10k [--runs 5] [--no-tree] [--quiet-wait 20]

Each run is a fresh ``publisher build`` process (imports included) in a new
temporary folder, timed from outside:

- "cold": no cache (the state folder, ``WORK/var`` here) and no output;
- "warm": the same again with nothing changed; it must parse nothing and write
  nothing (no feed, no cache file: every file under the folder is compared);
- "touch": a line appended to the newest post (by its ``date``) first; its
  bytes and mtime are put back afterwards, even on failure.

"peak RSS" is the kernel's ``ru_maxrss`` for the child, what ``/usr/bin/time -f
%M`` prints: the largest resident set of any single process in the tree. A
cold build forks worker processes (one per core), so after the timed runs one
extra cold/warm/touch set is run with the whole process tree's memory sampled
every 10 ms (the sum of PSS, which shares forked pages fairly, and the sum of
RSS, which counts them once per process); sampling costs CPU, so that set is
not timed.

Noise: before the runs every post is read once, so every run, like
``bench_hugo.py``'s Hugo runs, finds the corpus in the page cache. Before each
run the script waits (up to --quiet-wait seconds) until other processes have
used less than --quiet-below of the machine for half a second; each run prints
the share of CPU other processes took while it ran, and the session's load
average and CPU steal (/proc/stat) are printed.

The ``publisher`` imported is whatever ``python -m publisher`` finds; set
PYTHONPATH to benchmark another checkout (its path is printed). Exit status 1
if a warm build parsed or wrote anything.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

KINDS = ("cold", "warm", "touch")
DATE_LINE = re.compile(rb"^date:[ \t]*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4})[ \t]*$", re.M)
APPENDED = "\n追記。\n".encode()
SAMPLE_EVERY = 0.010


@dataclass
class Run:
    """One measured process."""

    seconds: float
    peak_mb: float
    """ru_maxrss: the largest single process of the tree."""
    tree_pss_mb: float | None = None
    tree_rss_mb: float | None = None
    processes: int = 0
    """Most processes seen at once in the tree (sampled runs only)."""
    stdout: bytes = b""
    status: int = 0
    others: float = 0.0
    """Share of the machine's CPU time used by other processes during the run."""
    quiet: bool = True
    """Whether the machine was quiet (see wait_for_quiet) when the run started."""


@dataclass
class Outcome:
    """One ``publisher build``: its measurements and what its --json report says."""

    run: Run
    parsed: int
    rendered: int
    written: int
    unchanged: int
    wrote_files: list[str] = field(default_factory=list)
    """Files under the work folder created or modified (checked for warm runs)."""


@dataclass
class Quiet:
    """Before each run, wait up to ``max_wait`` seconds for the rest of the machine to idle."""

    max_wait: float = 20.0
    below: float = 0.10
    """'Idle': other processes used less than this share of all cores over 0.5 s."""


QUIET = Quiet()


def wait_for_quiet() -> bool:
    """Wait (up to QUIET.max_wait) until other processes leave the machine idle; whether they did."""
    deadline = time.monotonic() + QUIET.max_wait
    while True:
        before = CpuClock.now()
        time.sleep(0.5)
        if before.others_share(CpuClock.now()) < QUIET.below:
            return True
        if time.monotonic() >= deadline:
            return False


def measure(command: list[str], cwd: Path, sample_tree: bool = False) -> Run:
    """Run ``command``; wall seconds, ru_maxrss and (if asked) sampled tree memory."""
    quiet = wait_for_quiet() if QUIET.max_wait > 0 else True
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        clock = CpuClock.now()
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        peak_pss = peak_rss = 0
        most = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG if sample_tree else 0)
            if pid:
                break
            pss, rss, count = _tree_memory(proc.pid)
            peak_pss, peak_rss, most = max(peak_pss, pss), max(peak_rss, rss), max(most, count)
            time.sleep(SAMPLE_EVERY)
        seconds = time.perf_counter() - started
        others = clock.others_share(CpuClock.now())
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    run = Run(seconds, usage.ru_maxrss / 1024, stdout=stdout, status=proc.returncode)
    run.others, run.quiet = others, quiet
    if stderr.strip() and proc.returncode not in (0, 1):
        sys.stderr.write(stderr.decode(errors="replace"))
    if sample_tree:
        run.tree_pss_mb, run.tree_rss_mb, run.processes = peak_pss / 1024, peak_rss / 1024, most
    return run


def _tree_memory(root: int) -> tuple[int, int, int]:
    """(sum of Pss, sum of Rss) in KB over ``root`` and its descendants, and their number."""
    children: dict[int, list[int]] = defaultdict(list)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        children[ppid].append(int(name))
    pss = rss = count = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith(b"Rss:"):
                        rss += int(line.split()[1])
            count += 1
        except (OSError, ValueError):
            continue
    return pss, rss, count


def publisher_command(site: Path) -> list[str]:
    return [sys.executable, "-m", "publisher", "build", "--site", str(site)]


def build(site: Path, work: Path, sample_tree: bool = False) -> Outcome:
    """One ``publisher build --json`` with its output and its state folder both in ``work``.

    The site itself is left alone: ``--output`` is absolute, and ``[paths] var``
    (``SITE/.publisher`` by default) is set to ``work/var`` through the environment.
    """
    before = _snapshot(work)
    command = [*publisher_command(site), "--output", str(work / "out"), "--json"]
    os.environ["PUBLISHER_PATHS__VAR"] = str(work / "var")
    run = measure(command, work, sample_tree)
    if run.status not in (0, 1):
        raise SystemExit(f"build failed ({run.status})")
    report = json.loads(run.stdout)
    after = _snapshot(work)
    changed = sorted(path for path, stamp in after.items() if before.get(path) != stamp)
    return Outcome(
        run=run,
        parsed=report["posts"]["parsed"],
        rendered=report["posts"]["rendered"],
        written=len(report["feeds"]["written"]),
        unchanged=len(report["feeds"]["unchanged"]),
        wrote_files=changed,
    )


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    stamps = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            st = os.stat(os.path.join(root, name))
            stamps[os.path.join(root, name)] = (st.st_size, st.st_mtime_ns)
    return stamps


def publisher_cycle(site: Path, newest: Path, sample_tree: bool = False) -> dict[str, Outcome]:
    """cold, warm, touch in a fresh temporary folder; the touched post is put back."""
    outcomes: dict[str, Outcome] = {}
    original = newest.read_bytes()
    stat = newest.stat()
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        work = Path(tmp)
        outcomes["cold"] = build(site, work, sample_tree)
        outcomes["warm"] = build(site, work, sample_tree)
        try:
            with newest.open("ab") as handle:
                handle.write(APPENDED)
            outcomes["touch"] = build(site, work, sample_tree)
        finally:
            newest.write_bytes(original)
            os.utime(newest, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return outcomes


def warm_problem(outcome: Outcome) -> str:
    """Why a warm build broke the rule (parse nothing, write nothing), or ''."""
    reasons = []
    if outcome.parsed:
        reasons.append(f"parsed {outcome.parsed} posts")
    if outcome.written:
        reasons.append(f"wrote {outcome.written} feeds")
    if outcome.wrote_files:
        reasons.append(f"changed files {outcome.wrote_files[:5]}")
    return ", ".join(reasons)


@dataclass(frozen=True)
class CpuClock:
    """The machine's CPU seconds (busy and stolen) and ours, from /proc/stat and os.times()."""

    total: float
    busy: float
    steal: float
    ours: float

    @classmethod
    def now(cls) -> CpuClock:
        tick = os.sysconf("SC_CLK_TCK")
        try:
            with open("/proc/stat") as handle:
                f = [int(v) / tick for v in handle.readline().split()[1:9]]
        except (OSError, ValueError):
            f = [0.0] * 8
        user, nice, system, _idle, _iowait, irq, softirq, steal = f + [0.0] * (8 - len(f))
        t = os.times()
        ours = t.user + t.system + t.children_user + t.children_system
        busy = user + nice + system + irq + softirq
        return cls(sum(f), busy, steal, ours)

    def others_share(self, later: CpuClock) -> float:
        """Share of all CPU time from self to ``later`` used by processes other than ours."""
        total = later.total - self.total
        others = (later.busy - self.busy) - (later.ours - self.ours)
        return max(0.0, others / total) if total > 0 else 0.0


def machine_line() -> str:
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{os.cpu_count()} cores, load average {load}"


def noise_line(before: CpuClock, after: CpuClock) -> str:
    """Stolen CPU, and CPU used by processes other than the benchmark's, during the runs."""
    total = after.total - before.total
    if not total:
        return "CPU accounting: /proc/stat not readable"
    steal = after.steal - before.steal
    others = before.others_share(after)
    return (
        f"whole session: {100 * steal / total:.1f} % of CPU time stolen by the hypervisor; "
        f"other processes used {100 * others:.0f} % of the machine "
        f"(the runs wait up to {QUIET.max_wait:.0f} s for them to use < {100 * QUIET.below:.0f} %)"
    )


def describe(kind: str, o: Outcome) -> str:
    r = o.run
    return (
        f"  {kind:10s} {r.seconds:6.2f} s  peak RSS {r.peak_mb:6.1f} MB  "
        f"posts parsed {o.parsed:5d}  bodies {o.rendered:3d}  "
        f"feeds written {o.written:3d}  unchanged {o.unchanged:3d}{noise(r)}"
    )


def noise(run: Run) -> str:
    """How busy the rest of the machine was during ``run``."""
    flag = "" if run.quiet else " (started before the machine was quiet)"
    return f"  others {100 * run.others:3.0f} %{flag}"


def summary_line(kind: str, runs: list[Run], extra: str = "") -> str:
    walls = [r.seconds for r in runs]
    peaks = [r.peak_mb for r in runs]
    return (
        f"  {kind:15s} wall min {min(walls):6.2f} s  median {statistics.median(walls):6.2f} s   "
        f"peak RSS median {statistics.median(peaks):6.1f} MB  max {max(peaks):6.1f} MB"
        f"   others median {100 * statistics.median(r.others for r in runs):3.0f} %{extra}"
    )


def tree_line(kind: str, run: Run) -> str:
    return (
        f"  {kind:15s} process tree peak: PSS {run.tree_pss_mb:6.1f} MB  "
        f"RSS {run.tree_rss_mb:6.1f} MB  ({run.processes} processes at most)"
    )


def corpus(site: Path) -> tuple[list[Path], Path]:
    """The corpus's posts (each read once, into the page cache) and the newest one.

    Newest by the front matter's ``date`` (UTC in make_corpus.py's posts): file
    names carry only the day, so the last name is not always the newest post.
    """
    posts = sorted((site / "_posts").glob("*.md"))
    if not posts:
        raise SystemExit(f"no posts under {site / '_posts'}")
    newest: tuple[datetime, str] | None = None
    for post in posts:
        match = DATE_LINE.search(post.read_bytes()[:2048])
        if match is None:
            continue
        key = (datetime.strptime(match[1].decode(), "%Y-%m-%d %H:%M:%S %z"), post.name)
        newest = max(newest or key, key)
    if newest is None:
        raise SystemExit(f"no 'date: YYYY-MM-DD HH:MM:SS +ZZZZ' line in {site / '_posts'}")
    return posts, site / "_posts" / newest[1]


def publisher_location() -> str:
    code = "import publisher, os; print(os.path.dirname(publisher.__file__))"
    with tempfile.TemporaryDirectory() as elsewhere:  # where the builds run, not this checkout
        return subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=elsewhere
        ).stdout.strip()


def add_quiet_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=QUIET.max_wait,
        help="before each run, wait up to this many seconds for other processes to idle "
        f"(default {QUIET.max_wait:.0f}; 0: do not wait)",
    )
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=QUIET.below,
        help=f"idle: others use less than this share of all cores (default {QUIET.below})",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("site", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-tree", action="store_true", help="skip the sampled memory set")
    add_quiet_options(parser)
    args = parser.parse_args()
    QUIET.max_wait, QUIET.below = args.quiet_wait, args.quiet_below
    site = args.site.resolve()
    posts, newest = corpus(site)
    print(f"corpus: {site} ({len(posts)} posts); publisher from {publisher_location()}")
    print(f"before: {machine_line()}")
    results: dict[str, list[Outcome]] = {kind: [] for kind in KINDS}
    failures = []
    clock = CpuClock.now()
    for n in range(1, args.runs + 1):
        print(f"run {n}:")
        for kind, outcome in publisher_cycle(site, newest).items():
            results[kind].append(outcome)
            print(describe(kind, outcome))
            if kind == "warm" and (problem := warm_problem(outcome)):
                failures.append(problem)
                print(f"    WARM BUILD NOT CLEAN: {problem}")
    print(f"after: {machine_line()}")
    print(noise_line(clock, CpuClock.now()))
    print(f"over {args.runs} runs:")
    for kind, outcomes in results.items():
        print(summary_line(kind, [o.run for o in outcomes]))
    if not args.no_tree:
        print("process-tree memory (one more set, sampled every 10 ms, not timed):")
        for kind, outcome in publisher_cycle(site, newest, sample_tree=True).items():
            print(tree_line(kind, outcome.run))
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
