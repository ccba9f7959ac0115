"""Outbox numbers follow commit order, and the lock that orders them is held only to number them.

A reader resumes from "seq > N": if a number became visible before a lower one committed, the
reader would pass the lower one and never see it. These run on both databases; the lock's part
only on PostgreSQL, where writers really run at the same time.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import select

from db.accounts import Role
from db.engine import Database
from db.events import EventKind, OutboxEvent, SubjectType
from db.referrals import ChangeSource
from resolvers.live.outbox import events_after, record_event
from resolvers.viewer import Viewer
from tests.conftest import POSTGRES

SYSTEM = Viewer(user_id=None, email="", name="test", role=Role.ADMIN)


async def _record(session: object, subject_id: int) -> OutboxEvent:
    return await record_event(
        session,  # type: ignore[arg-type]
        subject_type=SubjectType.SEEKER,
        subject_id=subject_id,
        kind=EventKind.STATUS_CHANGED,
        actor=SYSTEM,
        source=ChangeSource.SYSTEM,
        change={},
    )


@pytest.mark.skipif(POSTGRES is None, reason="SQLite serializes whole write transactions (BEGIN IMMEDIATE): nothing runs beside a writer")
async def test_a_long_transaction_does_not_hold_up_another_writer_and_commits_after_it(db: Database) -> None:
    async with db.write() as slow:
        slow_event = await _record(slow, 1)
        # While the slow change is still planning its notifications, another change commits.

        async def quick() -> int:
            async with db.write() as session:
                event = await _record(session, 2)
            return event.seq

        quick_seq = await asyncio.wait_for(quick(), timeout=10)
    assert slow_event.seq > quick_seq > 0
    async with db.read() as session:
        assert [e.subject_id for e in await events_after(session, 0)] == [2, 1]


async def test_a_reader_never_passes_an_event_that_commits_later(db: Database) -> None:
    seen: list[int] = []
    writing = True

    async def writer(number: int) -> None:
        rng = random.Random(number)
        for i in range(12):
            async with db.write() as session:
                await _record(session, number * 100 + i)
                # The rest of a change's work (notifications, reloads) between its event and its commit.
                await asyncio.sleep(rng.uniform(0, 0.01))

    async def reader() -> None:
        cursor = 0
        while writing:
            async with db.read() as session:
                events = await events_after(session, cursor)
            seen.extend(e.seq for e in events)
            cursor = events[-1].seq if events else cursor
            await asyncio.sleep(0)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(n) for n in range(1, 7)))
    writing = False
    await reading
    async with db.read() as session:
        committed = list((await session.scalars(select(OutboxEvent.seq).where(OutboxEvent.seq > 0))).all())
        # What the reader missed at the end it finds on its next read; nothing below its cursor.
        cursor = max(seen, default=0)
        seen.extend(e.seq for e in await events_after(session, cursor))
    assert len(committed) == 6 * 12
    assert seen == sorted(committed), "the reader skipped an event that committed after a higher number"
