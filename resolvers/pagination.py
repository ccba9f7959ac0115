"""Keyset pagination behind the Relay connections: cursors hold the sort key, never an offset."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.base import UTCDateTime
from resolvers.errors import BadInput

T = TypeVar("T")

MAX_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def _encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode()


def _decode(cursor: str, columns: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise ValueError
        return [
            datetime.fromisoformat(v) if isinstance(c.type, UTCDateTime) else v for v, c in zip(raw, columns)
        ]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadInput("That page cursor is not valid; start again from the first page.") from None


def _after(
    columns: Sequence[InstrumentedAttribute[Any]], values: Sequence[Any], descending: bool
) -> ColumnElement[bool]:
    """Rows strictly after the cursor in the page's order."""
    clauses = []
    for i, column in enumerate(columns):
        equal_before = [columns[j] == values[j] for j in range(i)]
        beyond = column < values[i] if descending else column > values[i]
        clauses.append(and_(*equal_before, beyond))
    return or_(*clauses)


def clamp_first(first: int | None, default: int) -> int:
    if first is None:
        return default
    if first < 0 or first > MAX_PAGE:
        raise BadInput(f"`first` must be between 0 and {MAX_PAGE}.")
    return first


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    order: Sequence[InstrumentedAttribute[Any]],
    first: int,
    after: str | None,
    descending: bool = True,
) -> Page[Any]:
    """One page of `stmt`'s entity ordered by `order`, which must end in a unique column."""
    if after:
        stmt = stmt.where(_after(order, _decode(after, order), descending))
    stmt = stmt.order_by(*(c.desc() if descending else c.asc() for c in order)).limit(first + 1)
    rows = list((await session.scalars(stmt)).unique())
    has_next = len(rows) > first
    rows = rows[:first]
    return _page(rows, order, has_next_page=has_next, has_previous_page=bool(after))


def _page(items: list[T], order: Sequence[InstrumentedAttribute[Any]], *, has_next_page: bool, has_previous_page: bool) -> Page[T]:
    cursors = [_encode([getattr(item, c.key) for c in order]) for item in items]
    return Page(items=items, cursors=cursors, has_next_page=has_next_page, has_previous_page=has_previous_page)


def first_page_of(items: Sequence[T], *, order: Sequence[InstrumentedAttribute[Any]], first: int) -> Page[T]:
    """The first page of rows already fetched in `order`, with cursors that `keyset_page` continues from."""
    return _page(list(items[:first]), order, has_next_page=len(items) > first, has_previous_page=False)
