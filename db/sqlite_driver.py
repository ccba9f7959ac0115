"""SQLite through aiosqlite, each statement run and fetched in one trip to aiosqlite's thread.

SQLAlchemy's aiosqlite adapter makes four trips per statement (open a cursor, execute, fetch,
close), each a hand-off to the connection's thread and back: about 0.6 ms of a 2-core machine's
time for a statement SQLite itself answers in 0.04 ms, and the larger part of a status change's
cost. Here the cursor SQLAlchemy holds does all four in the thread at once and keeps the rows;
everything else (connecting, commit, rollback, close, the progress handler) is aiosqlite's own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

# What a statement leaves behind: description, rowcount, lastrowid, rows.
Outcome = tuple[Any, int, int | None, list[Any]]


def _run(connection: sqlite3.Connection, operation: str, parameters: Sequence[Any] | None) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, rows_of_parameters: Iterable[Sequence[Any]]) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, rows_of_parameters)
        return cursor.description, cursor.rowcount, cursor.lastrowid, []
    finally:
        cursor.close()


def _trip(connection: aiosqlite.Connection) -> Callable[..., Awaitable[Outcome]]:
    """A call in the connection's thread, queued behind the connection's other work (aiosqlite's own, untyped)."""
    trip: Callable[..., Awaitable[Outcome]] = connection._execute
    return trip


class PrefetchingCursor:
    """The part of an aiosqlite cursor that SQLAlchemy's adapter uses, each statement one trip."""

    arraysize = 1

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def execute(self, operation: str, parameters: Sequence[Any] | None = None) -> None:
        outcome = await _trip(self._connection)(_run, self._connection._conn, operation, parameters)
        self.description, self.rowcount, self.lastrowid, self._rows = outcome

    async def executemany(self, operation: str, rows_of_parameters: Iterable[Sequence[Any]]) -> None:
        outcome = await _trip(self._connection)(_run_many, self._connection._conn, operation, list(rows_of_parameters))
        self.description, self.rowcount, self.lastrowid, self._rows = outcome

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        self._rows = []


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    # Closing holds nothing in the thread: the sqlite3 cursor is closed there already.
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return PrefetchingCursor(connection)

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite as SQLAlchemy's aiosqlite dialect sees it, with OneTripCursor for its cursors."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)
