"""Who is asking: the user and the membership they act in."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.accounts import Membership, Organization, Role, User
from db.seekers import Seeker


@dataclass(frozen=True)
class MembershipInfo:
    organization_id: int
    organization_name: str
    coc_id: int | None
    coc_code: str | None
    role: Role
    team_id: int | None
    site_id: int | None


@dataclass(frozen=True)
class Viewer:
    # None for someone acting through a signed email link without an account of their own.
    user_id: int | None
    email: str
    name: str
    role: Role
    seeker_id: int | None = None
    acting: MembershipInfo | None = None
    memberships: tuple[MembershipInfo, ...] = field(default_factory=tuple)
    # Through what the viewer acts now, for the audit log: "query Inbound.inboundReferrals",
    # "email-link", "export", "cli". The API layer sets it per root field; it is not who they are.
    operation: str = field(default="", compare=False)
    # The sign-in session the viewer's token names (None for an email link or the command line).
    session_id: str | None = field(default=None, compare=False)

    @property
    def organization_id(self) -> int | None:
        return self.acting.organization_id if self.acting else None

    @property
    def team_id(self) -> int | None:
        return self.acting.team_id if self.acting else None

    @property
    def coc_id(self) -> int | None:
        return self.acting.coc_id if self.acting else None


async def load_viewers(session: AsyncSession, user_ids: Collection[int]) -> dict[int, Viewer]:
    """Viewers for many users in a fixed number of statements; disabled or deleted accounts are left out."""
    if not user_ids:
        return {}
    users = await session.scalars(
        select(User)
        .where(User.id.in_(user_ids), User.is_active.is_(True))
        .options(
            selectinload(User.memberships).joinedload(Membership.organization).joinedload(Organization.coc)
        )
    )
    rows = await session.execute(select(Seeker.user_id, Seeker.id).where(Seeker.user_id.in_(user_ids)))
    seekers = {user_id: seeker_id for user_id, seeker_id in rows}
    return {user.id: _viewer_of(user, seekers.get(user.id)) for user in users}


async def load_viewer(session: AsyncSession, user_id: int) -> Viewer | None:
    """The viewer for a signed-in user, or None if the account is gone or disabled."""
    return (await load_viewers(session, [user_id])).get(user_id)


def _viewer_of(user: User, seeker_id: int | None) -> Viewer:
    memberships = tuple(
        MembershipInfo(
            organization_id=m.organization_id,
            organization_name=m.organization.name,
            coc_id=m.organization.coc_id,
            coc_code=m.organization.coc.code if m.organization.coc else None,
            role=m.role,
            team_id=m.team_id,
            site_id=m.site_id,
        )
        for m in sorted(user.memberships, key=lambda m: m.id)
    )
    acting = next((m for m in memberships if m.organization_id == user.acting_organization_id), None)
    if acting is None and memberships:
        acting = memberships[0]
    return Viewer(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=acting.role if acting else Role.SEEKER,
        seeker_id=seeker_id,
        acting=acting,
        memberships=memberships,
    )
