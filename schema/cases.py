"""Shared cases as each member may see them: the same case looks different across agencies when consent says so."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from db.cases import (
    AssistanceKind,
    CaseMember,
    CaseRecord,
    CaseRole,
    CaseStage,
    ClosureReason,
    ContactType,
    GoalStatus,
    Intensity,
    RecordKind,
)

from resolvers import cases as resolvers
from resolvers.errors import BadInput
from resolvers.pagination import clamp_first
from resolvers.policy import cases as policy
from schema.accounts import OrganizationType, PersonType
from schema.connections import Connection
from schema.consent import Scope  # registered there, before any type here resolves it
from schema.context import Info, require_viewer, runtime_of
from schema.fields import field, mutation, subscription
from schema.idempotency import IdempotentInput, once_of
from schema.ids import pk_of, to_global_id

strawberry.enum(CaseStage, description="Where a case stands: obtaining housing, moved in, stabilizing, closed.")
strawberry.enum(ClosureReason, description="Why a case closed.")
strawberry.enum(CaseRole, description="A worker's part on a case.")
strawberry.enum(GoalStatus, description="How far a participant's goal has come.")
strawberry.enum(ContactType, description="How a service contact took place.")
strawberry.enum(Intensity, description="How much support the household needs now; it rises and falls.")
strawberry.enum(AssistanceKind, description="What a rapid re-housing payment was for.")
strawberry.enum(RecordKind, name="CaseRecordKind", description="What an entry of a case file is.")
strawberry.enum(policy.Action, name="CaseAction", description="What a viewer may do with a case.")

MAX_LIST = 30

def _gid(kind: str, pk: int) -> strawberry.ID:
    return to_global_id(kind, pk)

@strawberry.type(name="CaseHouseholdMember")
class HouseholdMemberType:
    seeker_id: strawberry.ID
    is_head: bool
    first_name: str
    last_name: str
    email: str | None
    phone: str | None

@strawberry.type(name="CaseWorker", description="A worker on the case, and the organization they act for on it.")
class CaseWorkerType:
    id: strawberry.ID
    person: PersonType
    organization: OrganizationType
    role: CaseRole
    added_on: date

    @classmethod
    def of(cls, m: CaseMember) -> CaseWorkerType:
        person = PersonType.from_user(m.user)
        assert person is not None
        return cls(
            id=_gid("CaseMember", m.id),
            person=person,
            organization=OrganizationType(id=_gid("Organization", m.organization_id), name=m.organization.name),
            role=m.role,
            added_on=m.added_on,
        )

@strawberry.type(name="NextStep")
class NextStepType:
    who: str
    what: str
    by: date | None

@strawberry.type(name="CaseRecord", description="One entry of the case file; the fields of its kind are filled, the others null.")
class CaseRecordType:
    model: strawberry.Private[CaseRecord]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return _gid("CaseRecord", self.model.id)

    @strawberry.field
    def kind(self) -> RecordKind:
        return self.model.kind

    @field(description="The consent scope the entry falls under.")
    def scope(self) -> Scope:
        return self.model.scope

    @field(description="The organization that wrote it.")
    def organization_id(self) -> strawberry.ID:
        return _gid("Organization", self.model.organization_id)

    @strawberry.field
    def on(self) -> date:
        return self.model.on

    @field(description="A note's text, a goal in the participant's own words, a conference's decisions, a contact's summary.")
    def body(self) -> str:
        return self.model.body

    @strawberry.field
    def version(self) -> int:
        return self.model.version

    def _d(self, key: str) -> Any:
        return self.model.details.get(key)

    @strawberry.field
    def goal_status(self) -> GoalStatus | None:
        value = self._d("status")
        return GoalStatus[value] if value else None

    @strawberry.field
    def target_date(self) -> date | None:
        value = self._d("targetDate")
        return date.fromisoformat(value) if value else None

    @strawberry.field
    def contact_type(self) -> ContactType | None:
        value = self._d("type")
        return ContactType[value] if value and self.model.kind is RecordKind.CONTACT else None

    @strawberry.field
    def minutes(self) -> int | None:
        value = self._d("minutes")
        return int(value) if value is not None else None

    @strawberry.field
    def location(self) -> str | None:
        value = self._d("location")
        return str(value) if value is not None else None

    @strawberry.field
    def intensity(self) -> Intensity | None:
        value = self._d("intensity")
        return Intensity[value] if value else None

    @strawberry.field
    def strengths(self) -> str | None:
        value = self._d("strengths")
        return str(value) if value is not None else None

    @strawberry.field
    def attendees(self) -> list[str] | None:
        value = self._d("attendees")
        return [str(a) for a in value] if value is not None else None

    @strawberry.field
    def next_steps(self) -> list[NextStepType] | None:
        steps = self._d("nextSteps")
        if steps is None:
            return None
        return [NextStepType(who=s["who"], what=s["what"], by=date.fromisoformat(s["by"]) if s.get("by") else None) for s in steps]

    @strawberry.field
    def assistance_kind(self) -> AssistanceKind | None:
        value = self._d("kind")
        return AssistanceKind[value] if value else None

    @field(description="Dollars and cents, as a decimal string.")
    def amount(self) -> str | None:
        value = self._d("amount")
        return str(value) if value is not None else None

    @strawberry.field
    def payee(self) -> str | None:
        value = self._d("payee")
        return str(value) if value is not None else None

    @strawberry.field
    def period_start(self) -> date | None:
        value = self._d("periodStart")
        return date.fromisoformat(value) if value else None

    @strawberry.field
    def period_end(self) -> date | None:
        value = self._d("periodEnd")
        return date.fromisoformat(value) if value else None

    @field(description="For a link: what is linked (REFERRAL, CE_EVENT or ENROLLMENT) and its id.")
    def linked_id(self) -> strawberry.ID | None:
        subject = self._d("subject")
        if not subject:
            return None
        kind = {"REFERRAL": "Referral", "CE_EVENT": "CeEvent", "ENROLLMENT": "Enrollment"}[subject]
        return _gid(kind, int(self._d("subjectId")))

    @strawberry.field
    def created_at(self) -> datetime:
        return self.model.created_at

@strawberry.type(name="Case", description="A case shared by workers of several organizations; what you see of it follows the family's consent.")
class CaseType:
    view: strawberry.Private[resolvers.CaseView]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return _gid("Case", self.view.case.id)

    @strawberry.field
    def version(self) -> int:
        return self.view.case.version

    @field(description="The organization that leads the case; every member may see it.")
    def lead_organization(self) -> OrganizationType:
        org = self.view.case.lead_organization
        return OrganizationType(id=_gid("Organization", org.id), name=org.name)

    @field(description="How to reach the lead: its lead case managers, for every member.")
    def lead_contacts(self) -> list[CaseWorkerType]:
        case = self.view.case
        return [
            CaseWorkerType.of(m)
            for m in case.members
            if m.removed_on is None and m.organization_id == case.lead_organization_id and m.role is CaseRole.LEAD_CASE_MANAGER
        ]

    @field(description="The workers on the case.")
    def workers(self) -> list[CaseWorkerType]:
        if policy.Field.MEMBERS not in self.view.fields:
            return []
        return [CaseWorkerType.of(m) for m in self.view.case.members if m.removed_on is None]

    @field(description="Null unless the family's consent lets the case's stage across to your organization.")
    def stage(self) -> CaseStage | None:
        return self.view.case.stage if policy.Field.STAGE in self.view.fields else None

    @strawberry.field
    def opened_on(self) -> date:
        return self.view.case.opened_on

    @strawberry.field
    def moved_in_on(self) -> date | None:
        return self.view.case.moved_in_on if policy.Field.STAGE in self.view.fields else None

    @strawberry.field
    def stabilizing_on(self) -> date | None:
        return self.view.case.stabilizing_on if policy.Field.STAGE in self.view.fields else None

    @strawberry.field
    def closed_on(self) -> date | None:
        return self.view.case.closed_on if policy.Field.STAGE in self.view.fields else None

    @strawberry.field
    def closure_reason(self) -> ClosureReason | None:
        return self.view.case.closure_reason if policy.Field.STAGE in self.view.fields else None

    @field(description="The last day rapid re-housing pays; case management may continue after it.")
    def assistance_ends_on(self) -> date | None:
        return self.view.case.assistance_ends_on if policy.Field.STAGE in self.view.fields else None

    @field(description="The household, head first; empty unless consent lets it across to your organization.")
    def household(self) -> list[HouseholdMemberType]:
        if policy.Field.HOUSEHOLD not in self.view.fields:
            return []
        contact = policy.Field.CONTACT in self.view.fields
        members = sorted(self.view.case.household, key=lambda m: (not m.is_head, m.id))
        return [
            HouseholdMemberType(
                seeker_id=_gid("Seeker", m.seeker_id),
                is_head=m.is_head,
                first_name=m.seeker.first_name,
                last_name=m.seeker.last_name,
                email=m.seeker.email if contact else None,
                phone=m.seeker.phone if contact else None,
            )
            for m in members
        ]

    @field(description="Whether the household's names (and which other parts) are withheld from you for want of consent.")
    def withheld(self) -> list[str]:
        return sorted(f.name for f in policy.Field if f not in self.view.fields)

    @field(description="The file you may see, newest first: goals, contacts, notes, conferences, assistance, links.")
    def records(self, kind: RecordKind | None = None) -> list[CaseRecordType]:
        return [CaseRecordType(model=r) for r in self.view.records if kind is None or r.kind is kind]

    @field(description="What you may do with the case.")
    def viewer_can(self) -> list[policy.Action]:
        return sorted(self.view.viewer_can, key=lambda a: a.name)

    @field(description="The outbox number this answer reflects: subscribe to caseChanged from it.")
    def last_seq(self) -> int:
        return self.view.last_seq

@strawberry.type
class CaseConnection(Connection[CaseType]):
    last_seq: int

@strawberry.type(name="CaseChange", description="Something changed on the case (or a release it depends on): the case as you may see it now.")
class CaseChangeType:
    seq: int
    kind: str
    at: datetime
    case: CaseType | None = strawberry.field(description="Null on RESYNC: refetch the case.")

@strawberry.input
class OpenCaseInput(IdempotentInput):
    household: list[strawberry.ID] = strawberry.field(description="The household's seekers, the head first.")
    opened_on: date
    role: CaseRole = CaseRole.LEAD_CASE_MANAGER

@strawberry.input
class AddCaseWorkerInput(IdempotentInput):
    case_id: strawberry.ID
    email: str
    role: CaseRole
    organization_id: strawberry.ID | None = strawberry.field(default=None, description="When the worker belongs to several.")

@strawberry.input
class SetCaseStageInput:
    case_id: strawberry.ID
    stage: CaseStage
    on: date
    expected_version: int
    closure_reason: ClosureReason | None = None

@strawberry.input
class AddCaseGoalInput(IdempotentInput):
    case_id: strawberry.ID
    words: str = strawberry.field(description="The goal in the participant's own words.")
    on: date
    target_date: date | None = None
    status: GoalStatus = GoalStatus.NOT_STARTED

@strawberry.input
class RecordServiceContactInput(IdempotentInput):
    case_id: strawberry.ID
    on: date
    contact_type: ContactType
    minutes: int
    intensity: Intensity
    summary: str = ""
    location: str | None = None
    strengths: str | None = strawberry.field(default=None, description="The strengths noted at this contact.")

@strawberry.input
class AddCaseNoteInput(IdempotentInput):
    case_id: strawberry.ID
    on: date
    body: str
    child_welfare: bool = strawberry.field(default=False, description="Child welfare status: crosses only under that scope.")

@strawberry.input
class NextStepInput:
    who: str
    what: str
    by: date | None = None

@strawberry.input
class RecordCaseConferenceInput(IdempotentInput):
    case_id: strawberry.ID
    on: date
    attendees: list[str]
    decisions: str
    next_steps: list[NextStepInput] = strawberry.field(default_factory=list)

@strawberry.input
class RecordFinancialAssistanceInput(IdempotentInput):
    case_id: strawberry.ID
    kind: AssistanceKind
    amount: str = strawberry.field(description="Dollars and cents, e.g. \"1250.00\".")
    paid_on: date
    payee: str
    period_start: date | None = None
    period_end: date | None = None

@strawberry.input
class LinkToCaseInput(IdempotentInput):
    case_id: strawberry.ID
    referral_id: strawberry.ID | None = None
    ce_event_id: strawberry.ID | None = None
    enrollment_id: strawberry.ID | None = None

def _bounded(values: list[Any], limit: int, field_name: str) -> None:
    # Refused before any work: a list input is never longer than the domain allows.
    if len(values) > limit:
        raise BadInput(f"At most {limit} items in `{field_name}`.", field=field_name)

@strawberry.type
class CaseQuery:
    @field(description="A case as you may see it.")
    async def case(self, info: Info, id: strawberry.ID) -> CaseType:
        view = await resolvers.get_case(runtime_of(info), require_viewer(info), pk_of(id, "Case", field="id"))
        return CaseType(view=view)

    @field(description="The cases you are on, lead as an admin, or are a person of; newest first.")
    async def cases(
        self, info: Info, stage: CaseStage | None = None, first: int | None = 20, after: str | None = None
    ) -> CaseConnection:
        listed = await resolvers.list_cases(
            runtime_of(info), require_viewer(info), stage=stage, first=clamp_first(first, 20), after=after
        )
        return CaseConnection.of(listed.page, lambda v: CaseType(view=v), last_seq=listed.last_seq)

def _case(input_id: strawberry.ID) -> int:
    return pk_of(input_id, "Case", field="caseId")

@strawberry.type
class CaseMutation:
    @mutation(description="Open a case for a household your organization leads; you join it as its lead case manager.")
    async def open_case(self, info: Info, input: OpenCaseInput) -> CaseType:
        _bounded(input.household, resolvers.MAX_HOUSEHOLD, "household")
        new = resolvers.NewCase(
            household=[pk_of(s, "Seeker", field="household") for s in input.household], opened_on=input.opened_on, role=input.role
        )
        return CaseType(view=await resolvers.open_case(runtime_of(info), require_viewer(info), new, request=once_of(info, input)))

    @mutation(description="Add a worker (of any organization) to the case.")
    async def add_case_worker(self, info: Info, input: AddCaseWorkerInput) -> CaseType:
        view = await resolvers.add_member(
            runtime_of(info),
            require_viewer(info),
            case_id=_case(input.case_id),
            email=input.email,
            organization_id=pk_of(input.organization_id, "Organization", field="organizationId") if input.organization_id else None,
            role=input.role,
            request=once_of(info, input),
        )
        return CaseType(view=view)

    @mutation(description="Take a worker off the case.")
    async def remove_case_worker(self, info: Info, worker_id: strawberry.ID) -> CaseType:
        view = await resolvers.remove_member(runtime_of(info), require_viewer(info), member_id=pk_of(worker_id, "CaseMember", field="workerId"))
        return CaseType(view=view)

    @mutation(description="Move the case to a stage (closing needs a reason).")
    async def set_case_stage(self, info: Info, input: SetCaseStageInput) -> CaseType:
        view = await resolvers.set_stage(
            runtime_of(info),
            require_viewer(info),
            case_id=_case(input.case_id),
            stage=input.stage,
            on=input.on,
            closure_reason=input.closure_reason,
            expected_version=input.expected_version,
        )
        return CaseType(view=view)

    @mutation(description="Set (or clear) the last day of rapid re-housing assistance.")
    async def set_assistance_end(
        self, info: Info, case_id: strawberry.ID, on: Annotated[date | None, strawberry.argument(description="Null to clear.")] = None
    ) -> CaseType:
        return CaseType(view=await resolvers.set_assistance_end(runtime_of(info), require_viewer(info), case_id=_case(case_id), on=on))

    @mutation(description="Add a participant's goal, in their own words.")
    async def add_case_goal(self, info: Info, input: AddCaseGoalInput) -> CaseType:
        new = resolvers.NewRecord(
            case_id=_case(input.case_id),
            kind=RecordKind.GOAL,
            on=input.on,
            body=_required(input.words, "words"),
            details=resolvers.goal_details(target_date=input.target_date, status=input.status),
        )
        return CaseType(view=await resolvers.add_record(runtime_of(info), require_viewer(info), new, request=once_of(info, input)))

    @mutation(description="Move a goal on (or set it aside).")
    async def update_case_goal(self, info: Info, goal_id: strawberry.ID, status: GoalStatus, expected_version: int) -> CaseType:
        view = await resolvers.update_goal(
            runtime_of(info),
            require_viewer(info),
            record_id=pk_of(goal_id, "CaseRecord", field="goalId"),
            status=status,
            expected_version=expected_version,
        )
        return CaseType(view=view)

    @mutation(description="Record a service contact: when, how, how long, where, the intensity now, the strengths seen.")
    async def record_service_contact(self, info: Info, input: RecordServiceContactInput) -> CaseType:
        new = resolvers.NewRecord(
            case_id=_case(input.case_id),
            kind=RecordKind.CONTACT,
            on=input.on,
            body=input.summary,
            details=resolvers.contact_details(
                contact_type=input.contact_type,
                minutes=input.minutes,
                location=input.location,
                intensity=input.intensity,
                strengths=input.strengths,
            ),
        )
        return CaseType(view=await resolvers.add_record(runtime_of(info), require_viewer(info), new, request=once_of(info, input)))

    @mutation(description="Add a case note (marked child welfare, it crosses only under that scope).")
    async def add_case_note(self, info: Info, input: AddCaseNoteInput) -> CaseType:
        new = resolvers.NewRecord(
            case_id=_case(input.case_id), kind=RecordKind.NOTE, on=input.on, body=_required(input.body, "body"), child_welfare=input.child_welfare
        )
        return CaseType(view=await resolvers.add_record(runtime_of(info), require_viewer(info), new, request=once_of(info, input)))

    @mutation(description="Record a case conference: who came, what was decided, who does what next.")
    async def record_case_conference(self, info: Info, input: RecordCaseConferenceInput) -> CaseType:
        _bounded(input.attendees, resolvers.MAX_ATTENDEES, "attendees")
        _bounded(input.next_steps, resolvers.MAX_NEXT_STEPS, "nextSteps")
        new = resolvers.NewRecord(
            case_id=_case(input.case_id),
            kind=RecordKind.CONFERENCE,
            on=input.on,
            body=_required(input.decisions, "decisions"),
            details=resolvers.conference_details(
                attendees=input.attendees, next_steps=[(s.who, s.what, s.by) for s in input.next_steps]
            ),
        )
        return CaseType(view=await resolvers.add_record(runtime_of(info), require_viewer(info), new, request=once_of(info, input)))

    @mutation(description="Record a rapid re-housing payment: what for, how much, when, to whom, for which period.")
    async def record_financial_assistance(self, info: Info, input: RecordFinancialAssistanceInput) -> CaseType:
        new = resolvers.NewRecord(
            case_id=_case(input.case_id),
            kind=RecordKind.ASSISTANCE,
            on=input.paid_on,
            details=resolvers.assistance_details(
                kind=input.kind, amount=input.amount[:40], payee=input.payee, period_start=input.period_start, period_end=input.period_end
            ),
        )
        return CaseType(view=await resolvers.add_record(runtime_of(info), require_viewer(info), new, request=once_of(info, input)))

    @mutation(description="Link a referral, CE event or enrollment of the household to the case.")
    async def link_to_case(self, info: Info, input: LinkToCaseInput) -> CaseType:
        view = await resolvers.link_to_case(
            runtime_of(info),
            require_viewer(info),
            case_id=_case(input.case_id),
            referral_id=pk_of(input.referral_id, "Referral", field="referralId") if input.referral_id else None,
            ce_event_id=pk_of(input.ce_event_id, "CeEvent", field="ceEventId") if input.ce_event_id else None,
            enrollment_id=pk_of(input.enrollment_id, "Enrollment", field="enrollmentId") if input.enrollment_id else None,
            request=once_of(info, input),
        )
        return CaseType(view=view)

def _required(text: str, field_name: str) -> str:
    if not text.strip():
        raise BadInput("Please write something.", field=field_name)
    return text

@strawberry.type
class CaseSubscription:
    @subscription(description="Every change to the case, as you may see it at that moment; ends when you may no longer see it.")
    async def case_changed(self, info: Info, case_id: strawberry.ID, after_seq: int | None = None) -> AsyncGenerator[CaseChangeType, None]:
        viewer = require_viewer(info)
        async for delivery, view in resolvers.case_changes(runtime_of(info), viewer, case_id=_case(case_id), after_seq=after_seq):
            yield CaseChangeType(seq=delivery.seq, kind=delivery.kind, at=delivery.at, case=CaseType(view=view))
