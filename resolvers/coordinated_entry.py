"""Coordinated Entry: what a CoC's managers watch on the wall display."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from db.accounts import Role
from db.events import ReferralEvent
from db.referrals import IN_PROGRESS, Referral, ReferralStatus
from resolvers import policy
from resolvers.errors import Forbidden
from resolvers.live import Delivery
from resolvers.referrals import REFERRAL_LOAD
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer


def check_wall_access(viewer: Viewer, *, coc_code: str) -> None:
    if viewer.role is not Role.CE_MANAGER or viewer.acting is None or viewer.acting.coc_code != coc_code:
        raise Forbidden("The wall display is for the Coordinated Entry managers of that Continuum of Care.")


async def open_referrals_by_status(runtime: Runtime, viewer: Viewer) -> dict[ReferralStatus, int]:
    """How many of the referrals the viewer may see are still in progress, per status."""
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(Referral.status, func.count())
            .where(policy.referral_filter(viewer), Referral.status.in_(IN_PROGRESS))
            .group_by(Referral.status)
        )
        return {status: count for status, count in rows}


async def waiting_longest(runtime: Runtime, viewer: Viewer, *, first: int) -> list[Referral]:
    """Referrals nobody has acknowledged yet, oldest first."""
    async with runtime.db.read() as session:
        rows = await session.scalars(
            select(Referral)
            .where(policy.referral_filter(viewer), Referral.status == ReferralStatus.NOT_UPDATED)
            .options(*REFERRAL_LOAD)
            .order_by(Referral.created_at, Referral.id)
            .limit(first)
        )
        return list(rows.unique())


async def recent_changes(runtime: Runtime, viewer: Viewer, *, since: datetime, first: int) -> list[Delivery]:
    """Outbox events since `since` about referrals the viewer may see, newest first."""
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(ReferralEvent, Referral)
            .join(Referral, Referral.id == ReferralEvent.referral_id)
            .where(policy.referral_filter(viewer), ReferralEvent.at >= since)
            .options(*REFERRAL_LOAD)
            .order_by(ReferralEvent.seq.desc())
            .limit(first)
        )
        return [
            Delivery(seq=event.seq, kind=event.kind.name, at=event.at, referral=referral)
            for event, referral in rows.unique()
        ]
