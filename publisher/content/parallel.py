"""Spread independent, CPU-bound work over the machine's cores.

Worker processes are forked (cheap on Linux, and they inherit the settings and
imported modules); where fork is not available the work runs in this process.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = ["map_in_processes", "map_work"]

T = TypeVar("T")
R = TypeVar("R")

_shared: dict[str, Any] = {}


def _call(item: Any) -> Any:
    return _shared["fn"](item, _shared["context"])


def map_work(
    fn: Callable[[T, Any], R],
    items: Sequence[T],
    context: Any,
    *,
    workers: int,
    minimum: int,
    preload: Sequence[str] = (),
) -> list[R]:
    """``fn(item, context)`` for every item, in order: over the cores when it is worth it.

    ``workers`` is ``[feeds] workers`` (0: one per core). Below ``minimum``
    items, or on one core, starting processes costs more than it saves, and
    the work runs here.

    >>> map_work(lambda n, k: n * k, [1, 2, 3], 10, workers=1, minimum=2)
    [10, 20, 30]
    """
    count = workers or os.cpu_count() or 1
    if count > 1 and len(items) >= minimum:
        return list(map_in_processes(fn, items, context, count, preload=preload))
    return [fn(item, context) for item in items]


def map_in_processes(
    fn: Callable[[T, Any], R],
    items: Sequence[T],
    context: Any,
    workers: int,
    preload: Sequence[str] = (),
) -> Iterator[R]:
    """``fn(item, context)`` for every item, in order, over ``workers`` processes.

    ``preload`` names modules ``fn`` imports lazily: they are imported here,
    before the fork, so the workers share one copy instead of importing their own.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        for item in items:
            yield fn(item, context)
        return
    for module in preload:
        importlib.import_module(module)
    _shared.update(fn=fn, context=context)
    chunk = max(1, len(items) // (workers * 8))
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            yield from pool.map(_call, items, chunksize=chunk)
    finally:
        _shared.clear()
