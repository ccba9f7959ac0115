"""Coordinated Entry: the wall display's board and its live stream, in the wall's own minimal shapes."""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from datetime import date, datetime, timedelta
from typing import Annotated, TypeAlias

import strawberry

from db import hud
from db.base import utcnow
from db.coordinated_entry import CeAssessment, CeEvent, PriorityListEntry, Vacancy
from db.events import OutboxEvent, SubjectType
from db.referrals import IN_PROGRESS, Referral
from db.referrals import ReferralStatus as DomainReferralStatus
from resolvers import coordinated_entry as ce
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
from resolvers.policy import coordinated_entry as ce_policy
from resolvers.policy import referrals as policy
from resolvers.viewer import Viewer
from schema.connections import Connection
from schema.context import Info, require_viewer, runtime_of
from schema.enums import ReferralEventKind, ReferralStatus
from schema.fields import field, mutation, subscription
from schema.idempotency import IdempotentInput, once_of
from schema.ids import Node, pk_of, to_global_id
from schema.sharing import socket_sink


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


@strawberry.enum(description="What a wall change is about.")
class WallSubject(enum.Enum):
    REFERRAL = "REFERRAL"
    CE_EVENT = "CE_EVENT"
    VACANCY = "VACANCY"
    PRIORITY_LIST = "PRIORITY_LIST"


_WALL_SUBJECT_TYPES = {
    SubjectType.CE_EVENT: (WallSubject.CE_EVENT, "CeEvent"),
    SubjectType.VACANCY: (WallSubject.VACANCY, "Vacancy"),
    SubjectType.PRIORITY_LIST: (WallSubject.PRIORITY_LIST, "PriorityListEntry"),
}


@strawberry.enum(description="What happened to a CE referral, as the wall's Today feed tells it.")
class WallCeAction(enum.Enum):
    REFERRED = "REFERRED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"
    NOT_HOUSED_REASON = "NOT_HOUSED_REASON"


@strawberry.type(name="WallCeChange", description="A CE referral's step, with initials only.")
class WallCeChangeType:
    action: WallCeAction
    result: HudCodeType | None = strawberry.field(description="4.20.D, for RESOLVED.")
    program_name: str
    initials: str
    referral_id: strawberry.ID | None = strawberry.field(
        description="The live referral that goes with the CE event: its own changes tell the same step."
    )


@strawberry.type(name="WallCeToday", description="Today's Coordinated Entry steps in the CoC (server's day, UTC).")
class WallCeTodayType:
    referred: int
    acknowledged: int
    housed: int = strawberry.field(description="Resolved today with 4.20.D = 1 (successful: client accepted).")
    unsuccessful: int = strawberry.field(description="Resolved today with 4.20.D = 2 or 3.")


@strawberry.type(name="WallChange", description="One change as the wall's Today feed tells it.")
class WallChangeType:
    seq: int
    kind: ReferralEventKind
    at: datetime
    from_status: ReferralStatus | None
    to_status: ReferralStatus | None
    referral: WallReferralType | None
    subject: WallSubject | None = strawberry.field(
        default=None, description="A referral, or a CE event, vacancy or priority list entry of the CoC; null for RESYNC."
    )
    subject_id: strawberry.ID | None = strawberry.field(default=None, description="Refetch the board to see what it is now.")
    ce: WallCeChangeType | None = strawberry.field(
        default=None, description="For a CE event in `changesToday`: what happened (pushed changes leave it null; refetch)."
    )

    @classmethod
    def of_ce(cls, event: OutboxEvent, ce_event: CeEvent) -> WallChangeType:
        action = event.change.get("action")
        result = event.change.get("result")
        return cls(
            seq=event.seq,
            kind=ReferralEventKind[event.kind.name],
            at=event.at,
            from_status=None,
            to_status=None,
            referral=None,
            subject=WallSubject.CE_EVENT,
            subject_id=to_global_id("CeEvent", ce_event.id),
            ce=WallCeChangeType(
                action=WallCeAction(action) if action in WallCeAction.__members__ else WallCeAction.REFERRED,
                result=_hud(hud.REFERRAL_RESULT, result) if action == "RESOLVED" and isinstance(result, int) else None,
                program_name=ce_event.program.name if ce_event.program else "",
                initials=ce.initials(ce_event.seeker),
                referral_id=to_global_id("Referral", ce_event.referral_id) if ce_event.referral_id else None,
            ),
        )

    @classmethod
    def from_delivery(cls, d: Delivery, viewer: Viewer) -> WallChangeType:
        moved_from, moved_to = d.event.statuses() if d.event and d.referral else (None, None)
        subject, subject_id = None, None
        if d.referral is not None:
            subject, subject_id = WallSubject.REFERRAL, to_global_id("Referral", d.referral.id)
        elif d.event is not None and d.event.subject_type in _WALL_SUBJECT_TYPES:
            subject, type_name = _WALL_SUBJECT_TYPES[d.event.subject_type]
            subject_id = to_global_id(type_name, d.event.subject_id)
        return cls(
            seq=d.seq,
            kind=ReferralEventKind[d.kind],
            at=d.at,
            from_status=moved_from,
            to_status=moved_to,
            referral=WallReferralType(model=d.referral, viewer=viewer) if d.referral else None,
            subject=subject,
            subject_id=subject_id,
        )


@strawberry.type(name="Wallboard", description="What the CE wall display shows for one Continuum of Care.")
class WallboardType:
    viewer: strawberry.Private[Viewer]
    coc_code: strawberry.Private[str]
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
        runtime, limit, start = runtime_of(info), clamp_first(first, 50), since or utcnow() - timedelta(hours=24)
        deliveries = await recent_changes(runtime, self.viewer, since=start, first=limit)
        ce_steps = await ce.recent_ce_changes(runtime, self.viewer, coc_code=self.coc_code, since=start, first=limit)
        changes = [WallChangeType.from_delivery(d, self.viewer) for d in deliveries]
        changes += [WallChangeType.of_ce(event, ce_event) for event, ce_event in ce_steps]
        return sorted(changes, key=lambda c: c.seq, reverse=True)[:limit]

    @field(description="Today's Coordinated Entry steps: referred, acknowledged, housed, unsuccessful.")
    async def ce_today(self, info: Info) -> WallCeTodayType:
        t = await ce.wall_today(runtime_of(info), self.viewer, coc_code=self.coc_code)
        return WallCeTodayType(referred=t.referred, acknowledged=t.acknowledged, housed=t.housed, unsuccessful=t.unsuccessful)

    @field(description="How many open vacancies the CoC has (`vacancies` lists them; a wall shows the first few).")
    async def vacancy_count(self, info: Info) -> int:
        return (await ce.wall_counts(runtime_of(info), self.viewer, coc_code=self.coc_code))[0]

    @field(description="How many people are on the CoC's priority list (`priorityHead` shows the first few).")
    async def priority_list_count(self, info: Info) -> int:
        return (await ce.wall_counts(runtime_of(info), self.viewer, coc_code=self.coc_code))[1]

    @field(description="How many CE referrals wait for the provider's acknowledgement (`ceWaiting` shows the first few).")
    async def ce_waiting_count(self, info: Info) -> int:
        return (await ce.wall_waiting(runtime_of(info), self.viewer, coc_code=self.coc_code, first=1))[1]

    @field(description="The CoC's open vacancies, longest vacant first.")
    async def vacancies(self, info: Info) -> list[WallVacancyType]:
        rows = await ce.wall_vacancies(runtime_of(info), self.viewer, coc_code=self.coc_code)
        return [
            WallVacancyType(
                id=to_global_id("Vacancy", v.id),
                program_name=v.program.name,
                size=v.size,
                opened_on=v.opened_on,
                days_vacant=ce.days_since(v.opened_on) or 0,
            )
            for v in rows
        ]

    @field(description="The head of the priority list: initials, score and days on the list.")
    async def priority_head(self, info: Info, first: int = 5) -> list[WallPriorityEntryType]:
        rows = await ce.priority_head(runtime_of(info), self.viewer, coc_code=self.coc_code, first=clamp_first(first, 5))
        return [
            WallPriorityEntryType(initials=ce.initials(e.seeker), score=e.score, days_waiting=ce.days_since(e.placed_on) or 0)
            for e in rows
        ]

    @field(description="CE referrals the provider has not acknowledged yet, longest waiting first.")
    async def ce_waiting(self, info: Info, first: int = 10) -> list[WallCeReferralType]:
        rows, _total = await ce.wall_waiting(runtime_of(info), self.viewer, coc_code=self.coc_code, first=clamp_first(first, 10))
        return [
            WallCeReferralType(
                id=to_global_id("CeEvent", e.id),
                initials=ce.initials(e.seeker),
                program_name=e.program.name if e.program else "",
                days_waiting=ce.days_since(e.event_date) or 0,
            )
            for e in rows
        ]


@strawberry.type
class WallQuery:
    @field(description="The CE wall display's board; for the CoC's Coordinated Entry managers.")
    async def wallboard(self, info: Info, coc_code: str) -> WallboardType:
        viewer = require_viewer(info)
        check_wall_access(viewer, coc_code=coc_code)
        # Read before the board's own queries run, so nothing between the two can fall through.
        return WallboardType(viewer=viewer, coc_code=coc_code, last_seq=await wall_last_seq(runtime_of(info)))


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
        live = runtime_of(info).live
        # On a websocket the hub sends the live events itself, rendered once per audience (schema/sharing.py).
        sink = socket_sink(info, lambda d: WallChangeType.from_delivery(d, viewer))
        async for delivery in referral_changes(
            live, viewer, after_seq=after_seq, action=ON_WALL, others=ce_policy.on_wall, sink=sink
        ):
            yield WallChangeType.from_delivery(delivery, viewer)


# ------------------------------------------------------------------------------------------------
# The Coordinated Entry cycle: assessments, the priority list, vacancies, CE referrals.
# ------------------------------------------------------------------------------------------------

strawberry.enum(ce.HouseholdType, description="Which priority list (sub-list) a household is on.")
strawberry.enum(ce.NotHousedReason, description="Why a referral to a vacancy did not end in housing (local picklist).")
strawberry.enum(ce.CeEventStatus, description="Where a CE referral stands: waiting for the provider, acknowledged, resolved.")
HouseholdType: TypeAlias = ce.HouseholdType
NotHousedReason: TypeAlias = ce.NotHousedReason
CeEventStatus: TypeAlias = ce.CeEventStatus


@strawberry.type(name="HudCode", description="A HUD HMIS code and what it means in its list.")
class HudCodeType:
    code: int
    label: str | None


def _hud(list_id: str, code: int | None) -> HudCodeType | None:
    return None if code is None else HudCodeType(code=code, label=hud.label(list_id, code))


@strawberry.type(name="CeSeeker", description="The person on the priority list, as the CoC's CE managers see them.")
class CeSeekerType:
    id: strawberry.ID
    first_name: str
    last_name: str


@strawberry.type(name="PriorityListEntry")
class PriorityListEntryType:
    model: strawberry.Private[PriorityListEntry]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return to_global_id("PriorityListEntry", self.model.id)

    @field(description="The full name: priority list entries are for the CoC's CE managers only.")
    def seeker(self) -> CeSeekerType:
        s = self.model.seeker
        return CeSeekerType(id=to_global_id("Seeker", s.id), first_name=s.first_name, last_name=s.last_name)

    @strawberry.field
    def initials(self) -> str:
        return ce.initials(self.model.seeker)

    @strawberry.field
    def score(self) -> float | None:
        return self.model.score

    @strawberry.field
    def days_homeless(self) -> int | None:
        return self.model.days_homeless

    @strawberry.field
    def days_on_list(self) -> int:
        return ce.days_since(self.model.placed_on, until=self.model.left_on) or 0

    @strawberry.field
    def placed_on(self) -> date:
        return self.model.placed_on

    @strawberry.field
    def household_type(self) -> HouseholdType:
        return ce.HouseholdType(self.model.household_type)

    @strawberry.field
    def eligibility(self) -> str:
        return self.model.eligibility

    @strawberry.field
    def left_on(self) -> date | None:
        return self.model.left_on

    @strawberry.field
    def left_reason(self) -> str | None:
        return self.model.left_reason


@strawberry.type
class PriorityListConnection(Connection[PriorityListEntryType]):
    total_count: int
    last_seq: int = strawberry.field(description="The newest event already reflected here.")


@strawberry.type(name="AssessmentQuestion")
class AssessmentQuestionType:
    question: str
    answer: str
    group: str | None


@strawberry.type(name="AssessmentResult")
class AssessmentResultType:
    type: str
    result: str


@strawberry.type(name="CeAssessment", description="4.19 Coordinated Entry Assessment.")
class CeAssessmentType:
    model: strawberry.Private[CeAssessment]
    entry: strawberry.Private[PriorityListEntry | None]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return to_global_id("CeAssessment", self.model.id)

    @strawberry.field
    def seeker_id(self) -> strawberry.ID:
        return to_global_id("Seeker", self.model.seeker_id)

    @strawberry.field
    def assessment_date(self) -> date:
        return self.model.assessment_date

    @strawberry.field
    def location(self) -> str:
        return self.model.location

    @field(description="4.19.3")
    def assessment_type(self) -> HudCodeType | None:
        return _hud(hud.ASSESSMENT_TYPE, self.model.assessment_type)

    @field(description="4.19.4")
    def assessment_level(self) -> HudCodeType | None:
        return _hud(hud.ASSESSMENT_LEVEL, self.model.assessment_level)

    @field(description="4.19.7")
    def prioritization_status(self) -> HudCodeType | None:
        return _hud(hud.PRIORITIZATION_STATUS, self.model.prioritization_status)

    @strawberry.field
    def questions(self) -> list[AssessmentQuestionType]:
        return [AssessmentQuestionType(question=q["question"], answer=q["answer"], group=q.get("group")) for q in self.model.questions]

    @strawberry.field
    def results(self) -> list[AssessmentResultType]:
        return [AssessmentResultType(type=r["type"], result=r["result"]) for r in self.model.results]

    @strawberry.field
    def score(self) -> float | None:
        return self.model.score

    @strawberry.field
    def days_homeless(self) -> int | None:
        return self.model.days_homeless

    @strawberry.field
    def household_type(self) -> HouseholdType:
        return ce.HouseholdType(self.model.household_type)

    @field(description="The client's open priority list entry, if this assessment placed them (4.19.7 = 1).")
    def priority_list_entry(self) -> PriorityListEntryType | None:
        return PriorityListEntryType(model=self.entry) if self.entry else None


@strawberry.type(name="Vacancy")
class VacancyType(Node):
    model: strawberry.Private[Vacancy]

    @classmethod
    def of(cls, vacancy: Vacancy) -> VacancyType:
        return cls(id=to_global_id("Vacancy", vacancy.id), model=vacancy)

    @strawberry.field
    def program(self) -> WallProgramType:
        program = self.model.program
        return WallProgramType(name=program.name, organization_name=program.organization.name)

    @strawberry.field
    def program_id(self) -> strawberry.ID:
        return to_global_id("Program", self.model.program_id)

    @strawberry.field
    def description(self) -> str:
        return self.model.description

    @strawberry.field
    def size(self) -> int:
        return self.model.size

    @field(description="The priority list the opening is for; null when any household fits.")
    def household_type(self) -> HouseholdType | None:
        return ce.HouseholdType(self.model.household_type) if self.model.household_type else None

    @strawberry.field
    def opened_on(self) -> date:
        return self.model.opened_on

    @strawberry.field
    def eligibility_notes(self) -> str:
        return self.model.eligibility_notes

    @strawberry.field
    def filled_on(self) -> date | None:
        return self.model.filled_on

    @field(description="The enrollment that filled it (a global id, as `node(id)` takes).")
    def filled_by_enrollment_id(self) -> strawberry.ID | None:
        enrollment_id = self.model.filled_by_enrollment_id
        return to_global_id("Enrollment", enrollment_id) if enrollment_id is not None else None

    @field(description="Days from opening to filling, or to today while it is open.")
    def days_vacant(self) -> int:
        return ce.days_since(self.model.opened_on, until=self.model.filled_on) or 0


@strawberry.type(name="CeEvent", description="4.20 Coordinated Entry Event: here, a referral to a vacancy.")
class CeEventType(Node):
    model: strawberry.Private[CeEvent]

    @classmethod
    def of(cls, event: CeEvent) -> CeEventType:
        return cls(id=to_global_id("CeEvent", event.id), model=event)

    @strawberry.field
    def version(self) -> int:
        return self.model.version

    @strawberry.field
    def status(self) -> CeEventStatus:
        return ce.event_status(self.model)

    @strawberry.field
    def seeker(self) -> CeSeekerType:
        s = self.model.seeker
        return CeSeekerType(id=to_global_id("Seeker", s.id), first_name=s.first_name, last_name=s.last_name)

    @strawberry.field
    def initials(self) -> str:
        return ce.initials(self.model.seeker)

    @strawberry.field
    def event_date(self) -> date:
        return self.model.event_date

    @field(description="4.20.2")
    def event_type(self) -> HudCodeType | None:
        return _hud(hud.EVENT_TYPE, self.model.event_type)

    @field(description="4.20.C")
    def location(self) -> str | None:
        return self.model.location

    @strawberry.field
    def referral_id(self) -> strawberry.ID | None:
        return to_global_id("Referral", self.model.referral_id) if self.model.referral_id else None

    @strawberry.field
    def program_id(self) -> strawberry.ID | None:
        return to_global_id("Program", self.model.program_id) if self.model.program_id else None

    @strawberry.field
    def vacancy(self) -> VacancyType | None:
        return VacancyType.of(self.model.vacancy) if self.model.vacancy else None

    @field(description="4.20.D")
    def result(self) -> HudCodeType | None:
        return _hud(hud.REFERRAL_RESULT, self.model.result)

    @field(description="4.20.E")
    def result_date(self) -> date | None:
        return self.model.result_date

    @strawberry.field
    def acknowledged_on(self) -> date | None:
        return self.model.acknowledged_on

    @strawberry.field
    def provider_contact_name(self) -> str | None:
        return self.model.provider_contact_name

    @strawberry.field
    def provider_contact_phone(self) -> str | None:
        return self.model.provider_contact_phone

    @strawberry.field
    def provider_contact_email(self) -> str | None:
        return self.model.provider_contact_email

    @field(description="The enrollment a successful referral (4.20.D = 1) led to, as a global id.")
    def resulting_enrollment_id(self) -> strawberry.ID | None:
        enrollment_id = self.model.resulting_enrollment_id
        return to_global_id("Enrollment", enrollment_id) if enrollment_id is not None else None

    @strawberry.field
    def not_housed_reason(self) -> NotHousedReason | None:
        return ce.NotHousedReason(self.model.not_housed_reason) if self.model.not_housed_reason else None

    @field(description="Days since the referral was made, until the provider acknowledged it (or until today).")
    def days_waiting(self) -> int:
        return ce.days_since(self.model.event_date, until=self.model.acknowledged_on) or 0


@strawberry.type
class CeEventConnection(Connection[CeEventType]):
    total_count: int
    last_seq: int = strawberry.field(description="The newest event already reflected here.")


@strawberry.type(name="WallVacancy", description="An open vacancy as the wall shows it.")
class WallVacancyType:
    id: strawberry.ID
    program_name: str
    size: int
    opened_on: date
    days_vacant: int


@strawberry.type(name="WallPriorityEntry", description="The head of the priority list as the wall shows it: initials only.")
class WallPriorityEntryType:
    initials: str
    score: float | None
    days_waiting: int


@strawberry.type(name="WallCeReferral", description="A CE referral waiting for the provider, as the wall shows it.")
class WallCeReferralType:
    id: strawberry.ID
    initials: str
    program_name: str
    days_waiting: int


@strawberry.input
class AssessmentQuestionInput:
    question: str
    answer: str
    group: str | None = None


@strawberry.input
class AssessmentResultInput:
    type: str
    result: str


@strawberry.input
class RecordCeAssessmentInput(IdempotentInput):
    seeker_id: strawberry.ID
    coc_code: str
    assessment_date: date
    location: str
    assessment_type: int = strawberry.field(description="4.19.3: 1 phone, 2 virtual, 3 in person.")
    assessment_level: int = strawberry.field(description="4.19.4: 1 crisis needs, 2 housing needs.")
    prioritization_status: int = strawberry.field(description="4.19.7: 1 placed on the list, 2 not placed.")
    questions: list[AssessmentQuestionInput] | None = None
    results: list[AssessmentResultInput] | None = None
    score: float | None = None
    days_homeless: int | None = None
    household_type: HouseholdType = ce.HouseholdType.INDIVIDUAL
    eligibility: str | None = None


@strawberry.input
class RemoveFromPriorityListInput:
    entry_id: strawberry.ID
    reason: str


@strawberry.input
class PostVacancyInput(IdempotentInput):
    program_id: strawberry.ID
    description: str
    size: int = 1
    opened_on: date | None = None
    eligibility_notes: str | None = None
    household_type: HouseholdType | None = strawberry.field(
        default=None, description="The priority list the opening is for; none when any household fits."
    )


@strawberry.input
class CreateCeReferralInput(IdempotentInput):
    vacancy_id: strawberry.ID
    entry_id: strawberry.ID | None = None
    seeker_id: strawberry.ID | None = None
    note: str | None = None
    location: str | None = strawberry.field(default=None, description="4.20.C")
    problem_solving_result: int | None = strawberry.field(default=None, description="4.20.A: for event type 2 only.")
    case_management_after: int | None = strawberry.field(default=None, description="4.20.B: for event type 5 only.")


@strawberry.input
class AcknowledgeCeReferralInput:
    ce_event_id: strawberry.ID
    acknowledged_on: date
    expected_version: int
    provider_contact_name: str | None = None
    provider_contact_phone: str | None = None
    provider_contact_email: str | None = None


@strawberry.input
class ResolveCeReferralInput:
    ce_event_id: strawberry.ID
    result: int = strawberry.field(description="4.20.D: 1 accepted, 2 client rejected, 3 provider rejected.")
    result_date: date
    expected_version: int
    resulting_enrollment_id: strawberry.ID | None = strawberry.field(
        default=None, description="For result 1: the client's open enrollment in the program (an Enrollment id)."
    )


@strawberry.input
class RecordNotHousedReasonInput:
    ce_event_id: strawberry.ID
    reason: NotHousedReason


@strawberry.type
class CoordinatedEntryCycleQuery:
    @field(description="The CoC's priority list, in the order of its priority rule; for its CE managers.")
    async def priority_list(
        self,
        info: Info,
        coc_code: str,
        household_type: HouseholdType | None = None,
        eligibility: str | None = None,
        veteran: Annotated[
            bool | None, strawberry.argument(description="Only veterans (1.8 = yes), or only those who are not.")
        ] = None,
        min_score: Annotated[float | None, strawberry.argument(description="Only entries scored at least this.")] = None,
        first: int = 25,
        after: str | None = None,
    ) -> PriorityListConnection:
        listed = await ce.priority_list(
            runtime_of(info),
            require_viewer(info),
            coc_code=coc_code,
            narrow=ce.ListFilter(household_type=household_type, eligibility=eligibility, veteran=veteran, min_score=min_score),
            first=clamp_first(first, 25),
            after=after,
        )
        return PriorityListConnection.of(
            listed.page, lambda e: PriorityListEntryType(model=e), total_count=listed.total_count, last_seq=listed.last_seq
        )

    @field(description="A HUD HMIS code list (e.g. \"3.917\" prior living situation, \"3.12\" destination), in HUD's order.")
    def hud_codes(self, list: Annotated[str, strawberry.argument(description="The HMIS element number.")]) -> list[HudCodeType]:
        return [HudCodeType(code=code, label=label) for code, label in ce.hud_code_list(list).items()]

    @field(description="The CoC's vacancies: all of them for its CE managers, a provider's own for the provider.")
    async def vacancies(self, info: Info, coc_code: str, open: bool | None = None) -> list[VacancyType]:
        rows = await ce.vacancies(runtime_of(info), require_viewer(info), coc_code=coc_code, open=open)
        return [VacancyType.of(v) for v in rows]

    @field(description="The CoC's CE referrals, oldest first: for its CE managers, and a provider's own.")
    async def ce_events(
        self, info: Info, coc_code: str, status: CeEventStatus | None = None, first: int = 25, after: str | None = None
    ) -> CeEventConnection:
        pipeline = await ce.ce_events(
            runtime_of(info), require_viewer(info), coc_code=coc_code, status=status, first=clamp_first(first, 25), after=after
        )
        return CeEventConnection.of(
            pipeline.page, lambda e: CeEventType.of(e), total_count=pipeline.total_count, last_seq=pipeline.last_seq
        )


@strawberry.type
class CoordinatedEntryMutation:
    @mutation(description="Record a CE assessment (4.19); prioritization status 1 places the client on the CoC's list.")
    async def record_ce_assessment(self, info: Info, input: RecordCeAssessmentInput) -> CeAssessmentType:
        new = ce.NewAssessment(
            seeker_id=pk_of(input.seeker_id, "Seeker", field="seekerId"),
            coc_code=input.coc_code,
            assessment_date=input.assessment_date,
            location=input.location,
            assessment_type=input.assessment_type,
            assessment_level=input.assessment_level,
            prioritization_status=input.prioritization_status,
            questions=[ce.AssessmentItem(q.question, q.answer, q.group) for q in input.questions or []],
            results=[ce.AssessmentResult(r.type, r.result) for r in input.results or []],
            score=input.score,
            days_homeless=input.days_homeless,
            household_type=input.household_type,
            eligibility=input.eligibility,
        )
        assessed = await ce.record_assessment(runtime_of(info), require_viewer(info), new, request=once_of(info, input))
        return CeAssessmentType(model=assessed.assessment, entry=assessed.entry)

    @mutation(description="Take someone off the priority list, with the reason.")
    async def remove_from_priority_list(self, info: Info, input: RemoveFromPriorityListInput) -> PriorityListEntryType:
        entry = await ce.remove_from_priority_list(
            runtime_of(info),
            require_viewer(info),
            entry_id=pk_of(input.entry_id, "PriorityListEntry", field="entryId"),
            reason=input.reason,
        )
        return PriorityListEntryType(model=entry)

    @mutation(description="Post an opening at a HUD housing program of your organization.")
    async def post_vacancy(self, info: Info, input: PostVacancyInput) -> VacancyType:
        new = ce.NewVacancy(
            program_id=pk_of(input.program_id, "Program", field="programId"),
            description=input.description,
            size=input.size,
            opened_on=input.opened_on or ce.today(),
            eligibility_notes=input.eligibility_notes,
            household_type=input.household_type,
        )
        return VacancyType.of(await ce.post_vacancy(runtime_of(info), require_viewer(info), new, request=once_of(info, input)))

    @mutation(description="Refer a client to a vacancy (4.20): a CE event and a live referral to the program.")
    async def create_ce_referral(self, info: Info, input: CreateCeReferralInput) -> CeEventType:
        new = ce.NewCeReferral(
            vacancy_id=pk_of(input.vacancy_id, "Vacancy", field="vacancyId"),
            entry_id=pk_of(input.entry_id, "PriorityListEntry", field="entryId") if input.entry_id else None,
            seeker_id=pk_of(input.seeker_id, "Seeker", field="seekerId") if input.seeker_id else None,
            note=input.note,
            location=input.location,
            problem_solving_result=input.problem_solving_result,
            case_management_after=input.case_management_after,
        )
        return CeEventType.of(await ce.create_ce_referral(runtime_of(info), require_viewer(info), new, request=once_of(info, input)))

    @mutation(description="The provider says it has the referral, and who to contact there.")
    async def acknowledge_ce_referral(self, info: Info, input: AcknowledgeCeReferralInput) -> CeEventType:
        ack = ce.Acknowledgement(
            ce_event_id=pk_of(input.ce_event_id, "CeEvent", field="ceEventId"),
            acknowledged_on=input.acknowledged_on,
            expected_version=input.expected_version,
            provider_contact_name=input.provider_contact_name,
            provider_contact_phone=input.provider_contact_phone,
            provider_contact_email=input.provider_contact_email,
        )
        return CeEventType.of(await ce.acknowledge_ce_referral(runtime_of(info), require_viewer(info), ack))

    @mutation(description="The provider records what came of the referral (4.20.D, 4.20.E); the referral's status follows.")
    async def resolve_ce_referral(self, info: Info, input: ResolveCeReferralInput) -> CeEventType:
        res = ce.Resolution(
            ce_event_id=pk_of(input.ce_event_id, "CeEvent", field="ceEventId"),
            result=input.result,
            result_date=input.result_date,
            expected_version=input.expected_version,
            resulting_enrollment_id=(
                pk_of(input.resulting_enrollment_id, "Enrollment", field="resultingEnrollmentId")
                if input.resulting_enrollment_id is not None
                else None
            ),
        )
        return CeEventType.of(await ce.resolve_ce_referral(runtime_of(info), require_viewer(info), res))

    @mutation(description="Why a referral did not end in housing; the result and its date stay as they are.")
    async def record_not_housed_reason(self, info: Info, input: RecordNotHousedReasonInput) -> CeEventType:
        event = await ce.record_not_housed_reason(
            runtime_of(info),
            require_viewer(info),
            ce_event_id=pk_of(input.ce_event_id, "CeEvent", field="ceEventId"),
            reason=input.reason,
        )
        return CeEventType.of(event)


@strawberry.type
class CoordinatedEntryQuery(WallQuery, CoordinatedEntryCycleQuery):
    """The wall and the cycle's lists, one type for the Query's merge."""
