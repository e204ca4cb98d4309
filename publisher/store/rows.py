"""Rows → the plain nouns of :mod:`publisher.models`, by column name: one mapper for all.

The store's tables name their columns as the models name their fields
(``subscribers.email`` is ``Subscriber.email``), and the column types already
give back what the fields hold (aware datetimes, tuples of strings). So a row
becomes a struct by taking, for each field, the column of that name; a field
whose column the query did not select keeps its default.

>>> from sqlalchemy import create_engine, text
>>> from publisher.models import Problem
>>> with create_engine("sqlite://").connect() as conn:
...     row = conn.execute(text("SELECT 'a.md' AS path, 'bad date' AS reason")).one()
>>> from_row(row, Problem)
Problem(path='a.md', reason='bad date', line=None)
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Row

__all__ = ["from_row", "from_rows"]

S = TypeVar("S", bound=msgspec.Struct)


def from_row(row: Row[Any], cls: type[S]) -> S:
    """The ``cls`` whose fields are the row's columns of the same names."""
    return cls(**{name: row[i] for name, i in _plan(cls, row._fields)})


def from_rows(rows: Iterable[Row[Any]], cls: type[S]) -> list[S]:
    """:func:`from_row` for the rows of one query (they share their columns: one plan).

    >>> from sqlalchemy import create_engine, text
    >>> from publisher.models import Problem
    >>> with create_engine("sqlite://").connect() as conn:
    ...     rows = conn.execute(text("SELECT 'a.md' AS path, 'x' AS reason, 3 AS line")).all()
    >>> from_rows(rows, Problem)
    [Problem(path='a.md', reason='x', line=3)]
    """
    rows = list(rows)
    if not rows:
        return []
    plan = _plan(cls, rows[0]._fields)
    return [cls(**{name: row[i] for name, i in plan}) for row in rows]


@functools.lru_cache(maxsize=256)
def _plan(cls: type[msgspec.Struct], columns: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """Each field of ``cls`` that ``columns`` has, with its position: the rows of one query
    share their columns, so the send path looks this up once, not for every message."""
    where = {name: i for i, name in enumerate(columns)}
    return tuple((name, where[name]) for name in cls.__struct_fields__ if name in where)
