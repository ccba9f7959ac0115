"""`familiesKnownToBoth`: the households an agreement's parties both know, named only under consent."""

from __future__ import annotations

import strawberry

from resolvers.families import Families, KnownFamily, Party, Person, families_known_to_both
from resolvers.pagination import clamp_first
from schema.connections import Connection
from schema.consent import AgreementType
from schema.context import Info, require_viewer, runtime_of
from schema.fields import field
from schema.ids import pk_of, to_global_id


@strawberry.type(name="AgreementParty", description="A party to an agreement, with what kind of agency it is.")
class AgreementPartyType:
    model: strawberry.Private[Party]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return to_global_id("Organization", self.model.id)

    @strawberry.field
    def name(self) -> str:
        return self.model.name

    @field(description="Marked as a child welfare agency.")
    def child_welfare(self) -> bool:
        return self.model.child_welfare

    @field(description="Marked as a housing provider, or runs a HOUSING program or a HUD project.")
    def housing(self) -> bool:
        return self.model.housing


@strawberry.type(name="FamilyMember", description="A person of a household known to both; the head first.")
class FamilyMemberType:
    model: strawberry.Private[Person]

    @strawberry.field
    def seeker_id(self) -> strawberry.ID:
        return to_global_id("Seeker", self.model.id)

    @strawberry.field
    def first_name(self) -> str:
        return self.model.first_name

    @strawberry.field
    def last_name(self) -> str:
        return self.model.last_name


@strawberry.type(name="KnownFamily", description="A household known to both, whose head released REFERRALS.")
class KnownFamilyType:
    model: strawberry.Private[KnownFamily]

    @field(description="The head of household (or the person, if on no case).")
    def head_seeker_id(self) -> strawberry.ID:
        return to_global_id("Seeker", self.model.head.id)

    @strawberry.field
    def members(self) -> list[FamilyMemberType]:
        return [FamilyMemberType(model=p) for p in self.model.members]

    @field(description="The agreement's parties that know this household.")
    def known_to(self) -> list[AgreementPartyType]:
        return [AgreementPartyType(model=p) for p in self.model.known_to]


@strawberry.type
class KnownFamilyConnection(Connection[KnownFamilyType]):
    pass


@strawberry.type(
    name="FamiliesKnownToBoth",
    description="The households known to a child welfare party and a housing party of an agreement (docs/architecture.md, "
    "“Families known to both”).",
)
class FamiliesKnownToBothType:
    model: strawberry.Private[Families]
    families: KnownFamilyConnection

    @strawberry.field
    def agreement(self) -> AgreementType:
        return AgreementType(model=self.model.agreement)

    @field(description="The agreement's parties and their kinds.")
    def parties(self) -> list[AgreementPartyType]:
        return [AgreementPartyType(model=p) for p in self.model.parties]

    @field(description="How many households are listed in `families`, over every page.")
    def named_count(self) -> int:
        return self.model.named

    @field(description="How many more households are known to both but have not consented: a count, never who.")
    def not_consented_count(self) -> int:
        return self.model.not_consented


@strawberry.type
class FamiliesQuery:
    @field(
        description="For an admin of a party to a data sharing agreement in force: the households known to both a child "
        "welfare party and a housing party of it. Named under a release of REFERRALS; everyone else is only counted. "
        "Others: FORBIDDEN."
    )
    async def families_known_to_both(
        self, info: Info, agreement_id: strawberry.ID, first: int | None = 50, after: str | None = None
    ) -> FamiliesKnownToBothType:
        result = await families_known_to_both(
            runtime_of(info),
            require_viewer(info),
            agreement_id=pk_of(agreement_id, "DataSharingAgreement", field="agreementId"),
            first=clamp_first(first, 50),
            after=after,
        )
        return FamiliesKnownToBothType(
            model=result, families=KnownFamilyConnection.of(result.page, lambda f: KnownFamilyType(model=f))
        )
