"""Seekers as a viewer may see them: contact details only where the seeker allows."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.referrals import REFERRAL_ORDER, Referral
from db.seekers import Seeker
from resolvers.pagination import Page, clamp_first, first_page_of
from resolvers.policy import referrals as referral_policy
from resolvers.policy import seekers as seeker_policy
from resolvers.seekers import (
    ClientElements,
    Profile,
    seeker_profiles,
    update_client_elements,
    update_my_contact_preference,
)
from schema.connections import Connection
from schema.context import Info, loaders_of, require_viewer, runtime_of
from schema.enums import ContactPreference
from schema.fields import field, mutation
from schema.ids import Node, pk_of, to_global_id

if TYPE_CHECKING:
    from schema.referrals import ReferralConnection


@strawberry.type(name="HmisClientElements", description="HMIS universal data elements, as HUD codes them.")
class HmisClientElementsType:
    name_data_quality: int = strawberry.field(description="3.01.5")
    dob: date | None
    dob_data_quality: int = strawberry.field(description="3.03.2")
    races: list[str] = strawberry.field(description="Client.csv's race and ethnicity columns that apply.")
    race_none: int | None = strawberry.field(description="1.6, when no race is given.")
    genders: list[str] = strawberry.field(description="Client.csv's gender columns that apply.")
    gender_none: int | None = strawberry.field(description="1.6, when no gender is given.")
    veteran_status: int = strawberry.field(description="1.8")

    @classmethod
    def of(cls, seeker: Seeker) -> HmisClientElementsType:
        return cls(
            name_data_quality=seeker.name_data_quality,
            dob=seeker.dob,
            dob_data_quality=seeker.dob_data_quality,
            races=list(seeker.races or []),
            race_none=seeker.race_none,
            genders=list(seeker.genders or []),
            gender_none=seeker.gender_none,
            veteran_status=seeker.veteran_status,
        )


@strawberry.type(name="Seeker")
class SeekerType(Node):
    model: strawberry.Private[Seeker]
    show_contact: strawberry.Private[bool]
    show_hmis: strawberry.Private[bool] = False
    # Filled by lists that already fetched each person's referrals in one query.
    prefetched_referrals: strawberry.Private[list[Referral] | None] = None

    @classmethod
    def from_profile(cls, profile: Profile, *, referrals: list[Referral] | None = None) -> SeekerType:
        seeker = cls._of(profile.seeker, show_contact=seeker_policy.Field.CONTACT in profile.fields, referrals=referrals)
        seeker.show_hmis = seeker_policy.Field.HMIS_ELEMENTS in profile.fields
        return seeker

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

    @field(description="HMIS elements; null where the viewer may not see them (the person, their navigators, and programs that enrolled them may).")
    def hmis(self) -> HmisClientElementsType | None:
        return HmisClientElementsType.of(self.model) if self.show_hmis else None

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
            page = await loaders_of(info).seeker_referrals(viewer, self.model.id, first=limit, after=after)
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


@strawberry.input
class UpdateClientElementsInput:
    seeker_id: strawberry.ID
    name_data_quality: int | None = strawberry.field(default=None, description="3.01.5")
    dob: date | None = strawberry.field(default=None, description="Not in the future, not before 1900.")
    dob_data_quality: int | None = strawberry.field(default=None, description="3.03.2; 1 when only a dob is given.")
    races: list[str] | None = strawberry.field(
        default=None, description="Client.csv's race columns, e.g. [\"Asian\"]; [] clears them."
    )
    race_none: int | None = strawberry.field(default=None, description="1.6; only when no race is given.")
    genders: list[str] | None = strawberry.field(default=None, description="Client.csv's gender columns, e.g. [\"Woman\"].")
    gender_none: int | None = strawberry.field(default=None, description="1.6; only when no gender is given.")
    veteran_status: int | None = strawberry.field(default=None, description="1.8")


@strawberry.input
class UpdateMyContactPreferenceInput:
    contact_preference: ContactPreference


@strawberry.type
class SeekerMutation:
    @mutation(
        description=(
            "How you want programs and navigators to reach you (seekers signed in to their own account); "
            "EMAIL needs an email address on file, TEXT and PHONE a phone number."
        )
    )
    async def update_my_contact_preference(self, info: Info, input: UpdateMyContactPreferenceInput) -> SeekerType:
        profile = await update_my_contact_preference(runtime_of(info), require_viewer(info), input.contact_preference)
        return SeekerType.from_profile(profile)

    @mutation(description="Record a person's HMIS elements; what is not given stays as it is.")
    async def update_client_elements(self, info: Info, input: UpdateClientElementsInput) -> SeekerType:
        elements = ClientElements(
            name_data_quality=input.name_data_quality,
            dob=input.dob,
            dob_data_quality=input.dob_data_quality,
            races=input.races,
            race_none=input.race_none,
            genders=input.genders,
            gender_none=input.gender_none,
            veteran_status=input.veteran_status,
        )
        profile = await update_client_elements(
            runtime_of(info), require_viewer(info), pk_of(input.seeker_id, "Seeker", field="seekerId"), elements
        )
        return SeekerType.from_profile(profile)
