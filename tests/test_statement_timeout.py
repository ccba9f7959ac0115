"""No statement holds the database for more than the statement timeout; the request answers TIMEOUT, nothing half-written."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

import resolvers.live.outbox
import resolvers.referrals
from db.engine import Database, is_statement_timeout
from db.referrals import Referral
from db.settings import Settings
from tests.documents import CREATE_REFERRAL, INBOUND, new_seeker_referral
from tests.support import Api, Network

NAVIGATOR = "navigator@test.example"
INTAKE = "intake@test.example"
# Long enough that no ordinary statement reaches it on a loaded 2-core machine (a fresh database's
# first statements have taken over half a second there), short enough to keep the tests quick.
TIMEOUT = 2.0


def slow_statement(db: Database) -> Any:
    """A statement that would run for minutes: a recursive count on SQLite, a sleep on PostgreSQL."""
    if db.is_sqlite:
        return text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000000) SELECT max(x) FROM c")
    return text("SELECT pg_sleep(120)")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, statement_timeout_seconds=TIMEOUT)


async def test_the_database_stops_a_slow_statement_and_the_connection_goes_on(settings: Settings) -> None:
    db = Database(settings.database_url, statement_timeout=TIMEOUT)
    try:
        async with db.read() as session:
            started = time.perf_counter()
            with pytest.raises(DBAPIError) as stopped:
                await session.execute(slow_statement(db))
            elapsed = time.perf_counter() - started
            assert is_statement_timeout(stopped.value)
            assert elapsed < TIMEOUT + 2, f"stopped after {elapsed:.1f} s"
        # The pool's connections work on, and quick statements are not cut short.
        for _ in range(3):
            async with db.read() as session:
                assert await session.scalar(select(func.count()).select_from(Referral)) == 0
    finally:
        await db.dispose()
    # Without a timeout nothing is interrupted (a quick statement, to keep the test quick).
    plain = Database(settings.database_url)
    try:
        async with plain.read() as session:
            assert await session.scalar(text("SELECT 1")) == 1
    finally:
        await plain.dispose()


async def test_a_request_whose_statement_runs_too_long_answers_timeout(
    api: Api, network: Network, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through a test-only slow path: the inbound page's first statement made slow."""
    original = resolvers.live.outbox.latest_seq

    async def slow_latest_seq(session: AsyncSession) -> int:
        await session.execute(slow_statement(db))
        return await original(session)

    monkeypatch.setattr(resolvers.referrals, "latest_seq", slow_latest_seq)
    started = time.perf_counter()
    errors = await api.errors(INBOUND, {"first": 5}, as_=INTAKE)
    assert time.perf_counter() - started < TIMEOUT + 3
    assert errors.codes == ["TIMEOUT"]
    message = errors.errors[0]["message"]
    assert "took too long" in message and "SELECT" not in message and "pg_sleep" not in message


async def test_a_mutation_stopped_midway_writes_nothing(
    api: Api, network: Network, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The referral, its history and its event are inserted before the slow statement: all rolled back."""

    async def slow_planning(session: AsyncSession, **_: Any) -> None:
        await session.execute(slow_statement(db))

    monkeypatch.setattr(resolvers.referrals, "plan_notifications", slow_planning)
    errors = await api.errors(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR)
    assert errors.codes == ["TIMEOUT"]
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 0
    monkeypatch.undo()
    # And the next request is served as usual.
    created = await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR)
    assert created["createReferral"]["status"] == "NOT_UPDATED"
