"""`auditTrail`: the log of who read, changed or was pushed a seeker's personal data.

For an organization's admins (what their members did acting for it) and for a person about
their own record ("who looked at my record"); everyone else is refused. See resolvers/policy/audit.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry

from db.audit import AuditAction as _AuditAction
from db.audit import AuditSubject as _AuditSubject
from db.audit import Scope as _Scope
from resolvers.audit import TrailEntry, TrailFilter, audit_trail
from resolvers.pagination import clamp_first
from schema.connections import Connection
from schema.context import Info, require_viewer, runtime_of
from schema.enums import Role
from schema.fields import field
from schema.ids import pk_of, to_global_id

# As in schema/enums.py: strawberry.enum registers the GraphQL enum on the domain class and returns it.
strawberry.enum(_Scope, name="AuditScope", description="A kind of personal data about a seeker.")
strawberry.enum(_AuditAction, description="READ, WRITE, or PUSH: an event pushed live to one subscriber.")
strawberry.enum(_AuditSubject, description="What an audit entry is about, beside the seeker.")
AuditScope: TypeAlias = _Scope
AuditAction: TypeAlias = _AuditAction
AuditSubject: TypeAlias = _AuditSubject

_GLOBAL_TYPES = {
    _AuditSubject.SEEKER: "Seeker",
    _AuditSubject.REFERRAL: "Referral",
    _AuditSubject.ENROLLMENT: "Enrollment",
    _AuditSubject.CE_ASSESSMENT: "CeAssessment",
    _AuditSubject.PRIORITY_LIST: "PriorityListEntry",
    _AuditSubject.CE_EVENT: "CeEvent",
    _AuditSubject.EXPORT: "Export",
}


@strawberry.type(name="AuditEntry", description="One read, write or push of a seeker's personal data.")
class AuditEntryType:
    model: strawberry.Private[TrailEntry]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return to_global_id("AuditEntry", self.model.entry.id)

    @strawberry.field
    def at(self) -> datetime:
        return self.model.entry.at

    @strawberry.field
    def action(self) -> AuditAction:
        return self.model.entry.action

    @field(description="What was touched, e.g. [NAME, CONTACT, COMMENTS].")
    def scopes(self) -> list[AuditScope]:
        return self.model.scopes

    @field(description="The GraphQL operation and root field (\"query Inbound.inboundReferrals\"), or email-link, export, cli.")
    def operation(self) -> str:
        return self.model.entry.operation

    @field(description="The organization the actor acted for; null for a seeker, an operator, or an address.")
    def organization_name(self) -> str | None:
        return self.model.organization_name

    @field(description="The organization's id, where it is shown.")
    def organization_id(self) -> strawberry.ID | None:
        organization = self.model.entry.acting_organization_id
        return to_global_id("Organization", organization) if organization is not None and self.model.organization_name else None

    @field(description="The role the actor acted in.")
    def acting_role(self) -> Role | None:
        return self.model.entry.acting_role

    @field(description="Who acted: their name; null for the seeker's own trail (that is the staff member's data).")
    def actor_name(self) -> str | None:
        return self.model.actor_name

    @field(description="Who acted: their email, or the address an email link was sent to; null for the seeker's own trail.")
    def actor_email(self) -> str | None:
        return self.model.actor_email

    @field(description="Whose record it was.")
    def seeker_id(self) -> strawberry.ID | None:
        return to_global_id("Seeker", self.model.entry.seeker_id) if self.model.show_seeker else None

    @strawberry.field
    def subject_type(self) -> AuditSubject | None:
        return self.model.entry.subject_type

    @field(description="The subject's global id (e.g. a Referral's); an Export's is its outbox event number.")
    def subject_id(self) -> strawberry.ID | None:
        entry = self.model.entry
        if entry.subject_type is None or entry.subject_id is None:
            return None
        return to_global_id(_GLOBAL_TYPES[entry.subject_type], entry.subject_id)


@strawberry.type
class AuditEntryConnection(Connection[AuditEntryType]):
    pass


@strawberry.type
class AuditQuery:
    @field(
        description=(
            "Who read, changed or was pushed a seeker's personal data, newest first: an admin reads what the members of "
            "the organization they act for did; a seeker reads every entry about themself. Others: FORBIDDEN."
        )
    )
    async def audit_trail(
        self,
        info: Info,
        seeker_id: strawberry.ID | None = None,
        organization_id: strawberry.ID | None = None,
        from_: Annotated[
            datetime | None, strawberry.argument(name="from", description="From this moment (with a time zone).")
        ] = None,
        to: Annotated[datetime | None, strawberry.argument(description="Up to this moment (with a time zone).")] = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> AuditEntryConnection:
        narrow = TrailFilter(
            seeker_id=pk_of(seeker_id, "Seeker", field="seekerId") if seeker_id else None,
            organization_id=pk_of(organization_id, "Organization", field="organizationId") if organization_id else None,
            start=from_,
            end=to,
        )
        page = await audit_trail(
            runtime_of(info).db, require_viewer(info), narrow, first=clamp_first(first, 50), after=after
        )
        return AuditEntryConnection.of(page, lambda e: AuditEntryType(model=e))
