"""Day arithmetic and medians that read the same on SQLite and PostgreSQL.

SQLite keeps timestamps and dates as ISO text and has `julianday`; PostgreSQL has real timestamps,
intervals and dates. Each construct here compiles to what its dialect says, so that one SQLAlchemy
expression serves both and the measures stay in SQL. Timestamps are stored in UTC (db.base), so
"the day of" a timestamp is its UTC date on either database.

Neither database is asked for `percentile_cont` (SQLite has none): a median is the mean of the one
or two middle values of the ordered non-null values, ranked with the `row_number()` window.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Date, Float, Select, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.selectable import CTE


class day_of(FunctionElement[Any]):
    """The UTC calendar day of a timestamp, comparable with a DATE column."""

    type = Date()
    inherit_cache = True
    name = "day_of"


@compiles(day_of, "sqlite")
def _day_of_sqlite(element: day_of, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(day_of, "postgresql")
def _day_of_postgresql(element: day_of, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


class month_of(FunctionElement[Any]):
    """The first day of a timestamp's UTC month, as text 'YYYY-MM-01' (a key both databases group by alike)."""

    inherit_cache = True
    name = "month_of"


@compiles(month_of, "sqlite")
def _month_of_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m-01', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_of_postgresql(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-01')"


class days_between(FunctionElement[Any]):
    """Days, with their fraction, from the first timestamp to the second."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({end}) - julianday({start}))"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end}) - ({start})) / 86400.0)"


class dates_between(FunctionElement[Any]):
    """Whole days from the first date to the second."""

    type = Float()
    inherit_cache = True
    name = "dates_between"


@compiles(dates_between, "sqlite")
def _dates_between_sqlite(element: dates_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({end}) - julianday({start}))"


@compiles(dates_between, "postgresql")
def _dates_between_postgresql(element: dates_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(({end}) - ({start}) AS FLOAT)"


def earliest(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    """The smaller of two values, either of which may be null (SQLite's min(a, b) would be null, PostgreSQL's LEAST is not)."""
    return case((a.is_(None), b), (b.is_(None), a), (a <= b, a), else_=b)


def median(source: CTE, column: str) -> Select[Any]:
    """A scalar select: the median of `source.c[column]` over its non-null values; null when there are none.

    For n values ranked 1..n by `row_number()` the middle ones are ranks (n+1) div 2 and (n+2) div 2:
    the same rank when n is odd, the two middle ranks when it is even. `//` is integer division on
    both databases. n is an uncorrelated `count()`, computed once: `count(*) OVER ()` gave the same
    answer but made SQLite buffer every row of the window, about three times as slow at 100,000.
    """
    value = source.c[column]
    n = select(func.count(value)).scalar_subquery()
    ranked = (
        select(value.label("v"), func.row_number().over(order_by=value).label("rn")).where(value.is_not(None)).subquery()
    )
    return select(func.avg(ranked.c.v)).where(or_(ranked.c.rn == (n + 1) // 2, ranked.c.rn == (n + 2) // 2))
