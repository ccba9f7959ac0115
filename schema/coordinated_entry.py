"""Coordinated Entry: the wall display's board."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry

from db.base import utcnow
from db.referrals import IN_PROGRESS
from resolvers.coordinated_entry import check_wall_access, open_referrals_by_status, recent_changes, waiting_longest
from resolvers.pagination import clamp_first
from resolvers.viewer import Viewer
from schema.context import Info, require_viewer, runtime_of
from schema.enums import ReferralStatus
from schema.referrals import ReferralEventType, ReferralType


@strawberry.type
class StatusCount:
    status: ReferralStatus
    count: int


@strawberry.type(name="Wallboard", description="What the CE wall display shows for one Continuum of Care.")
class WallboardType:
    viewer: strawberry.Private[Viewer]
    last_seq: int = strawberry.field(
        description="The newest event already reflected here: subscribe with it as `afterSeq` to miss nothing."
    )

    @strawberry.field(description="Open (in progress) live referrals to the CoC's programs, by status.")
    async def open_by_status(self, info: Info) -> list[StatusCount]:
        counts = await open_referrals_by_status(runtime_of(info), self.viewer)
        return [StatusCount(status=s, count=counts.get(s, 0)) for s in ReferralStatus if s in IN_PROGRESS]

    @strawberry.field(description="Referrals nobody has acknowledged yet, oldest first.")
    async def waiting_longest(self, info: Info, first: int = 10) -> list[ReferralType]:
        referrals = await waiting_longest(runtime_of(info), self.viewer, first=clamp_first(first, 10))
        return [ReferralType.from_model(r) for r in referrals]

    @strawberry.field(description="Changes in the last 24 hours (or since `since`), newest first.")
    async def changes_today(
        self, info: Info, first: int = 50, since: datetime | None = None
    ) -> list[ReferralEventType]:
        deliveries = await recent_changes(
            runtime_of(info),
            self.viewer,
            since=since or utcnow() - timedelta(hours=24),
            first=clamp_first(first, 50),
        )
        return [ReferralEventType.from_delivery(d) for d in deliveries]


@strawberry.type
class CoordinatedEntryQuery:
    @strawberry.field(description="The CE wall display's board; for the CoC's Coordinated Entry managers.")
    def wallboard(self, info: Info, coc_code: str) -> WallboardType:
        viewer = require_viewer(info)
        check_wall_access(viewer, coc_code=coc_code)
        # Read before the board's own queries run, so nothing between the two can fall through.
        return WallboardType(viewer=viewer, last_seq=runtime_of(info).live.last_seq)
