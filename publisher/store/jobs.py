"""APScheduler's job store in the project's database, and a read of what it holds.

The scheduler (``publisher.scheduler``) gets its store from ``app``, which gets
it here: SQLAlchemy stays inside ``publisher.store``. The table is created by
migration 0002 (:data:`publisher.store.schema.apscheduler_jobs`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import Engine, select

from publisher.store.schema import apscheduler_jobs

__all__ = ["job_store", "stored_run_times"]


def job_store(engine: Engine) -> SQLAlchemyJobStore:
    """A job store on ``engine`` (jobs survive a restart, so a missed run can be caught up)."""
    return SQLAlchemyJobStore(engine=engine, tablename=apscheduler_jobs.name)


def stored_run_times(engine: Engine) -> dict[str, datetime | None]:
    """Each stored job's next run time (None: paused), without unpickling the jobs."""
    with engine.connect() as conn:
        rows = conn.execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time))
        return {
            str(job_id): datetime.fromtimestamp(ts, UTC) if ts is not None else None
            for job_id, ts in rows
        }
