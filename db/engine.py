"""The engine and the two kinds of session: reads, and write transactions."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from db.numbering import WriteSession
from db.sqlite_driver import OneTripDBAPI

SQLITE_BUSY_TIMEOUT_MS = 10_000
# How many SQLite virtual machine steps run between looks at the clock: a few microseconds' work.
SQLITE_PROGRESS_STEPS = 10_000
# PostgreSQL's code for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"


class StatementTimeout:
    """When the statement a SQLite connection runs must stop: set before each one, read by its progress handler."""

    def __init__(self) -> None:
        self.deadline = math.inf

    def passed(self) -> int:
        # Called from aiosqlite's thread; non-zero makes SQLite stop the statement ("interrupted").
        return 1 if time.monotonic() > self.deadline else 0


def is_statement_timeout(error: BaseException) -> bool:
    """Whether `error` is a statement stopped for running past the statement timeout, on either database."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) == QUERY_CANCELED or getattr(original, "pgcode", None) == QUERY_CANCELED:
        return True
    return type(original).__name__ == "OperationalError" and "interrupted" in str(original)


def _configure_sqlite(engine: AsyncEngine, statement_timeout: float) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        # Take BEGIN out of the driver's hands so we can say IMMEDIATE for writes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        if statement_timeout > 0:
            timeout = record.info["statement_timeout"] = StatementTimeout()
            # The sqlite3 connection under aiosqlite (opened with check_same_thread=False).
            dbapi_connection.driver_connection._conn.set_progress_handler(timeout.passed, SQLITE_PROGRESS_STEPS)

    if statement_timeout > 0:

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def before(conn: Any, *_: Any) -> None:
            timeout = conn.info.get("statement_timeout")
            if timeout is not None:
                timeout.deadline = time.monotonic() + statement_timeout

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def after(conn: Any, *_: Any) -> None:
            # aiosqlite's cursor has fetched every row by now; COMMIT must never be interrupted.
            timeout = conn.info.get("statement_timeout")
            if timeout is not None:
                timeout.deadline = math.inf

        @event.listens_for(engine.sync_engine, "handle_error")
        def failed(context: Any) -> None:
            timeout = context.connection.info.get("statement_timeout") if context.connection is not None else None
            if timeout is not None:
                timeout.deadline = math.inf

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        # A deferred transaction that later writes can fail with "database is locked" whatever the
        # busy timeout; writers take the lock up front instead.
        if connection.get_execution_options().get("referloop_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def create_engine(url: str, *, echo: bool = False, statement_timeout: float = 0) -> AsyncEngine:
    """`statement_timeout`: seconds any one statement may run before the database stops it (0: no limit)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, echo=echo, poolclass=NullPool if "mode=memory" in url else None, module=OneTripDBAPI() if parsed.get_driver_name() == "aiosqlite" else None
        )
        _configure_sqlite(engine, statement_timeout)
        return engine
    connect_args: dict[str, Any] = {}
    if statement_timeout > 0 and parsed.get_driver_name() == "asyncpg":
        connect_args["server_settings"] = {"statement_timeout": str(max(1, round(statement_timeout * 1000)))}
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=connect_args)


class Database:
    """Owns the engine; hands out read sessions and write transactions."""

    def __init__(self, url: str, *, echo: bool = False, statement_timeout: float = 0) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo, statement_timeout=statement_timeout)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._reads = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._writes = async_sessionmaker(
            self.engine.execution_options(referloop_write=True), expire_on_commit=False, sync_session_class=WriteSession
        )
        # SQLite has one writer at a time. Writers of this process queue here, in turn, rather than
        # in SQLite's busy loop: fifty clients at once kept some waiting past the busy timeout
        # ("database is locked", a 500) while the writer ahead of them waited for the event loop.
        self._write_turn = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back whole if it raises.

        Its outbox events are numbered as it commits (db.numbering), under a lock held only from then.
        """
        async with self._write_turn or nullcontext(), self._writes() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
