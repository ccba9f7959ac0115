"""Writing and reading the event outbox, the ledger behind every live update."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.events import EventKind, ReferralEvent

# Any constant works; it names the lock that keeps outbox numbers in commit order on PostgreSQL.
_EVENT_ORDER_LOCK = 7_270_001


async def record_event(session: AsyncSession, *, referral_id: int, kind: EventKind) -> int:
    """Add an event in the caller's transaction and return its sequence number."""
    if session.bind.dialect.name == "postgresql":
        # Sequence values are handed out at insert but become visible at commit; serializing the
        # writers makes "seq > N" a safe resume point. SQLite's BEGIN IMMEDIATE already does this.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVENT_ORDER_LOCK})
    event = ReferralEvent(referral_id=referral_id, kind=kind, at=utcnow())
    session.add(event)
    await session.flush()
    return event.seq


async def events_after(session: AsyncSession, after_seq: int, *, upto: int | None = None, limit: int = 500) -> Sequence[ReferralEvent]:
    stmt = select(ReferralEvent).where(ReferralEvent.seq > after_seq)
    if upto is not None:
        stmt = stmt.where(ReferralEvent.seq <= upto)
    return (await session.scalars(stmt.order_by(ReferralEvent.seq).limit(limit))).all()


async def latest_seq(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(ReferralEvent.seq), 0))) or 0)


async def oldest_seq(session: AsyncSession) -> int | None:
    return await session.scalar(select(func.min(ReferralEvent.seq)))


async def prune_events(session: AsyncSession, *, retention_days: int) -> int:
    """Drop events older than the replay window; clients behind it are told to refetch."""
    cutoff = utcnow() - timedelta(days=retention_days)
    # The newest event always stays, so the window's start is known even after a quiet spell.
    newest = await latest_seq(session)
    result = await session.execute(
        delete(ReferralEvent).where(ReferralEvent.at < cutoff, ReferralEvent.seq < newest)
    )
    return int(result.rowcount or 0)
