"""``publisher worker``: deliver the outbox beside ``publisher run``, on many machines."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from publisher.app import Context
from publisher.cli.logs import setup_logging
from publisher.cli.options import site_options, verbose
from publisher.joblog import outcome_line

if TYPE_CHECKING:
    from publisher.app import RunOutcome

__all__ = ["worker"]

log = logging.getLogger("publisher.worker")


@click.command()
@site_options
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--poll",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds between looks at the outbox when idle [default: [run] worker_poll_seconds].",
)
def worker(
    site_dir: Path, config_file: Path | None, now_text: str | None, once: bool, poll: float | None
) -> None:
    """Deliver unfinished digest editions, until stopped.

    Takes the oldest edition still sending and sends what is due (first
    attempts, retries whose backoff has ended), in batches claimed from the
    database, so any number of workers, and `publisher run` or `digest send`,
    can share one edition: everyone gets it once. It never creates an edition
    (`publisher run` or `publisher digest send` does). A send paused after too
    many errors in a row is resumed [run] paused_retry_minutes later. Logs one
    line per pass that sent something. SIGTERM or Ctrl-C stops it after the
    batch in flight, nothing left claimed.

    Example:

        publisher worker --site examples/site
    """
    from publisher.app import DeliveryWorker

    if now_text:
        raise click.UsageError("`publisher worker` follows the real clock; --now is for previews")
    setup_logging(verbose())
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # long-running: it brings the schema up to date at start
    ctx = Context(site_dir=site_dir, config_file=config_file, migrate=True)
    try:
        _ = ctx.engine  # a bad database setting stops here, with its message
        deliveries = DeliveryWorker(ctx, poll)
        click.echo(f"publisher worker: {ctx.config.site.title}", err=True)
        if once:
            for outcome in deliveries.drain(stop.is_set):
                _log(outcome)
        else:
            while not stop.is_set():
                step = deliveries.step(stop.is_set)
                if step.outcome is not None:
                    _log(step.outcome)
                stop.wait(step.wait)
    finally:
        ctx.close()
    click.echo("publisher worker: stopped", err=True)


def _log(outcome: RunOutcome) -> None:
    (log.warning if outcome.problems else log.info)("%s", outcome_line(outcome))
