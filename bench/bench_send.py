"""Benchmark the whole digest send path against Postfix's smtp-sink on 127.0.0.1.

Usage:
    python bench/bench_send.py                        # N = 1,000, 10,000, 100,000; SQLite
    python bench/bench_send.py --sizes 1000,100000 --database-url \\
        postgresql://postgres@127.0.0.1:5432/test     # a schema of its own, dropped after
    python bench/bench_send.py --sizes 10000 --profile /tmp/send.prof

For each N a fresh site (``examples/site`` copied, or ``--site`` such as a
``bench/make_corpus.py`` corpus) and database get N active subscribers in 20
audience groups (all categories, each one alone, then pairs and triples), imported
with ``publisher.store.import_subscribers`` in a setup process. A second,
fresh process then runs the real ``publisher.app.sending.send_digest`` with
``[smtp] host=127.0.0.1 port=2525 security=none`` and a progress callback
like the CLI's, and reports wall time, messages/s, CPU (user + system, every
thread) per message and peak RSS (``ru_maxrss``) of that process. It checks
that every outbox row ended ``sent``.

The reference is Postfix's own ``smtp-source`` against the same sink, with as
many sessions as ``--source-sessions``, each reusing its connection (``-d``),
with a payload as large as the mean digest; it runs twice, after the sends.
If nothing listens on the port and ``smtp-sink`` is installed, the benchmark
starts one (``apt-get install postfix`` brings both programs; the mail system
itself need not run) and stops it at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GROUPS = 20
FIRST_EDITION_DAYS = 60
SECRET = "bench-secret-0123456789abcdef"
SCHEMA = "publisher_bench_send"
NAMES = ("", "Reader {i}", "読者 {i}", "O'Brien, Pat {i}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated N")
    parser.add_argument("--site", type=Path, default=ROOT / "examples" / "site")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--connections", type=int, default=2, help="[smtp] connections")
    parser.add_argument("--batch-size", type=int, default=0, help="[digest] batch_size")
    parser.add_argument("--repeat", type=int, default=1, help="runs per N (the median is shown)")
    parser.add_argument("--source-sessions", type=int, default=4)
    parser.add_argument("--source-messages", type=int, default=20000)
    parser.add_argument("--profile", type=Path, help="cProfile the send into this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--child", choices=("setup", "send"), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "setup":
        return child_setup(args)
    if args.child == "send":
        return child_send(args)
    return run(args)


# --- the parent -----------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    sizes = [int(n) for n in args.sizes.split(",")]
    sink = ensure_sink(args.host, args.port)
    try:
        print(f"load before: {load()}", flush=True)
        rows = []
        size = 0
        for n in sizes:
            runs = []
            for _ in range(args.repeat):
                runs.append(bench_one(args, n))
                print(json.dumps(runs[-1]), flush=True)
            runs.sort(key=lambda r: r["rate"])
            result = dict(runs[len(runs) // 2])  # the median run by rate
            result["rates"] = [r["rate"] for r in runs]
            result["ok"] = all(r["ok"] for r in runs)
            size = result["message_bytes"]
            rows.append(result)
        reference = [smtp_source(args, size) for _ in range(2)]
        print(f"load after: {load()}", flush=True)
    finally:
        if sink is not None:
            sink.send_signal(signal.SIGTERM)
            sink.wait()
    print_table(rows, reference, args)
    return 0 if all(r["ok"] for r in rows) else 1


def bench_one(args: argparse.Namespace, n: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-send-{n}-"))
    try:
        shutil.copytree(args.site, work / "site")
        if args.database_url:
            reset_schema(args.database_url, create=True)
        common = [sys.executable, __file__, "--work", str(work), "--count", str(n)]
        common += ["--site", str(args.site), "--host", args.host, "--port", str(args.port)]
        common += ["--connections", str(args.connections), "--batch-size", str(args.batch_size)]
        if args.database_url:
            common += ["--database-url", args.database_url]
        started = time.monotonic()
        subprocess.run([*common, "--child", "setup"], check=True)
        setup_seconds = time.monotonic() - started
        send = [*common, "--child", "send"]
        if args.profile:
            send += ["--profile", str(args.profile)]
        output = subprocess.run(send, check=True, capture_output=True, text=True).stdout
        result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
        result["setup_seconds"] = round(setup_seconds, 2)
        return result
    finally:
        if args.database_url and not args.keep:
            reset_schema(args.database_url, create=False)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def smtp_source(args: argparse.Namespace, size: int) -> float:
    """Messages/s of ``smtp-source`` against the sink (sessions reuse their connection)."""
    command = ["smtp-source", "-d", "-s", str(args.source_sessions), "-l", str(size)]
    command += ["-m", str(args.source_messages), "-f", "news@blog.example.com"]
    command += ["-t", "reader@example.org", f"{args.host}:{args.port}"]
    started = time.monotonic()
    subprocess.run(command, check=True)
    return args.source_messages / (time.monotonic() - started)


def ensure_sink(host: str, port: int) -> subprocess.Popen[bytes] | None:
    """Start smtp-sink unless something listens already; None if we did not start it."""
    if listening(host, port):
        return None
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(binary).exists():
        sys.exit(f"nothing listens on {host}:{port} and smtp-sink is not installed")
    command = [binary, f"{host}:{port}", "1000"]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "nobody"]  # required when it starts as root
    sink = subprocess.Popen(command)
    for _ in range(50):
        if listening(host, port):
            return sink
        time.sleep(0.1)
    sink.kill()
    sys.exit(f"smtp-sink did not start on {host}:{port}")


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def reset_schema(url: str, *, create: bool) -> None:
    from sqlalchemy import text

    from publisher.store import open_engine

    admin = open_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
            if create:
                conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    finally:
        admin.dispose()


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def print_table(
    rows: list[dict[str, Any]], reference: list[float], args: argparse.Namespace
) -> None:
    best = max(reference)
    print()
    print(
        f"site {args.site}, {rows[0]['groups']} audience groups,"
        f" {'PostgreSQL' if args.database_url else 'SQLite'},"
        f" [smtp] connections = {rows[0]['connections']},"
        f" [digest] batch_size = {rows[0]['batch_size']}, mean message {rows[0]['message_bytes']:,} B"
    )
    print(
        f"smtp-source -d -s {args.source_sessions} -l {rows[-1]['message_bytes']}:"
        f" {' / '.join(f'{r:,.0f}' for r in reference)} messages/s"
    )
    print(
        f"{'N':>8} {'wall s':>7} {'msg/s':>7} {'% ref':>6} {'CPU µs/msg':>10}"
        f" {'user+sys s':>11} {'peak RSS MB':>11}  msg/s of each run"
    )
    for r in rows:
        print(
            f"{r['n']:>8,} {r['wall']:>7.2f} {r['rate']:>7,.0f}"
            f" {100 * r['rate'] / best:>5.0f}% {r['cpu_us']:>10.0f}"
            f" {r['user_s']:>5.1f}+{r['sys_s']:<5.1f} {r['peak_mb']:>11.1f}"
            f"  {', '.join(f'{x:,.0f}' for x in r['rates'])}"
        )
    growth = rows[-1]["peak_mb"] - rows[0]["peak_mb"]
    print(f"peak RSS growth from N={rows[0]['n']:,} to N={rows[-1]['n']:,}: {growth:+.1f} MB")


# --- the children ------------------------------------------------------------------------


def context(args: argparse.Namespace, now: datetime) -> Any:
    from publisher.app.context import Context

    var = args.work / "var"
    environ = {
        "PUBLISHER_SECRET": SECRET,
        "PUBLISHER_PATHS__VAR": str(var),
        "PUBLISHER_DIGEST__FIRST_EDITION_DAYS": str(FIRST_EDITION_DAYS),
        "PUBLISHER_SMTP__HOST": args.host,
        "PUBLISHER_SMTP__PORT": str(args.port),
        "PUBLISHER_SMTP__SECURITY": "none",
    }
    if args.connections:
        environ["PUBLISHER_SMTP__CONNECTIONS"] = str(args.connections)
    if args.batch_size:
        environ["PUBLISHER_DIGEST__BATCH_SIZE"] = str(args.batch_size)
    if args.database_url:
        from sqlalchemy.engine import make_url

        url = make_url(args.database_url).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
        environ["PUBLISHER_DATABASE__URL"] = url.render_as_string(hide_password=False)
    return Context(site_dir=args.work / "site", now=now, environ=environ)


def edition_time(args: argparse.Namespace) -> tuple[datetime, list[str]]:
    """A day after the newest post that is not in the future, and the categories of its window."""
    from publisher.app.context import Context
    from publisher.content import read_posts

    settings = Context(site_dir=args.work / "site", environ={}).config
    posts = read_posts(args.work / "site", settings, datetime.now(UTC)).posts
    now = max(post.date for post in posts).astimezone(UTC) + timedelta(days=1)
    start = now - timedelta(days=FIRST_EDITION_DAYS)
    categories = {c for post in posts if start < post.date <= now for c in post.categories}
    return now, sorted(categories)


def audience_groups(categories: list[str]) -> list[str]:
    """ "All categories", each one alone, then pairs, then triples: the first 20 such choices."""
    choices: list[tuple[str, ...]] = [()]
    for size in (1, 2, 3):
        choices += itertools.combinations(categories, size)
    return [";".join(choice) for choice in choices[:GROUPS]]


def subscriber_rows(n: int, groups: list[str]) -> Iterator[tuple[int, dict[str, str | None]]]:
    for i in range(n):
        name = NAMES[i % len(NAMES)].format(i=i)
        row = {
            "email": f"reader{i}@example.org",
            "name": name,
            "categories": groups[i % len(groups)],
        }
        yield i + 2, {**row, "status": "active"}


def child_setup(args: argparse.Namespace) -> int:
    from publisher.content import read_posts
    from publisher.store import import_subscribers

    now, categories = edition_time(args)
    ctx = context(args, now)
    report = import_subscribers(
        ctx.engine,
        subscriber_rows(args.count, audience_groups(categories)),
        default_status="active",
        now=now,
    )
    assert report.added == args.count, report
    (args.work / "now.txt").write_text(now.isoformat())
    # The build has usually cached the posts before a send: so does the setup.
    read_posts(ctx.site_dir, ctx.config, now, cache_file=ctx.var / "cache" / "posts.json")
    ctx.close()
    return 0


def child_send(args: argparse.Namespace) -> int:
    from publisher.app.sending import send_digest
    from publisher.store import edition_audiences

    now = datetime.fromisoformat((args.work / "now.txt").read_text())
    ctx = context(args, now)
    ctx.engine  # open (and migrate) before the clock starts  # noqa: B018
    calls = 0

    def progress(tally: Any, counts: dict[str, int]) -> None:
        nonlocal calls  # what the CLI's progress bar reads
        calls += 1
        _ = sum(counts.values()), counts.get("sent", 0) + counts.get("failed", 0)

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    if profiler:
        profiler.enable()
    report = send_digest(ctx, on_progress=progress)
    if profiler:
        profiler.disable()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    if profiler:
        profiler.dump_stats(args.profile)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sent = report.counts.get("sent", 0)
    groups = edition_audiences(ctx.engine, report.edition.id) if report.edition else []
    size = message_bytes(ctx, groups, report)
    print(
        json.dumps(
            {
                "n": args.count,
                "sent": sent,
                "ok": sent == args.count and report.counts.get("failed", 0) == 0,
                "groups": len(groups),
                "message_bytes": size,
                "wall": round(wall, 3),
                "rate": round(sent / wall, 1),
                "cpu_us": round(1e6 * cpu / max(sent, 1), 1),
                "user_s": round(after.ru_utime - before.ru_utime, 2),
                "sys_s": round(after.ru_stime - before.ru_stime, 2),
                "peak_mb": round(after.ru_maxrss / 1024, 1),
                "progress_calls": calls,
                "connections": ctx.config.smtp.connections,
                "batch_size": ctx.config.digest.batch_size,
            }
        )
    )
    ctx.close()
    return 0


def message_bytes(ctx: Any, groups: list[tuple[str, int]], report: Any) -> int:
    """The mean size of the messages sent, over the audience groups."""
    from publisher.app.sending import _composer

    composer = _composer(ctx, report.edition)
    # The stored messages' source (an older publisher's Composer rendered them itself).
    template_for = getattr(composer, "source", None) or composer.template_for
    total = 0
    for audience, count in groups:
        template = template_for(audience)
        data = composer.personal(template, 1, "reader1@example.org", "Reader 1")
        total += len(data) * count
    return round(total / max(sum(n for _, n in groups), 1))


if __name__ == "__main__":
    sys.exit(main())
