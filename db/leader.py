"""Which process does the chores only one should do: prune the outbox, compose digests.

On PostgreSQL the leader is whoever holds a session-level advisory lock on a connection of its own.
The lock goes with that connection: a leader that is killed, or loses its connection when
PostgreSQL restarts, stops leading at once, and another process takes the lock on its next try
(every `interval` seconds). The leader checks its connection at the same pace and stops calling
itself leader as soon as the check fails, so two leaders overlap by one interval at most, and the
chores are safe to run twice anyway (pruning is idempotent; a digest's key is unique).

SQLite serves one process (several workers are refused at start), which always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from db.engine import Database

log = logging.getLogger(__name__)

# Any constant works; it names the lock whose holder is the leader.
LEADER_LOCK = 7_270_002


class Leadership:
    def __init__(self, db: Database, *, interval: float = 2.0) -> None:
        self.db = db
        self.interval = interval
        self._connection: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._leading = db.is_sqlite

    @property
    def is_leader(self) -> bool:
        return self._leading

    async def start(self) -> None:
        if self.db.is_sqlite:
            return
        await self._try()
        self._task = asyncio.create_task(self._keep_trying(), name="referloop-leadership")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
            self._task = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK})
            await self._drop()
        self._leading = self.db.is_sqlite

    async def _keep_trying(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self._try()

    async def _try(self) -> None:
        try:
            if self._connection is None:
                self._connection = await self.db.engine.connect()
                # Autocommit: the lock is the session's, and no transaction stays open beside it.
                await self._connection.execution_options(isolation_level="AUTOCOMMIT")
                got = bool(await self._connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK}))
                if got:
                    log.info("this process now prunes the outbox and composes digests (the leader)")
                    self._leading = True
                else:
                    await self._drop()
            else:
                await self._connection.execute(text("SELECT 1"))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - another process, or this one later, leads meanwhile
            if self._leading:
                log.warning("lost the leader's connection (%s); no longer the leader", error)
            self._leading = False
            await self._drop(invalidate=True)

    async def _drop(self, *, invalidate: bool = False) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            if invalidate:
                # Never back into the pool: it may still hold the lock on a server that is alive.
                await connection.invalidate()
            await connection.close()
