"""Writing and reading the event outbox, the ledger behind every live update and replay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import delete, func, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from db.base import utcnow
from db.events import EventKind, OutboxEvent, SubjectType
from db.numbering import number_events, numbers_at_commit, provisional_seq
from db.referrals import ChangeSource
from resolvers.viewer import Viewer

# The session.info key of the events a transaction has recorded.
_RECORDED = "referloop_recorded_events"


async def record_event(
    session: AsyncSession,
    *,
    subject_type: SubjectType,
    subject_id: int,
    kind: EventKind,
    actor: Viewer,
    source: ChangeSource,
    change: dict[str, Any],
) -> OutboxEvent:
    """Add an event in the caller's transaction.

    On SQLite it comes back numbered. On PostgreSQL its `seq` is provisional (negative) until the
    transaction commits, when it is numbered in commit order (db.numbering): notifications planned
    from it follow. Whoever needs the final number before the commit calls `number_now`.
    """
    event = OutboxEvent(
        subject_type=subject_type,
        subject_id=subject_id,
        kind=kind,
        actor_user_id=actor.user_id,
        actor_organization_id=actor.organization_id,
        source=source,
        change=change,
        at=utcnow(),
    )
    if numbers_at_commit(session.sync_session):
        event.seq = await session.run_sync(provisional_seq, event)
    session.add(event)
    await session.flush()
    session.info.setdefault(_RECORDED, []).append(event)
    return event


def recorded_events(session: AsyncSession) -> list[OutboxEvent]:
    """The events this transaction has recorded: numbered for good once it has committed."""
    return list(session.info.get(_RECORDED, ()))


async def number_now(session: AsyncSession) -> None:
    """Number the transaction's events at once; the ordering lock is then held until it commits."""
    if numbers_at_commit(session.sync_session):
        await session.run_sync(number_events)


async def events_after(
    session: AsyncSession, after_seq: int, *, upto: int | None = None, limit: int = 500
) -> Sequence[OutboxEvent]:
    stmt = select(OutboxEvent).where(OutboxEvent.seq > after_seq).options(joinedload(OutboxEvent.actor))
    if upto is not None:
        stmt = stmt.where(OutboxEvent.seq <= upto)
    return (await session.scalars(stmt.order_by(OutboxEvent.seq).limit(limit))).all()


async def latest_seq(session: AsyncSession) -> int:
    """The newest committed event: a page read after this can subscribe from it and miss nothing.

    Inside a write transaction on PostgreSQL the transaction's own events are still provisional
    (negative, db/numbering.py) until it commits: they are not counted.
    """
    return int(await session.scalar(select(func.coalesce(func.max(OutboxEvent.seq), 0)).where(OutboxEvent.seq > 0)) or 0)


async def oldest_seq(session: AsyncSession) -> int | None:
    return await session.scalar(select(func.min(OutboxEvent.seq)).where(OutboxEvent.seq > 0))


async def prune_events(session: AsyncSession, *, retention_days: int) -> int:
    """Drop events older than the replay window; clients behind it are told to refetch."""
    cutoff = utcnow() - timedelta(days=retention_days)
    # The newest event always stays, so the window's start is known even after a quiet spell.
    newest = await latest_seq(session)
    # A DELETE without RETURNING gives a CursorResult; Session.execute is typed as the base Result.
    result = cast(
        "CursorResult[Any]",
        await session.execute(delete(OutboxEvent).where(OutboxEvent.at < cutoff, OutboxEvent.seq < newest)),
    )
    return int(result.rowcount or 0)
