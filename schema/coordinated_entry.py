"""Coordinated Entry: the wall display's board and its live stream, in the wall's own minimal shapes."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta

import strawberry

from db.base import utcnow
from db.referrals import IN_PROGRESS, Referral
from db.referrals import ReferralStatus as DomainReferralStatus
from resolvers.coordinated_entry import (
    ON_WALL,
    check_wall_access,
    open_referrals_by_status,
    recent_changes,
    waiting_longest,
    wall_last_seq,
)
from resolvers.errors import BadInput
from resolvers.live.hub import Delivery, referral_changes
from resolvers.pagination import clamp_first
from resolvers.policy import referrals as policy
from resolvers.viewer import Viewer
from schema.context import Info, require_viewer, runtime_of
from schema.enums import ReferralEventKind, ReferralStatus
from schema.fields import field, subscription
from schema.ids import to_global_id


@strawberry.type
class StatusCount:
    status: ReferralStatus
    count: int


@strawberry.type(name="WallProgram")
class WallProgramType:
    name: str
    organization_name: str


@strawberry.type(name="WallReferral", description="A referral as the wall shows it: no names, no contact details, no comments.")
class WallReferralType:
    model: strawberry.Private[Referral]
    viewer: strawberry.Private[Viewer]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return to_global_id("Referral", self.model.id)

    @strawberry.field
    def status(self) -> ReferralStatus:
        return self.model.status

    @strawberry.field
    def program(self) -> WallProgramType:
        return WallProgramType(name=self.model.program.name, organization_name=self.model.program.organization.name)

    @field(description="The seeker's initials, e.g. “M. L.”; null where the viewer may not see them.")
    def seeker_initials(self) -> str | None:
        if policy.Field.SEEKER_INITIALS not in policy.visible_fields(self.viewer, self.model):
            return None
        seeker = self.model.seeker
        return " ".join(f"{n.strip()[0].upper()}." for n in (seeker.first_name, seeker.last_name) if n.strip())

    @strawberry.field
    def created_at(self) -> datetime:
        return self.model.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.model.updated_at


@strawberry.type(name="WallChange", description="One change as the wall's Today feed tells it.")
class WallChangeType:
    seq: int
    kind: ReferralEventKind
    at: datetime
    from_status: ReferralStatus | None
    to_status: ReferralStatus | None
    referral: WallReferralType | None

    @classmethod
    def from_delivery(cls, d: Delivery, viewer: Viewer) -> WallChangeType:
        moved_from, moved_to = d.event.statuses() if d.event else (None, None)
        return cls(
            seq=d.seq,
            kind=ReferralEventKind[d.kind],
            at=d.at,
            from_status=moved_from,
            to_status=moved_to,
            referral=WallReferralType(model=d.referral, viewer=viewer) if d.referral else None,
        )


@strawberry.type(name="Wallboard", description="What the CE wall display shows for one Continuum of Care.")
class WallboardType:
    viewer: strawberry.Private[Viewer]
    last_seq: int = strawberry.field(
        description="The newest event already reflected here: subscribe with it as `afterSeq` to miss nothing."
    )

    @field(description="Open (in progress) live referrals to the CoC's programs, by status.")
    async def open_by_status(self, info: Info) -> list[StatusCount]:
        counts = await open_referrals_by_status(runtime_of(info), self.viewer)
        return [StatusCount(status=s, count=counts.get(s, 0)) for s in DomainReferralStatus if s in IN_PROGRESS]

    @field(description="Referrals nobody has acknowledged yet, oldest first.")
    async def waiting_longest(self, info: Info, first: int = 10) -> list[WallReferralType]:
        referrals, _total = await waiting_longest(runtime_of(info), self.viewer, first=clamp_first(first, 10))
        return [WallReferralType(model=r, viewer=self.viewer) for r in referrals]

    @field(description="Changes in the last 24 hours (or since `since`, with a time zone), newest first.")
    async def changes_today(self, info: Info, first: int = 50, since: datetime | None = None) -> list[WallChangeType]:
        if since is not None and since.tzinfo is None:
            raise BadInput("`since` needs a time zone, e.g. 2026-12-01T08:00:00Z.", field="since")
        deliveries = await recent_changes(
            runtime_of(info),
            self.viewer,
            since=since or utcnow() - timedelta(hours=24),
            first=clamp_first(first, 50),
        )
        return [WallChangeType.from_delivery(d, self.viewer) for d in deliveries]


@strawberry.type
class CoordinatedEntryQuery:
    @field(description="The CE wall display's board; for the CoC's Coordinated Entry managers.")
    async def wallboard(self, info: Info, coc_code: str) -> WallboardType:
        viewer = require_viewer(info)
        check_wall_access(viewer, coc_code=coc_code)
        # Read before the board's own queries run, so nothing between the two can fall through.
        return WallboardType(viewer=viewer, last_seq=await wall_last_seq(runtime_of(info)))


@strawberry.type
class CoordinatedEntrySubscription:
    @subscription(
        description="Every change the wall shows, as it is committed; `afterSeq` replays what you missed."
    )
    async def wallboard_changed(
        self, info: Info, coc_code: str, after_seq: int | None = None
    ) -> AsyncGenerator[WallChangeType, None]:
        viewer = require_viewer(info)
        check_wall_access(viewer, coc_code=coc_code)
        async for delivery in referral_changes(runtime_of(info).live, viewer, after_seq=after_seq, action=ON_WALL):
            yield WallChangeType.from_delivery(delivery, viewer)
