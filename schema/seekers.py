"""Seekers as a viewer may see them: contact details only where the seeker allows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.referrals import REFERRAL_ORDER, Referral
from db.seekers import Seeker
from resolvers.pagination import Page, clamp_first, first_page_of
from resolvers.policy import referrals as referral_policy
from resolvers.policy import seekers as seeker_policy
from resolvers.referrals import seeker_referrals
from resolvers.seekers import Profile, seeker_profiles
from schema.connections import Connection
from schema.context import Info, require_viewer, runtime_of
from schema.enums import ContactPreference
from schema.fields import field
from schema.ids import Node, to_global_id

if TYPE_CHECKING:
    from schema.referrals import ReferralConnection


@strawberry.type(name="Seeker")
class SeekerType(Node):
    model: strawberry.Private[Seeker]
    show_contact: strawberry.Private[bool]
    # Filled by lists that already fetched each person's referrals in one query.
    prefetched_referrals: strawberry.Private[list[Referral] | None] = None

    @classmethod
    def from_profile(cls, profile: Profile, *, referrals: list[Referral] | None = None) -> SeekerType:
        return cls._of(profile.seeker, show_contact=seeker_policy.Field.CONTACT in profile.fields, referrals=referrals)

    @classmethod
    def from_referral(cls, referral: Referral, fields: frozenset[referral_policy.Field]) -> SeekerType:
        """The seeker as seen through one referral, with that referral's field rules."""
        return cls._of(referral.seeker, show_contact=referral_policy.Field.SEEKER_CONTACT in fields)

    @classmethod
    def _of(cls, seeker: Seeker, *, show_contact: bool, referrals: list[Referral] | None = None) -> SeekerType:
        return cls(id=to_global_id("Seeker", seeker.id), model=seeker, show_contact=show_contact, prefetched_referrals=referrals)

    @strawberry.field
    def first_name(self) -> str:
        return self.model.first_name

    @strawberry.field
    def last_name(self) -> str:
        return self.model.last_name

    @field(description="Null where the viewer may not see it.")
    def email(self) -> str | None:
        return self.model.email if self.show_contact else None

    @field(description="E.164; null where the viewer may not see it.")
    def phone(self) -> str | None:
        return self.model.phone if self.show_contact else None

    @strawberry.field
    def contact_preference(self) -> ContactPreference:
        return self.model.contact_preference

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.model.updated_at

    @field(description="This person's referrals that the viewer may see, newest first.")
    async def referrals(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> Annotated[ReferralConnection, strawberry.lazy("schema.referrals")]:
        from schema.referrals import ReferralConnection, ReferralType

        viewer = require_viewer(info)
        limit = clamp_first(first, 50)
        if self.prefetched_referrals is not None and after is None:
            page = first_page_of(self.prefetched_referrals, order=REFERRAL_ORDER, first=limit)
        else:
            page = await seeker_referrals(runtime_of(info), viewer, seeker_id=self.model.id, first=limit, after=after)
        return ReferralConnection.of(page, ReferralType.from_model)


@strawberry.type
class SeekerQuery:
    @field(description="Typeahead over the 300 most recently updated seeker profiles you can access.")
    async def seeker_profiles(
        self, info: Info, search: str | None = None, first: int | None = 20
    ) -> Connection[SeekerType]:
        found = await seeker_profiles(runtime_of(info), require_viewer(info), search=search, first=clamp_first(first, 20))
        cursors: list[str] = [to_global_id("Seeker", p.seeker.id) for p in found]
        page = Page(items=found, cursors=cursors, has_next_page=False, has_previous_page=False)
        return Connection.of(page, SeekerType.from_profile)
