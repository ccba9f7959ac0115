"""Keyset pagination behind the Relay connections: cursors hold the sort key, never an offset."""

from __future__ import annotations

import base64
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
import math
from datetime import date, datetime, timezone
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, ColumnElement, Date, Enum, Float, Integer, Select, String, and_, func, or_, select
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


# The longest cursor we hand out: a 200-character name (the longest sort-key string, Program.name)
# of characters JSON must escape as `\uXXXX`, six bytes each, plus an id: 1,225 bytes, 1,636 in
# base64. Anything much longer is not one of ours, and is refused before it is decoded.
MAX_CURSOR_LENGTH = 2048
# What the column can hold: INTEGER is 32 bits on PostgreSQL, BIGINT 64; a value beyond it cannot be bound.
INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
BAD_CURSOR = "That page cursor is not valid; start again from the first page."


class _Invalid(Exception):
    """A cursor we could not have issued."""


def _encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]
    # ensure_ascii=False: UTF-8 takes at most 4 bytes a character where `\uXXXX\uXXXX` takes 12,
    # which keeps the longest cursor within MAX_CURSOR_LENGTH.
    text = json.dumps(plain, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode()


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _Invalid
    try:
        moment = datetime.fromisoformat(value)
        # Compared with aware UTC columns: a naive time names no moment, and one near year 1 or
        # 9999 may not survive the move to UTC that binding it would make.
        if moment.tzinfo is None:
            raise _Invalid
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise _Invalid from None


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise _Invalid
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Invalid from None


def _float(value: Any) -> float:
    # bool is an int to Python; JSON has no NaN or infinity of ours.
    if type(value) not in (int, float) or not math.isfinite(value):
        raise _Invalid
    return float(value)


def _int(value: Any, *, wide: bool) -> int:
    low, high = INT_RANGES["int64" if wide else "int32"]
    # bool is an int to Python.
    if type(value) is not int or not low <= value <= high:
        raise _Invalid
    return value


def _string(value: Any, length: int | None) -> str:
    if not isinstance(value, str) or len(value) > (length or MAX_CURSOR_LENGTH) or "\x00" in value:
        raise _Invalid
    try:
        value.encode()  # a lone surrogate (JSON allows "\ud800") cannot be bound
    except UnicodeEncodeError:
        raise _Invalid from None
    return value


def _value(column: InstrumentedAttribute[Any], value: Any) -> Any:
    """`value` as `column` holds it, or _Invalid if no row could have had it."""
    column_type = column.type
    if isinstance(column_type, UTCDateTime):
        return _datetime(value)
    if isinstance(column_type, Integer):
        return _int(value, wide=isinstance(column_type, BigInteger))
    if isinstance(column_type, Float):
        return _float(value)
    if isinstance(column_type, Date):
        return _date(value)
    if isinstance(column_type, String) and not isinstance(column_type, Enum):
        return _string(value, column_type.length)
    raise TypeError(f"keyset pages cannot be ordered by {column} of type {column_type!r}")


def _decode(cursor: str, columns: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    try:
        if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
            raise _Invalid
        # validate=True: without it, characters outside the alphabet are silently dropped.
        raw = json.loads(base64.b64decode(cursor, altchars=b"-_", validate=True))
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise _Invalid
        return [_value(c, v) for c, v in zip(columns, raw)]
    except (_Invalid, ValueError, RecursionError):
        # ValueError covers binascii.Error, JSONDecodeError and UnicodeDecodeError; RecursionError
        # is JSON nested deeper than the interpreter allows.
        raise BadInput(BAD_CURSOR) from None


def _after(
    columns: Sequence[InstrumentedAttribute[Any]], values: Sequence[Any], descending: Sequence[bool]
) -> ColumnElement[bool]:
    """Rows strictly after the cursor in the page's order (each column in its own direction)."""
    clauses = []
    for i, column in enumerate(columns):
        equal_before = [columns[j] == values[j] for j in range(i)]
        beyond = column < values[i] if descending[i] else column > values[i]
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
    descending: bool | Sequence[bool] = True,
) -> Page[Any]:
    """One page of `stmt`'s entity ordered by `order`, which must end in a unique column.

    `descending` is one direction for every column, or one per column (e.g. score descending, then
    the date placed ascending). The columns must hold no NULLs: a NULL compares as neither side.
    """
    directions = [descending] * len(order) if isinstance(descending, bool) else list(descending)
    if len(directions) != len(order):
        raise ValueError("give one direction per order column")
    if after:
        stmt = stmt.where(_after(order, _decode(after, order), directions))
    stmt = stmt.order_by(*(c.desc() if d else c.asc() for c, d in zip(order, directions))).limit(first + 1)
    rows = list((await session.scalars(stmt)).unique())
    has_next = len(rows) > first
    rows = rows[:first]
    return _page(rows, order, has_next_page=has_next, has_previous_page=bool(after))


async def keyset_pages(
    session: AsyncSession,
    entity: Any,
    *,
    where: Sequence[ColumnElement[bool]],
    options: Sequence[Any] = (),
    partition: InstrumentedAttribute[Any],
    keys: Collection[Any],
    order: Sequence[InstrumentedAttribute[Any]],
    first: int,
    after: str | None,
    descending: bool = True,
) -> dict[Any, Page[Any]]:
    """`keyset_page` for many parents at once: the page of `entity`'s rows for each `partition` value in `keys`.

    Two statements (the numbered ids, then the rows with `options`), however many parents: what a
    nested list's DataLoader calls. The cursor, the same for every parent, applies before numbering.
    """
    if not keys:
        return {}
    filters = [*where, partition.in_(list(keys))]
    if after:
        filters.append(_after(order, _decode(after, order), [descending] * len(order)))
    ordering = [c.desc() if descending else c.asc() for c in order]
    numbered = (
        select(entity.id.label("id"), func.row_number().over(partition_by=partition, order_by=ordering).label("n"))
        .where(*filters)
        .subquery()
    )
    chosen = select(numbered.c.id).where(numbered.c.n <= first + 1)
    stmt = select(entity).where(entity.id.in_(chosen)).options(*options).order_by(partition, *ordering)
    rows = list((await session.scalars(stmt)).unique())
    grouped: dict[Any, list[Any]] = {key: [] for key in keys}
    for row in rows:
        grouped[getattr(row, partition.key)].append(row)
    return {
        key: _page(found[:first], order, has_next_page=len(found) > first, has_previous_page=bool(after))
        for key, found in grouped.items()
    }


def _page(items: list[T], order: Sequence[InstrumentedAttribute[Any]], *, has_next_page: bool, has_previous_page: bool) -> Page[T]:
    cursors = [_encode([getattr(item, c.key) for c in order]) for item in items]
    return Page(items=items, cursors=cursors, has_next_page=has_next_page, has_previous_page=has_previous_page)


def first_page_of(items: Sequence[T], *, order: Sequence[InstrumentedAttribute[Any]], first: int) -> Page[T]:
    """The first page of rows already fetched in `order`, with cursors that `keyset_page` continues from."""
    return _page(list(items[:first]), order, has_next_page=len(items) > first, has_previous_page=False)
