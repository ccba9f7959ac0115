"""Coordinated Entry: what a CoC's managers watch on the wall display.

The wall shows the CoC's live referrals only as far as the policy's SHOW_ON_WALL reaches: counts,
program, the seeker's initials, status and times. Referrals to housing programs the CE managers
may also open in full (READ); the rest stay with the program and the referrer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from db.events import OutboxEvent, SubjectType
from db.referrals import IN_PROGRESS, REFERRAL_LOAD, Referral, ReferralStatus
from resolvers.errors import Forbidden
from resolvers.live.hub import Delivery, delivery_of
from resolvers.live.outbox import latest_seq
from resolvers.policy import capabilities
from resolvers.policy import referrals as policy
from resolvers.policy.capabilities import Capability
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer

ON_WALL = policy.Action.SHOW_ON_WALL


def check_wall_access(viewer: Viewer, *, coc_code: str) -> None:
    if not capabilities.can(viewer, Capability.WATCH_WALL, coc_code=coc_code):
        raise Forbidden("The wall display is for the Coordinated Entry managers of that Continuum of Care.")


async def wall_last_seq(runtime: Runtime) -> int:
    async with runtime.db.read() as session:
        return await latest_seq(session)


async def open_referrals_by_status(runtime: Runtime, viewer: Viewer) -> dict[ReferralStatus, int]:
    """How many of the CoC's referrals are still in progress, per status."""
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(Referral.status, func.count())
            .where(policy.where(viewer, ON_WALL), Referral.status.in_(IN_PROGRESS))
            .group_by(Referral.status)
        )
        return {status: count for status, count in rows}


async def waiting_longest(runtime: Runtime, viewer: Viewer, *, first: int) -> tuple[list[Referral], int]:
    """Referrals nobody has acknowledged yet, oldest first, and how many there are in all."""
    waiting = (policy.where(viewer, ON_WALL), Referral.status == ReferralStatus.NOT_UPDATED)
    async with runtime.db.read() as session:
        rows = await session.scalars(
            select(Referral).where(*waiting).options(*REFERRAL_LOAD).order_by(Referral.created_at, Referral.id).limit(first)
        )
        total = await session.scalar(select(func.count()).select_from(Referral).where(*waiting))
        return list(rows.unique()), int(total or 0)


async def recent_changes(runtime: Runtime, viewer: Viewer, *, since: datetime, first: int) -> list[Delivery]:
    """Outbox events since `since` about the CoC's referrals, newest first, each with what it changed."""
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(OutboxEvent, Referral)
            .join(Referral, Referral.id == OutboxEvent.subject_id)
            .where(OutboxEvent.subject_type == SubjectType.REFERRAL, policy.where(viewer, ON_WALL), OutboxEvent.at >= since)
            .options(*REFERRAL_LOAD)
            .order_by(OutboxEvent.seq.desc())
            .limit(first)
        )
        return [delivery_of(event, referral) for event, referral in rows.unique()]
