"""Logging for the long-running commands (``run``, ``worker``, ``serve``): one line an event.

An exception logged by publisher or a library it runs (APScheduler, uvicorn)
is shown as one line — its type and first line — unless ``publisher -v``
asked for tracebacks: the operator sees what went wrong, never a wall of
frames.

>>> setup_logging(verbose=False)                                   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sys

__all__ = ["OneLineFormatter", "setup_logging"]

FORMAT = "%(asctime)s %(message)s"
_QUIET = ("apscheduler", "alembic")


class OneLineFormatter(logging.Formatter):
    """A formatter that folds an exception into the line, unless ``verbose``.

    >>> import logging
    >>> try:
    ...     raise ValueError("bad\\nsecond line")
    ... except ValueError:
    ...     record = logging.makeLogRecord({"msg": "job failed", "exc_info": sys.exc_info()})
    >>> OneLineFormatter("%(message)s").format(record)
    'job failed (ValueError: bad; publisher -v shows the traceback)'
    """

    def __init__(self, fmt: str = FORMAT, verbose: bool = False) -> None:
        super().__init__(fmt)
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        if self.verbose or not record.exc_info or record.exc_info[1] is None:
            return super().format(record)
        error = record.exc_info[1]
        first = (str(error).strip().splitlines() or [""])[0]
        folded = logging.makeLogRecord(record.__dict__)
        folded.msg = (
            f"{record.getMessage()} ({type(error).__name__}: {first};"
            " publisher -v shows the traceback)"
        )
        folded.args, folded.exc_info, folded.exc_text = None, None, None
        return super().format(folded)


def setup_logging(verbose: bool) -> None:
    """INFO to stderr through :class:`OneLineFormatter`; the chatty libraries at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(FORMAT, verbose))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
