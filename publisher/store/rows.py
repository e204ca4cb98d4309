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

from typing import Any, TypeVar

import msgspec
from sqlalchemy import Row

__all__ = ["from_row"]

S = TypeVar("S", bound=msgspec.Struct)


def from_row(row: Row[Any], cls: type[S]) -> S:
    """The ``cls`` whose fields are the row's columns of the same names."""
    values = row._mapping
    return cls(**{name: values[name] for name in cls.__struct_fields__ if name in values})
