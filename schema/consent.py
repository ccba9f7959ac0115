"""Releases of information and data sharing agreements, as the API shows and takes them."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from db.consent import CaptureMethod, Consent, DataSharingAgreement, GrantedBy, Scope
from resolvers import consent as resolvers
from resolvers.errors import BadInput
from schema.accounts import OrganizationType
from schema.context import Info, require_viewer, runtime_of
from schema.fields import field, mutation
from schema.idempotency import IdempotentInput, once_of
from schema.ids import pk_of, to_global_id

strawberry.enum(Scope, description="A kind of a person's information that a release or an agreement lets across organizations.")
strawberry.enum(GrantedBy, description="Who signed the release: the person, or for a minor their parent or guardian.")
strawberry.enum(CaptureMethod, description="How the release was obtained.")
strawberry.enum(resolvers.ConsentState, name="ConsentState", description="Whether a release is in force today.")


@strawberry.type(name="DataSharingAgreement", description="An agreement (MOA) between organizations to share scopes of data.")
class AgreementType:
    model: strawberry.Private[DataSharingAgreement]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return to_global_id("DataSharingAgreement", self.model.id)

    @strawberry.field
    def name(self) -> str:
        return self.model.name

    @strawberry.field
    def purpose(self) -> str:
        return self.model.purpose

    @strawberry.field
    def parties(self) -> list[OrganizationType]:
        return [OrganizationType(id=to_global_id("Organization", p.organization_id), name=p.organization.name) for p in self.model.parties]

    @strawberry.field
    def scopes(self) -> list[Scope]:
        return [s.scope for s in self.model.scopes]

    @strawberry.field
    def starts_on(self) -> date:
        return self.model.starts_on

    @strawberry.field
    def ends_on(self) -> date | None:
        return self.model.ends_on

    @field(description="Whether the agreement is in force today.")
    def in_force(self) -> bool:
        return resolvers.in_force(self.model)


@strawberry.type(name="Consent", description="A release of information: one person's data, to an organization or an agreement's parties.")
class ConsentType:
    model: strawberry.Private[Consent]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return to_global_id("Consent", self.model.id)

    @strawberry.field
    def seeker_id(self) -> strawberry.ID:
        return to_global_id("Seeker", self.model.seeker_id)

    @strawberry.field
    def to_organization(self) -> OrganizationType | None:
        org = self.model.to_organization
        return OrganizationType(id=to_global_id("Organization", org.id), name=org.name) if org else None

    @strawberry.field
    def to_agreement(self) -> AgreementType | None:
        return AgreementType(model=self.model.to_agreement) if self.model.to_agreement else None

    @strawberry.field
    def scopes(self) -> list[Scope]:
        return [s.scope for s in self.model.scopes]

    @strawberry.field
    def starts_on(self) -> date:
        return self.model.starts_on

    @strawberry.field
    def ends_on(self) -> date:
        return self.model.ends_on

    @field(description="PENDING, ACTIVE, EXPIRED or REVOKED, as of today.")
    def state(self) -> resolvers.ConsentState:
        return resolvers.state_of(self.model)

    @strawberry.field
    def granted_by(self) -> GrantedBy:
        return self.model.granted_by

    @strawberry.field
    def guardian_name(self) -> str | None:
        return self.model.guardian_name

    @strawberry.field
    def guardian_relationship(self) -> str | None:
        return self.model.guardian_relationship

    @strawberry.field
    def captured_how(self) -> CaptureMethod:
        return self.model.captured_how

    @strawberry.field
    def witness_name(self) -> str | None:
        return self.model.witness_name

    @strawberry.field
    def revoked_at(self) -> datetime | None:
        return self.model.revoked_at

    @strawberry.field
    def created_at(self) -> datetime:
        return self.model.created_at


@strawberry.input
class GrantConsentInput(IdempotentInput):
    seeker_id: strawberry.ID
    scopes: list[Scope]
    to_organization_id: strawberry.ID | None = None
    to_agreement_id: strawberry.ID | None = None
    starts_on: date | None = strawberry.field(default=None, description="Today unless given.")
    ends_on: date | None = strawberry.field(default=None, description="Three years after the start unless given.")
    granted_by: GrantedBy = GrantedBy.SEEKER
    guardian_name: str | None = None
    guardian_relationship: str | None = None
    captured_how: CaptureMethod = CaptureMethod.SIGNED_PAPER
    witness_name: str | None = None


@strawberry.input
class CreateAgreementInput(IdempotentInput):
    name: str
    purpose: str
    party_organization_ids: list[strawberry.ID] = strawberry.field(description="The other parties; yours is added.")
    scopes: list[Scope]
    starts_on: date
    ends_on: date | None = None


@strawberry.type
class ConsentQuery:
    @field(description="A person's releases of information, newest first: for them, and for workers who know them.")
    async def consents(self, info: Info, seeker_id: strawberry.ID) -> list[ConsentType]:
        rows = await resolvers.consents_of(
            runtime_of(info), require_viewer(info), seeker_id=pk_of(seeker_id, "Seeker", field="seekerId")
        )
        return [ConsentType(model=c) for c in rows]

    @field(description="The data sharing agreements your organization is party to.")
    async def data_sharing_agreements(self, info: Info) -> list[AgreementType]:
        return [AgreementType(model=a) for a in await resolvers.agreements_for(runtime_of(info), require_viewer(info))]


@strawberry.type
class ConsentMutation:
    @mutation(description="Record a release of information (by the person, or witnessed by a worker who knows them).")
    async def grant_consent(self, info: Info, input: GrantConsentInput) -> ConsentType:
        if len(input.scopes) > len(Scope):
            raise BadInput("Each scope once.", field="scopes")
        new = resolvers.NewConsent(
            seeker_id=pk_of(input.seeker_id, "Seeker", field="seekerId"),
            scopes=input.scopes,
            to_organization_id=pk_of(input.to_organization_id, "Organization", field="toOrganizationId") if input.to_organization_id else None,
            to_agreement_id=pk_of(input.to_agreement_id, "DataSharingAgreement", field="toAgreementId") if input.to_agreement_id else None,
            starts_on=input.starts_on,
            ends_on=input.ends_on,
            granted_by=input.granted_by,
            guardian_name=input.guardian_name,
            guardian_relationship=input.guardian_relationship,
            captured_how=input.captured_how,
            witness_name=input.witness_name,
        )
        return ConsentType(model=await resolvers.grant_consent(runtime_of(info), require_viewer(info), new, request=once_of(info, input)))

    @mutation(description="Revoke a release at once: the next query and the next pushed event no longer use it.")
    async def revoke_consent(self, info: Info, consent_id: strawberry.ID) -> ConsentType:
        consent = await resolvers.revoke_consent(
            runtime_of(info), require_viewer(info), consent_id=pk_of(consent_id, "Consent", field="consentId")
        )
        return ConsentType(model=consent)

    @mutation(description="Record a data sharing agreement between your organization and others (admins).")
    async def create_data_sharing_agreement(self, info: Info, input: CreateAgreementInput) -> AgreementType:
        if len(input.party_organization_ids) > resolvers.MAX_PARTIES or len(input.scopes) > len(Scope):
            raise BadInput(f"An agreement has at most {resolvers.MAX_PARTIES} parties, each scope once.", field="partyOrganizationIds")
        new = resolvers.NewAgreement(
            name=input.name,
            purpose=input.purpose,
            party_organization_ids=[pk_of(o, "Organization", field="partyOrganizationIds") for o in input.party_organization_ids],
            scopes=input.scopes,
            starts_on=input.starts_on,
            ends_on=input.ends_on,
        )
        return AgreementType(model=await resolvers.create_agreement(runtime_of(info), require_viewer(info), new, request=once_of(info, input)))


__all__ = ["AgreementType", "ConsentMutation", "ConsentQuery", "ConsentType", "Scope"]
