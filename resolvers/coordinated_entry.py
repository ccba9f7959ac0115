"""Coordinated Entry: the wall display, and the cycle of assessment, priority list, vacancy and referral.

The wall shows the CoC's live referrals only as far as the policy's SHOW_ON_WALL reaches: counts,
program, the seeker's initials, status and times. Referrals to housing programs the CE managers
may also open in full (READ); the rest stay with the program and the referrer.

The cycle (HUD 4.19 and 4.20): a CE manager records an assessment, which may place the client on the
CoC's priority list; a provider posts a vacancy; a CE manager refers someone from the list to it (a
CE event and a live referral at once, opened through the referrals' own code path); the provider
acknowledges it and records the result, which the referral's status follows.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db import hud
from db.accounts import ContinuumOfCare, Role
from db.audit import AuditAction, AuditSubject, Scope
from db.base import utcnow
from db.coordinated_entry import EVENT_TYPE_FOR_PROJECT, STATUS_FOR_RESULT, CeAssessment, CeEvent, PriorityListEntry, Vacancy
from db.enrollments import Enrollment
from db.events import EventKind, OutboxEvent, SubjectType
from db.programs import Program
from db.referrals import IN_PROGRESS, REFERRAL_LOAD, ChangeSource, Referral, ReferralKind, ReferralStatus
from db.seekers import Seeker
from resolvers import audit
from resolvers.enrollments import HMIS_EARLIEST
from resolvers.errors import BadInput, Conflict, Forbidden, NotFound
from resolvers.idempotency import Once, Record, write_once
from resolvers.live.hub import Delivery, delivery_of
from resolvers.live.outbox import latest_seq, record_event
from resolvers.pagination import MAX_PAGE, Page, keyset_page
from resolvers.policy import capabilities
from resolvers.policy import coordinated_entry as ce_policy
from resolvers.policy import referrals as policy
from resolvers.policy.capabilities import Capability
from resolvers.referrals import open_referral_in, update_status_in
from resolvers.runtime import Runtime
from resolvers.search import every_word_matches
from resolvers.text import bounded_text, excerpt
from resolvers.seekers import normalize_email, normalize_phone
from resolvers.viewer import Viewer

ON_WALL = policy.Action.SHOW_ON_WALL


def check_wall_access(viewer: Viewer, *, coc_code: str) -> None:
    if not capabilities.can(viewer, Capability.WATCH_WALL, coc_code=coc_code):
        raise Forbidden("The wall display is for the Coordinated Entry managers of that Continuum of Care.")


async def wall_last_seq(runtime: Runtime) -> int:
    async with runtime.db.read() as session:
        return await latest_seq(session)


async def open_referrals_by_status(runtime: Runtime, viewer: Viewer) -> dict[ReferralStatus, int]:
    """How many of the CoC's referrals are still in progress, per status."""
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(Referral.status, func.count())
            .where(policy.where(viewer, ON_WALL), Referral.status.in_(IN_PROGRESS))
            .group_by(Referral.status)
        )
        return {status: count for status, count in rows}


async def waiting_longest(runtime: Runtime, viewer: Viewer, *, first: int) -> tuple[list[Referral], int]:
    """Referrals nobody has acknowledged yet, oldest first, and how many there are in all."""
    waiting = (policy.where(viewer, ON_WALL), Referral.status == ReferralStatus.NOT_UPDATED)
    async with runtime.db.read() as session:
        rows = await session.scalars(
            select(Referral).where(*waiting).options(*REFERRAL_LOAD).order_by(Referral.created_at, Referral.id).limit(first)
        )
        total = await session.scalar(select(func.count()).select_from(Referral).where(*waiting))
        return list(rows.unique()), int(total or 0)


async def recent_changes(runtime: Runtime, viewer: Viewer, *, since: datetime, first: int) -> list[Delivery]:
    """Outbox events since `since` about the CoC's referrals, newest first, each with what it changed."""
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(OutboxEvent, Referral)
            .join(Referral, Referral.id == OutboxEvent.subject_id)
            .where(OutboxEvent.subject_type == SubjectType.REFERRAL, policy.where(viewer, ON_WALL), OutboxEvent.at >= since)
            .options(*REFERRAL_LOAD)
            .order_by(OutboxEvent.seq.desc())
            .limit(first)
        )
        return [delivery_of(event, referral) for event, referral in rows.unique()]


# ------------------------------------------------------------------------------------------------
# The Coordinated Entry cycle (HUD 4.19 and 4.20): assess, prioritize, match to a vacancy, refer,
# and the provider's answer. Every change is one write transaction with its outbox event; the hub
# is rung after the commit.
# ------------------------------------------------------------------------------------------------


class HouseholdType(enum.Enum):
    INDIVIDUAL = "INDIVIDUAL"
    FAMILY = "FAMILY"
    YOUTH = "YOUTH"


class NotHousedReason(enum.Enum):
    """Why a referral to a vacancy did not end in housing; a local picklist beside HUD's 4.20.D."""

    CLIENT_DECLINED_UNIT = "CLIENT_DECLINED_UNIT"
    CLIENT_LOST_CONTACT = "CLIENT_LOST_CONTACT"
    CLIENT_HOUSED_ELSEWHERE = "CLIENT_HOUSED_ELSEWHERE"
    LANDLORD_DECLINED = "LANDLORD_DECLINED"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    UNIT_NO_LONGER_AVAILABLE = "UNIT_NO_LONGER_AVAILABLE"
    OTHER = "OTHER"


class CeEventStatus(enum.Enum):
    WAITING = "WAITING"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"


# The ordering keys a CoC's priority_rule may name, and the direction each sorts in (True: descending).
PRIORITY_KEYS: dict[str, tuple[Any, bool]] = {
    "score": (PriorityListEntry.score, True),
    "days_homeless": (PriorityListEntry.days_homeless, True),
    "placed_on": (PriorityListEntry.placed_on, False),
}
DEFAULT_PRIORITY_RULE = ("score", "days_homeless", "placed_on")
HOUSED = "HOUSED"

LOCATION_MAX = 250
QUESTION_MAX = 500
ANSWER_MAX = 500
GROUP_MAX = 100
MAX_QUESTIONS = 200
RESULT_TYPE_MAX = 100
RESULT_MAX = 500
MAX_RESULTS = 50
ELIGIBILITY_MAX = 1000
REASON_MAX = 200
DESCRIPTION_MAX = 200
NOTES_MAX = 2000
NOTE_MAX = 2000
NAME_MAX = 200
MAX_SIZE = 20
MAX_SCORE = 1_000_000.0
MAX_DAYS = 36_500
# A vacancy is an opening today: one posted as open for longer than this is a typo in the year.
VACANCY_YEARS_BACK = 5


@dataclass(frozen=True)
class AssessmentItem:
    question: str
    answer: str
    group: str | None = None


@dataclass(frozen=True)
class AssessmentResult:
    type: str
    result: str


@dataclass(frozen=True)
class NewAssessment:
    seeker_id: int
    coc_code: str
    assessment_date: date
    location: str
    assessment_type: int
    assessment_level: int
    prioritization_status: int
    questions: Sequence[AssessmentItem] = ()
    results: Sequence[AssessmentResult] = ()
    score: float | None = None
    days_homeless: int | None = None
    household_type: HouseholdType = HouseholdType.INDIVIDUAL
    eligibility: str | None = None


@dataclass(frozen=True)
class Assessed:
    assessment: CeAssessment
    entry: PriorityListEntry | None


@dataclass(frozen=True)
class NewVacancy:
    program_id: int
    description: str
    size: int
    opened_on: date
    eligibility_notes: str | None = None
    household_type: HouseholdType | None = None


@dataclass(frozen=True)
class NewCeReferral:
    vacancy_id: int
    entry_id: int | None = None
    seeker_id: int | None = None
    note: str | None = None
    location: str | None = None
    problem_solving_result: int | None = None
    case_management_after: int | None = None


@dataclass(frozen=True)
class Acknowledgement:
    ce_event_id: int
    acknowledged_on: date
    expected_version: int
    provider_contact_name: str | None = None
    provider_contact_phone: str | None = None
    provider_contact_email: str | None = None


@dataclass(frozen=True)
class Resolution:
    ce_event_id: int
    result: int
    result_date: date
    expected_version: int
    resulting_enrollment_id: int | None = None


@dataclass(frozen=True)
class PriorityList:
    page: Page[PriorityListEntry]
    total_count: int
    last_seq: int


@dataclass(frozen=True)
class CePipeline:
    page: Page[CeEvent]
    total_count: int
    last_seq: int


W = TypeVar("W")


def today() -> date:
    return utcnow().date()


def initials(seeker: Seeker) -> str:
    return " ".join(f"{n.strip()[0].upper()}." for n in (seeker.first_name, seeker.last_name) if n and n.strip())


def days_since(day: date | None, *, until: date | None = None) -> int | None:
    return None if day is None else max(0, ((until or today()) - day).days)


async def _write(runtime: Runtime, change: Callable[[AsyncSession], Awaitable[W]]) -> W:
    """One change in one write transaction; the hub and the senders are rung after the commit."""
    async with runtime.db.write() as session:
        result = await change(session)
    await runtime.announce()
    return result


def _code(list_id: str, code: int | None, *, what: str, field: str) -> int | None:
    if code is None:
        return None
    if not hud.is_code(list_id, code):
        allowed = "; ".join(f"{c} ({label})" for c, label in hud.codes(list_id).items())
        raise BadInput(f"{code} is not a HUD code for {what} ({list_id}); use one of: {allowed}.", field=field)
    return code


def _past(day: date, *, what: str, field: str, years_back: int | None = None) -> date:
    """A day that is not in the future, not before HMIS began, and (for operational dates) recent."""
    if day > today():
        raise BadInput(f"The {what} cannot be in the future.", field=field)
    if day < HMIS_EARLIEST:
        raise BadInput(f"The {what} cannot be before {HMIS_EARLIEST.isoformat()}, when HMIS data begins.", field=field)
    if years_back is not None and (today() - day).days > years_back * 366:
        raise BadInput(f"The {what} is more than {years_back} years ago; check the year.", field=field)
    return day


async def _coc(session: AsyncSession, code: str) -> ContinuumOfCare:
    coc = await session.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == code))
    if coc is None:
        raise NotFound("No Continuum of Care has that code.")
    return coc


def _check_ce_manager(viewer: Viewer, capability: ce_policy.CeCapability, coc_code: str) -> None:
    if not ce_policy.can(viewer, capability, coc_code=coc_code):
        raise Forbidden(
            "Assessments and the priority list are for the Coordinated Entry managers of that Continuum of Care."
        )


async def _event(
    session: AsyncSession, *, subject_type: SubjectType, subject_id: int, kind: EventKind, actor: Viewer, change: dict[str, Any]
) -> None:
    await record_event(
        session, subject_type=subject_type, subject_id=subject_id, kind=kind, actor=actor, source=ChangeSource.DASHBOARD, change=change
    )


# Assessments and the priority list ---------------------------------------------------------------


def _checked_assessment(new: NewAssessment) -> dict[str, Any]:
    """The assessment's columns, every one checked; raises BadInput before anything is written."""
    questions = list(new.questions)
    results = list(new.results)
    if len(questions) > MAX_QUESTIONS:
        raise BadInput(f"An assessment holds {MAX_QUESTIONS} questions at most.", field="questions")
    if len(results) > MAX_RESULTS:
        raise BadInput(f"An assessment holds {MAX_RESULTS} results at most.", field="results")
    if new.score is not None and not (math.isfinite(new.score) and -MAX_SCORE <= new.score <= MAX_SCORE):
        raise BadInput("The score must be a number between -1,000,000 and 1,000,000.", field="score")
    if new.days_homeless is not None and not 0 <= new.days_homeless <= MAX_DAYS:
        raise BadInput(f"Days homeless must be between 0 and {MAX_DAYS}.", field="daysHomeless")
    status = _code(hud.PRIORITIZATION_STATUS, new.prioritization_status, what="the prioritization status", field="prioritizationStatus")
    if status == 1 and (new.score is None or new.days_homeless is None):
        raise BadInput(
            "To place someone on the priority list, give their score and days homeless: the list is ordered by them.",
            field="score",
        )
    return dict(
        assessment_date=_past(new.assessment_date, what="assessment date", field="assessmentDate"),
        location=bounded_text(new.location, limit=LOCATION_MAX, what="assessment location", field="location", required=True),
        assessment_type=_code(hud.ASSESSMENT_TYPE, new.assessment_type, what="the assessment type", field="assessmentType"),
        assessment_level=_code(hud.ASSESSMENT_LEVEL, new.assessment_level, what="the assessment level", field="assessmentLevel"),
        prioritization_status=status,
        questions=[
            {
                "question": bounded_text(q.question, limit=QUESTION_MAX, what="question", field="questions", required=True),
                "answer": bounded_text(q.answer, limit=ANSWER_MAX, what="answer", field="questions") or "",
                "group": bounded_text(q.group, limit=GROUP_MAX, what="question group", field="questions"),
            }
            for q in questions
        ],
        results=[
            {
                "type": bounded_text(r.type, limit=RESULT_TYPE_MAX, what="result type", field="results", required=True),
                "result": bounded_text(r.result, limit=RESULT_MAX, what="result", field="results", required=True),
            }
            for r in results
        ],
        score=new.score,
        days_homeless=new.days_homeless,
        household_type=new.household_type.value,
    )


async def _open_entry(session: AsyncSession, *, coc_id: int, seeker_id: int) -> PriorityListEntry | None:
    return await session.scalar(
        select(PriorityListEntry).where(
            PriorityListEntry.coc_id == coc_id, PriorityListEntry.seeker_id == seeker_id, PriorityListEntry.left_on.is_(None)
        )
    )


async def record_assessment_in(session: AsyncSession, viewer: Viewer, new: NewAssessment) -> Assessed:
    _check_ce_manager(viewer, ce_policy.CeCapability.RECORD_ASSESSMENT, new.coc_code)
    columns = _checked_assessment(new)
    eligibility = bounded_text(new.eligibility, limit=ELIGIBILITY_MAX, what="eligibility", field="eligibility") or ""
    coc = await _coc(session, new.coc_code)
    seeker = await session.get(Seeker, new.seeker_id)
    if seeker is None:
        raise NotFound("No seeker with that id.")
    assessment = CeAssessment(seeker_id=seeker.id, coc_id=coc.id, created_by_user_id=viewer.user_id, **columns)
    session.add(assessment)
    await session.flush()
    await _audit_write(session, viewer, seeker.id, AuditSubject.CE_ASSESSMENT, assessment.id, Scope.CE_ASSESSMENT)
    if assessment.prioritization_status != 1:
        return Assessed(assessment=assessment, entry=None)
    # One open entry per client per CoC: a new placement updates it, and keeps the day they were first placed.
    entry = await _open_entry(session, coc_id=coc.id, seeker_id=seeker.id)
    kind = EventKind.STATUS_CHANGED if entry else EventKind.CREATED
    if entry is None:
        entry = PriorityListEntry(coc_id=coc.id, seeker_id=seeker.id, placed_on=assessment.assessment_date)
        session.add(entry)
    entry.seeker = seeker
    entry.assessment_id = assessment.id
    entry.score = assessment.score
    entry.days_homeless = assessment.days_homeless
    entry.household_type = assessment.household_type
    entry.eligibility = eligibility
    await session.flush()
    change = {
        "action": "PLACED" if kind is EventKind.CREATED else "UPDATED",
        "cocId": coc.id,
        "assessmentId": assessment.id,
        "score": entry.score,
        "daysHomeless": entry.days_homeless,
    }
    await _event(session, subject_type=SubjectType.PRIORITY_LIST, subject_id=entry.id, kind=kind, actor=viewer, change=change)
    return Assessed(assessment=assessment, entry=entry)


async def _audit_write(
    session: AsyncSession, viewer: Viewer, seeker_id: int, subject: AuditSubject, subject_id: int, *scopes: Scope
) -> None:
    await audit.record(
        session, viewer, seeker_ids=[seeker_id], scopes=scopes, action=AuditAction.WRITE, subject=audit.Subject(subject, subject_id)
    )


def _event_touch(event: CeEvent) -> audit.Touch:
    # Everyone who may read a CE event sees the person's name (the wall, initials only, is not recorded).
    return audit.Touch(event.seeker_id, frozenset({Scope.NAME, Scope.REFERRALS}), audit.Subject(AuditSubject.CE_EVENT, event.id))


async def record_assessment(runtime: Runtime, viewer: Viewer, new: NewAssessment, *, request: Once | None = None) -> Assessed:
    async def replay(session: AsyncSession, assessment_id: int) -> Assessed:
        _check_ce_manager(viewer, ce_policy.CeCapability.RECORD_ASSESSMENT, new.coc_code)
        assessment = await session.get(CeAssessment, assessment_id)
        assert assessment is not None
        entry = None
        if assessment.prioritization_status == 1:
            # The entry it placed, or (a later assessment having updated it since) the one open now.
            entry = await session.scalar(
                select(PriorityListEntry)
                .where(
                    PriorityListEntry.coc_id == assessment.coc_id,
                    PriorityListEntry.seeker_id == assessment.seeker_id,
                    or_(PriorityListEntry.assessment_id == assessment.id, PriorityListEntry.left_on.is_(None)),
                )
                .options(selectinload(PriorityListEntry.seeker))
                .order_by(PriorityListEntry.id.desc())
                .limit(1)
            )
        return Assessed(assessment=assessment, entry=entry)

    return await write_once(
        runtime,
        viewer,
        request,
        lambda s: record_assessment_in(s, viewer, new),
        record=lambda done: Record("CeAssessment", done.assessment.id),
        replay=replay,
    )


def priority_order(rule: Sequence[str] | None) -> tuple[list[Any], list[bool]]:
    """The CoC's rule as columns and directions, ending in the id so that the order is total.

    Unknown keys are skipped; keys the rule leaves out follow in the default order.
    """
    keys = [k for k in (rule or ()) if k in PRIORITY_KEYS]
    keys = list(dict.fromkeys([*keys, *DEFAULT_PRIORITY_RULE]))
    columns = [PRIORITY_KEYS[k][0] for k in keys] + [PriorityListEntry.id]
    directions = [PRIORITY_KEYS[k][1] for k in keys] + [False]
    return columns, directions


def hud_code_list(list_id: str) -> dict[int, str]:
    """One of HUD's code lists that the project holds (db/hmis/lists.csv), for pickers."""
    if list_id not in hud.lists():
        known = ", ".join(sorted(hud.lists()))
        raise BadInput(f"“{excerpt(list_id)}” is not a HUD code list Referloop holds; these are: {known}.", field="list")
    return hud.codes(list_id)


@dataclass(frozen=True)
class ListFilter:
    """What a CE manager narrows the priority list to when matching it against an opening."""

    household_type: HouseholdType | None = None
    eligibility: str | None = None
    veteran: bool | None = None
    min_score: float | None = None


def _list_filters(coc_id: int, narrow: ListFilter) -> list[Any]:
    filters: list[Any] = [PriorityListEntry.coc_id == coc_id, PriorityListEntry.left_on.is_(None)]
    if narrow.household_type is not None:
        filters.append(PriorityListEntry.household_type == narrow.household_type.value)
    filters.extend(every_word_matches(narrow.eligibility, PriorityListEntry.eligibility))
    if narrow.veteran is not None:
        # 1.8's "Yes" is a veteran; every other answer (no, doesn't know, prefers not, not collected) is not.
        veterans = select(Seeker.id).where(Seeker.veteran_status == hud.YES)
        filters.append(PriorityListEntry.seeker_id.in_(veterans) if narrow.veteran else PriorityListEntry.seeker_id.not_in(veterans))
    if narrow.min_score is not None:
        filters.append(PriorityListEntry.score >= narrow.min_score)
    return filters


async def priority_list(
    runtime: Runtime,
    viewer: Viewer,
    *,
    coc_code: str,
    narrow: ListFilter,
    first: int,
    after: str | None,
) -> PriorityList:
    """The CoC's open entries in the order of its priority rule, recorded as read (names, scores)."""
    listed = await _priority_list(runtime, viewer, coc_code=coc_code, narrow=narrow, first=first, after=after)
    scopes = frozenset({Scope.NAME, Scope.CE_ASSESSMENT})
    await audit.record_read(
        runtime.db,
        viewer,
        [audit.Touch(e.seeker_id, scopes, audit.Subject(AuditSubject.PRIORITY_LIST, e.id)) for e in listed.page.items],
    )
    return listed


async def _priority_list(
    runtime: Runtime, viewer: Viewer, *, coc_code: str, narrow: ListFilter, first: int, after: str | None
) -> PriorityList:
    _check_ce_manager(viewer, ce_policy.CeCapability.MANAGE_PRIORITY_LIST, coc_code)
    async with runtime.db.read() as session:
        last_seq = await latest_seq(session)
        coc = await _coc(session, coc_code)
        filters = [*_list_filters(coc.id, narrow), ce_policy.entry_where(viewer)]
        total = await session.scalar(select(func.count()).select_from(PriorityListEntry).where(*filters))
        columns, directions = priority_order(coc.priority_rule)
        stmt = select(PriorityListEntry).where(*filters).options(*ce_policy.ENTRY_LOAD)
        page = await keyset_page(session, stmt, order=columns, first=first, after=after, descending=directions)
    return PriorityList(page=page, total_count=int(total or 0), last_seq=last_seq)


async def priority_head(runtime: Runtime, viewer: Viewer, *, coc_code: str, first: int) -> list[PriorityListEntry]:
    """The wall's head of the list: initials, score and days only, so not recorded as a read."""
    return (
        await _priority_list(runtime, viewer, coc_code=coc_code, narrow=ListFilter(), first=first, after=None)
    ).page.items


async def _entry_for(session: AsyncSession, viewer: Viewer, entry_id: int, action: ce_policy.ListAction) -> PriorityListEntry:
    entry = await session.scalar(
        select(PriorityListEntry).where(PriorityListEntry.id == entry_id).options(*ce_policy.ENTRY_LOAD)
    )
    if entry is None or not ce_policy.may_entry(viewer, ce_policy.ListAction.READ, entry):
        raise NotFound("No priority list entry with that id is available to you.")
    if not ce_policy.may_entry(viewer, action, entry):
        raise Forbidden("Only the CoC's Coordinated Entry managers change its priority list.")
    return entry


async def remove_from_priority_list_in(session: AsyncSession, viewer: Viewer, *, entry_id: int, reason: str) -> PriorityListEntry:
    text = bounded_text(reason, limit=REASON_MAX, what="reason for taking them off the list", field="reason", required=True)
    if viewer.role is not Role.CE_MANAGER:
        raise Forbidden("Only the CoC's Coordinated Entry managers change its priority list.")
    entry = await _entry_for(session, viewer, entry_id, ce_policy.ListAction.REMOVE)
    if entry.left_on is not None:
        raise Conflict("That person is no longer on the priority list.")
    entry.left_on = today()
    entry.left_reason = text
    await session.flush()
    await _audit_write(session, viewer, entry.seeker_id, AuditSubject.PRIORITY_LIST, entry.id, Scope.CE_ASSESSMENT)
    change = {"action": "REMOVED", "cocId": entry.coc_id, "reason": text}
    await _event(session, subject_type=SubjectType.PRIORITY_LIST, subject_id=entry.id, kind=EventKind.STATUS_CHANGED, actor=viewer, change=change)
    return entry


async def remove_from_priority_list(runtime: Runtime, viewer: Viewer, *, entry_id: int, reason: str) -> PriorityListEntry:
    return await _write(runtime, lambda s: remove_from_priority_list_in(s, viewer, entry_id=entry_id, reason=reason))


# Vacancies -------------------------------------------------------------------------------------


async def post_vacancy_in(session: AsyncSession, viewer: Viewer, new: NewVacancy) -> Vacancy:
    description = bounded_text(new.description, limit=DESCRIPTION_MAX, what="description", field="description", required=True)
    notes = bounded_text(new.eligibility_notes, limit=NOTES_MAX, what="eligibility notes", field="eligibilityNotes") or ""
    if not 1 <= new.size <= MAX_SIZE:
        raise BadInput(f"The size is the bedrooms of a unit, or 1 for a bed: between 1 and {MAX_SIZE}.", field="size")
    opened_on = _past(new.opened_on, what="day the vacancy opened", field="openedOn", years_back=VACANCY_YEARS_BACK)
    program = await session.get(Program, new.program_id)
    if program is None:
        raise NotFound("No program with that id.")
    if viewer.organization_id != program.organization_id or viewer.role not in (Role.PROGRAM_STAFF, Role.ADMIN):
        raise Forbidden("Vacancies are posted by the staff of the program's own organization.")
    if not ce_policy.can(viewer, ce_policy.CeCapability.POST_VACANCY, program=program):
        raise BadInput(
            "Vacancies are for HUD housing projects: give the program its HUD project type and CoC first.", field="programId"
        )
    vacancy = Vacancy(
        program_id=program.id,
        description=description,
        size=new.size,
        opened_on=opened_on,
        eligibility_notes=notes,
        household_type=new.household_type.value if new.household_type else None,
        created_by_user_id=viewer.user_id,
    )
    session.add(vacancy)
    await session.flush()
    change = {"action": "POSTED", "programId": program.id, "cocId": program.coc_id, "openedOn": opened_on.isoformat()}
    await _event(session, subject_type=SubjectType.VACANCY, subject_id=vacancy.id, kind=EventKind.CREATED, actor=viewer, change=change)
    return vacancy


async def post_vacancy(runtime: Runtime, viewer: Viewer, new: NewVacancy, *, request: Once | None = None) -> Vacancy:
    async def write(session: AsyncSession) -> Vacancy:
        vacancy = await post_vacancy_in(session, viewer, new)
        fresh = await session.scalar(select(Vacancy).where(Vacancy.id == vacancy.id).options(*ce_policy.VACANCY_LOAD))
        assert fresh is not None
        return fresh

    return await write_once(
        runtime,
        viewer,
        request,
        write,
        record=lambda vacancy: Record("Vacancy", vacancy.id),
        replay=lambda session, vacancy_id: _vacancy_for(session, viewer, vacancy_id),
    )


async def vacancies(runtime: Runtime, viewer: Viewer, *, coc_code: str, open: bool | None) -> list[Vacancy]:
    """The CoC's vacancies the viewer may see (its CE managers: all; a provider: their own), oldest first."""
    if viewer.role not in (Role.CE_MANAGER, Role.PROGRAM_STAFF, Role.ADMIN):
        raise Forbidden("Vacancies are for the CoC's Coordinated Entry managers and the housing providers.")
    if viewer.role is Role.CE_MANAGER and viewer.acting is not None and viewer.acting.coc_code != coc_code:
        raise Forbidden("You can see the vacancies of the Continuum of Care you act for only.")
    async with runtime.db.read() as session:
        coc = await _coc(session, coc_code)
        filters: list[Any] = [
            ce_policy.vacancy_where(viewer),
            Vacancy.program_id.in_(select(Program.id).where(Program.coc_id == coc.id)),
        ]
        if open is True:
            filters.append(Vacancy.filled_on.is_(None))
        elif open is False:
            filters.append(Vacancy.filled_on.is_not(None))
        rows = await session.scalars(
            select(Vacancy).where(*filters).options(*ce_policy.VACANCY_LOAD).order_by(Vacancy.opened_on, Vacancy.id).limit(MAX_PAGE)
        )
        return list(rows.unique())


# CE events: the referral to a vacancy and the provider's answer ----------------------------------


async def _load_event(session: AsyncSession, event_id: int) -> CeEvent | None:
    return await session.scalar(
        select(CeEvent).where(CeEvent.id == event_id).options(*ce_policy.CE_EVENT_LOAD).execution_options(populate_existing=True)
    )


async def _event_for(session: AsyncSession, viewer: Viewer, event_id: int, action: ce_policy.CeAction, refusal: str) -> CeEvent:
    event = await _load_event(session, event_id)
    if event is None or not ce_policy.may_ce_event(viewer, ce_policy.CeAction.READ, event):
        raise NotFound("No Coordinated Entry referral with that id is available to you.")
    if not ce_policy.may_ce_event(viewer, action, event):
        raise Forbidden(refusal)
    return event


async def _bump(session: AsyncSession, event: CeEvent, expected_version: int | None, **values: Any) -> int:
    """Write `values` if the event is still at `expected_version` (its current one if None); the new version."""
    version = event.version if expected_version is None else expected_version
    if event.version != version:
        raise Conflict(STALE_EVENT, currentVersion=event.version)
    changed = cast(
        "CursorResult[Any]",
        await session.execute(
            update(CeEvent)
            .where(CeEvent.id == event.id, CeEvent.version == version)
            .values(**values, version=CeEvent.version + 1, updated_at=utcnow())
        ),
    )
    if changed.rowcount != 1:
        raise Conflict(STALE_EVENT)
    return version + 1


STALE_EVENT = "Someone else updated this Coordinated Entry referral since you loaded it. Reload it to see where it stands."


async def create_ce_referral_in(session: AsyncSession, viewer: Viewer, new: NewCeReferral) -> CeEvent:
    note = bounded_text(new.note, limit=NOTE_MAX, what="note", field="note")
    location = bounded_text(new.location, limit=LOCATION_MAX, what="location", field="location")
    if new.entry_id is None and new.seeker_id is None:
        raise BadInput("Give the priority list entry (entryId) or the seeker (seekerId) to refer.", field="entryId")
    if new.entry_id is not None and new.seeker_id is not None:
        raise BadInput("Give either the priority list entry (entryId) or the seeker (seekerId), not both.", field="entryId")
    vacancy = await session.scalar(select(Vacancy).where(Vacancy.id == new.vacancy_id).options(*ce_policy.VACANCY_LOAD))
    if vacancy is None or not ce_policy.may_vacancy(viewer, ce_policy.VacancyAction.READ, vacancy):
        raise NotFound("No vacancy with that id is available to you.")
    if not ce_policy.may_vacancy(viewer, ce_policy.VacancyAction.REFER, vacancy):
        raise Forbidden("Referrals to a vacancy are made by the Coordinated Entry managers of its CoC.")
    program = vacancy.program
    event_type = EVENT_TYPE_FOR_PROJECT.get(program.hud_project_type) if program.hud_project_type is not None else None
    if event_type is None:
        label = hud.label(hud.PROJECT_TYPE, program.hud_project_type) or "no HUD project type"
        raise BadInput(
            f"{program.name} is {label}: Coordinated Entry refers only to emergency shelter, transitional housing, "
            "rapid re-housing, permanent supportive housing and other permanent housing openings.",
            field="vacancyId",
        )
    if new.problem_solving_result is not None:
        raise BadInput("A problem solving result (4.20.A) belongs to a problem solving event (type 2) only.", field="problemSolvingResult")
    if new.case_management_after is not None:
        raise BadInput("Case management after placement (4.20.B) belongs to a follow-up event (type 5) only.", field="caseManagementAfter")
    if vacancy.filled_on is not None:
        raise Conflict("That vacancy is already filled.")
    if not program.accepts_referrals:
        raise BadInput(f"{program.name} does not take referrals through Referloop.", field="vacancyId")
    assert program.coc_id is not None  # a vacancy is only posted at a program with a CoC
    if new.entry_id is not None:
        entry = await _entry_for(session, viewer, new.entry_id, ce_policy.ListAction.REFER)
        if entry.left_on is not None:
            raise BadInput("That person is no longer on the priority list.", field="entryId")
        if entry.coc_id != program.coc_id:
            raise BadInput("That entry is on another CoC's priority list.", field="entryId")
        seeker_id = entry.seeker_id
    else:
        assert new.seeker_id is not None
        seeker_id = new.seeker_id
    seeker = await session.get(Seeker, seeker_id)
    if seeker is None:
        raise NotFound("No seeker with that id.")
    listed = await _open_entry(session, coc_id=program.coc_id, seeker_id=seeker.id)
    if new.seeker_id is not None and listed is None:
        raise BadInput(
            "That person is not on the CoC's priority list: Coordinated Entry refers from the list; assess them first.",
            field="seekerId",
        )
    if vacancy.household_type is not None and listed is not None and listed.household_type != vacancy.household_type:
        raise BadInput(
            f"This opening is for {vacancy.household_type.lower()} households and {seeker.first_name} is on the "
            f"{listed.household_type.lower()} list: refer someone the opening suits.",
            field="entryId" if new.entry_id is not None else "seekerId",
        )
    await _check_one_offer_at_a_time(session, vacancy, seeker)
    referral = await open_referral_in(
        session,
        viewer,
        seeker=seeker,
        program=program,
        kind=ReferralKind.LIVE,
        site=None,
        preference=seeker.contact_preference,
        screener_answers=[],
        comment=note,
        source=ChangeSource.DASHBOARD,
    )
    event = CeEvent(
        seeker_id=seeker.id,
        coc_id=program.coc_id,
        event_date=today(),
        event_type=event_type,
        location=location,
        referral_id=referral.id,
        program_id=program.id,
        vacancy_id=vacancy.id,
        provider_contact_email=program.contact_emails[0] if program.contact_emails else None,
        created_by_user_id=viewer.user_id,
    )
    session.add(event)
    await session.flush()
    await _audit_write(session, viewer, seeker.id, AuditSubject.CE_EVENT, event.id, Scope.REFERRALS)
    change = {"action": "REFERRED", "cocId": event.coc_id, "eventType": event_type, "referralId": referral.id, "vacancyId": vacancy.id, "version": 1}
    await _event(session, subject_type=SubjectType.CE_EVENT, subject_id=event.id, kind=EventKind.CREATED, actor=viewer, change=change)
    return event


def _pending() -> Any:
    return CeEvent.result.is_(None)


async def _check_one_offer_at_a_time(session: AsyncSession, vacancy: Vacancy, seeker: Seeker) -> None:
    """CE practice: one pending offer per client, and no more pending referrals to a vacancy than its size.

    The vacancy's and the client's rows are locked first (PostgreSQL; SQLite writes one at a time),
    so that two CE managers referring at once cannot both pass the counts.
    """
    await session.execute(select(Vacancy.id).where(Vacancy.id == vacancy.id).with_for_update())
    await session.execute(select(Seeker.id).where(Seeker.id == seeker.id).with_for_update())
    pending = await session.scalars(
        select(CeEvent).where(CeEvent.seeker_id == seeker.id, _pending()).options(*ce_policy.CE_EVENT_LOAD).order_by(CeEvent.id)
    )
    mine = list(pending.unique())
    if any(e.vacancy_id == vacancy.id for e in mine):
        raise BadInput(
            f"{initials(seeker)} is already referred to this vacancy and the provider has not answered yet; "
            "wait for the result before referring them again.",
            field="vacancyId",
        )
    if mine:
        other = mine[0]
        where = other.program.name if other.program is not None else "another opening"
        raise BadInput(
            f"{initials(seeker)} already has a pending Coordinated Entry referral, to {where} "
            f"(made {other.event_date.isoformat()}): one offer at a time. Wait for its result before offering another.",
            field="entryId",
        )
    taken = int(await session.scalar(select(func.count()).select_from(CeEvent).where(CeEvent.vacancy_id == vacancy.id, _pending())) or 0)
    if taken >= vacancy.size:
        units = "1 pending referral" if taken == 1 else f"{taken} pending referrals"
        raise BadInput(
            f"This vacancy already has {units}, as many as its size ({vacancy.size}) allows; "
            "wait for a result, or refer to another vacancy.",
            field="vacancyId",
        )


async def _write_event(runtime: Runtime, change: Callable[[AsyncSession], Awaitable[CeEvent]]) -> CeEvent:
    async with runtime.db.write() as session:
        event = await change(session)
        fresh = await _load_event(session, event.id)
    await runtime.announce()
    assert fresh is not None
    return fresh


async def create_ce_referral(runtime: Runtime, viewer: Viewer, new: NewCeReferral, *, request: Once | None = None) -> CeEvent:
    async def write(session: AsyncSession) -> CeEvent:
        event = await create_ce_referral_in(session, viewer, new)
        fresh = await _load_event(session, event.id)
        assert fresh is not None
        return fresh

    return await write_once(
        runtime,
        viewer,
        request,
        write,
        record=lambda event: Record("CeEvent", event.id),
        replay=lambda session, event_id: _ce_event_for(session, viewer, event_id),
    )


async def acknowledge_in(session: AsyncSession, viewer: Viewer, ack: Acknowledgement) -> CeEvent:
    name = bounded_text(ack.provider_contact_name, limit=NAME_MAX, what="provider contact's name", field="providerContactName")
    phone = normalize_phone(ack.provider_contact_phone)
    email = normalize_email(ack.provider_contact_email)
    event = await _event_for(
        session, viewer, ack.ce_event_id, ce_policy.CeAction.ACKNOWLEDGE, "The provider's staff acknowledge a Coordinated Entry referral."
    )
    _past(ack.acknowledged_on, what="acknowledgement date", field="acknowledgedOn")
    if ack.acknowledged_on < event.event_date:
        raise BadInput("The referral cannot be acknowledged before it was made.", field="acknowledgedOn")
    if event.result is not None:
        raise Conflict("This referral is already resolved.")
    if event.acknowledged_on is not None:
        raise Conflict(f"This referral is already acknowledged (on {event.acknowledged_on.isoformat()}).", currentVersion=event.version)
    values: dict[str, Any] = {"acknowledged_on": ack.acknowledged_on}
    if name is not None:
        values["provider_contact_name"] = name
    if phone is not None:
        values["provider_contact_phone"] = phone
    if email is not None:
        values["provider_contact_email"] = email
    version = await _bump(session, event, ack.expected_version, **values)
    await _audit_write(session, viewer, event.seeker_id, AuditSubject.CE_EVENT, event.id, Scope.REFERRALS)
    change = {"action": "ACKNOWLEDGED", "cocId": event.coc_id, "acknowledgedOn": ack.acknowledged_on.isoformat(), "version": version}
    await _event(session, subject_type=SubjectType.CE_EVENT, subject_id=event.id, kind=EventKind.STATUS_CHANGED, actor=viewer, change=change)
    # The live referral follows: acknowledged is no longer "not updated", and its history says why.
    await _follow(session, viewer, event, ReferralStatus.PENDING, note="Acknowledged through Coordinated Entry", only_from=ReferralStatus.NOT_UPDATED)
    return event


async def _follow(
    session: AsyncSession,
    viewer: Viewer,
    event: CeEvent,
    status: ReferralStatus,
    *,
    note: str | None,
    only_from: ReferralStatus | None = None,
) -> None:
    """Move the CE event's live referral to `status` through the referrals' own path (history, outbox)."""
    if event.referral_id is None:
        return
    referral = await session.scalar(select(Referral).where(Referral.id == event.referral_id).execution_options(populate_existing=True))
    if referral is None or referral.status is status or (only_from is not None and referral.status is not only_from):
        return
    await update_status_in(
        session, viewer, referral_id=referral.id, status=status, expected_version=referral.version, note=note, ce_workflow=True
    )


async def acknowledge_ce_referral(runtime: Runtime, viewer: Viewer, ack: Acknowledgement) -> CeEvent:
    return await _write_event(runtime, lambda s: acknowledge_in(s, viewer, ack))


async def resolve_in(session: AsyncSession, viewer: Viewer, res: Resolution) -> CeEvent:
    result = _code(hud.REFERRAL_RESULT, res.result, what="the referral result", field="result")
    event = await _event_for(
        session, viewer, res.ce_event_id, ce_policy.CeAction.RESOLVE, "The provider's staff record what came of a Coordinated Entry referral."
    )
    _past(res.result_date, what="result date", field="resultDate")
    if res.result_date < event.event_date:
        raise BadInput("The result date cannot be before the referral was made.", field="resultDate")
    if event.result is not None:
        raise Conflict("This referral is already resolved.")
    if event.acknowledged_on is None:
        raise BadInput("The provider has not acknowledged this referral yet: acknowledge it first, then record the result.", field="ceEventId")
    if res.result_date < event.acknowledged_on:
        raise BadInput(
            f"The result date cannot be before the referral was acknowledged ({event.acknowledged_on.isoformat()}).", field="resultDate"
        )
    if event.version != res.expected_version:
        raise Conflict(STALE_EVENT, currentVersion=event.version)
    values: dict[str, Any] = {"result": result, "result_date": res.result_date}
    enrollment: Enrollment | None = None
    if result == hud.SUCCESSFUL:
        if res.resulting_enrollment_id is not None:
            enrollment = await session.get(Enrollment, res.resulting_enrollment_id)
        if enrollment is None or enrollment.seeker_id != event.seeker_id or enrollment.program_id != event.program_id:
            raise BadInput(
                "A successful referral needs the client's enrollment in this program: enroll them first, then give "
                "that enrollment's id.",
                field="resultingEnrollmentId",
            )
        if enrollment.exit_date is not None:
            raise BadInput(
                f"That enrollment ended on {enrollment.exit_date.isoformat()}: a successful referral needs the client's "
                "open enrollment in this program (no exit date). Enroll them again, then give that enrollment.",
                field="resultingEnrollmentId",
            )
        values["resulting_enrollment_id"] = enrollment.id
        values["enrollment_id"] = enrollment.id
    elif res.resulting_enrollment_id is not None:
        raise BadInput("Only a successful referral (result 1) has a resulting enrollment.", field="resultingEnrollmentId")
    version = await _bump(session, event, res.expected_version, **values)
    if enrollment is not None:
        if event.vacancy_id is not None:
            filled = cast(
                "CursorResult[Any]",
                await session.execute(
                    update(Vacancy)
                    .where(Vacancy.id == event.vacancy_id, Vacancy.filled_on.is_(None))
                    .values(filled_on=res.result_date, filled_by_enrollment_id=enrollment.id)
                ),
            )
            if filled.rowcount != 1:
                raise Conflict("That vacancy was filled by another referral meanwhile.")
            vacancy_change = {"action": "FILLED", "cocId": event.coc_id, "enrollmentId": enrollment.id, "filledOn": res.result_date.isoformat()}
            await _event(session, subject_type=SubjectType.VACANCY, subject_id=event.vacancy_id, kind=EventKind.STATUS_CHANGED, actor=viewer, change=vacancy_change)
        entry = await _open_entry(session, coc_id=event.coc_id, seeker_id=event.seeker_id)
        if entry is not None:
            entry.left_on = res.result_date
            entry.left_reason = HOUSED
            await session.flush()
            list_change = {"action": "HOUSED", "cocId": entry.coc_id, "ceEventId": event.id}
            await _event(session, subject_type=SubjectType.PRIORITY_LIST, subject_id=entry.id, kind=EventKind.STATUS_CHANGED, actor=viewer, change=list_change)
    await _audit_write(session, viewer, event.seeker_id, AuditSubject.CE_EVENT, event.id, Scope.REFERRALS, *([Scope.ENROLLMENTS] if enrollment else []))
    change = {"action": "RESOLVED", "cocId": event.coc_id, "result": result, "resultDate": res.result_date.isoformat(), "version": version}
    await _event(session, subject_type=SubjectType.CE_EVENT, subject_id=event.id, kind=EventKind.STATUS_CHANGED, actor=viewer, change=change)
    assert result is not None
    await _follow(session, viewer, event, STATUS_FOR_RESULT[result], note=hud.label(hud.REFERRAL_RESULT, result))
    return event


async def resolve_ce_referral(runtime: Runtime, viewer: Viewer, res: Resolution) -> CeEvent:
    return await _write_event(runtime, lambda s: resolve_in(s, viewer, res))


async def record_not_housed_in(session: AsyncSession, viewer: Viewer, *, ce_event_id: int, reason: NotHousedReason) -> CeEvent:
    event = await _event_for(
        session, viewer, ce_event_id, ce_policy.CeAction.RECORD_NOT_HOUSED, "You can see this referral but not record why it did not end in housing."
    )
    if event.result is None:
        raise BadInput("This referral has no result yet: record the (unsuccessful) result first, then why.", field="reason")
    if event.result == hud.SUCCESSFUL:
        raise BadInput("This referral ended in housing; there is no reason to record for not being housed.", field="reason")
    if event.not_housed_reason is not None:
        raise Conflict("The reason this client was not housed is already recorded.", currentVersion=event.version)
    # Only the local reason changes: 4.20.D and 4.20.E stay as the provider recorded them.
    version = await _bump(session, event, None, not_housed_reason=reason.value)
    await _audit_write(session, viewer, event.seeker_id, AuditSubject.CE_EVENT, event.id, Scope.REFERRALS)
    change = {"action": "NOT_HOUSED_REASON", "cocId": event.coc_id, "reason": reason.value, "version": version}
    await _event(session, subject_type=SubjectType.CE_EVENT, subject_id=event.id, kind=EventKind.STATUS_CHANGED, actor=viewer, change=change)
    return event


async def record_not_housed_reason(runtime: Runtime, viewer: Viewer, *, ce_event_id: int, reason: NotHousedReason) -> CeEvent:
    return await _write_event(runtime, lambda s: record_not_housed_in(s, viewer, ce_event_id=ce_event_id, reason=reason))


def _status_filter(status: CeEventStatus | None) -> list[Any]:
    if status is CeEventStatus.WAITING:
        return [CeEvent.acknowledged_on.is_(None), CeEvent.result.is_(None)]
    if status is CeEventStatus.ACKNOWLEDGED:
        return [CeEvent.acknowledged_on.is_not(None), CeEvent.result.is_(None)]
    if status is CeEventStatus.RESOLVED:
        return [CeEvent.result.is_not(None)]
    return []


def event_status(event: CeEvent) -> CeEventStatus:
    if event.result is not None:
        return CeEventStatus.RESOLVED
    return CeEventStatus.ACKNOWLEDGED if event.acknowledged_on is not None else CeEventStatus.WAITING


async def ce_events(
    runtime: Runtime, viewer: Viewer, *, coc_code: str, status: CeEventStatus | None, first: int, after: str | None
) -> CePipeline:
    """The CoC's CE referrals the viewer may see, oldest first (longest waiting at the top), recorded as read."""
    pipeline = await _ce_events(runtime, viewer, coc_code=coc_code, status=status, first=first, after=after)
    await audit.record_read(runtime.db, viewer, [_event_touch(e) for e in pipeline.page.items])
    return pipeline


async def _ce_events(
    runtime: Runtime, viewer: Viewer, *, coc_code: str, status: CeEventStatus | None, first: int, after: str | None
) -> CePipeline:
    if viewer.role not in (Role.CE_MANAGER, Role.PROGRAM_STAFF, Role.ADMIN):
        raise Forbidden("The Coordinated Entry pipeline is for the CoC's CE managers and the housing providers.")
    if viewer.role is Role.CE_MANAGER and viewer.acting is not None and viewer.acting.coc_code != coc_code:
        raise Forbidden("You can see the pipeline of the Continuum of Care you act for only.")
    async with runtime.db.read() as session:
        last_seq = await latest_seq(session)
        coc = await _coc(session, coc_code)
        filters = [CeEvent.coc_id == coc.id, ce_policy.ce_event_where(viewer), *_status_filter(status)]
        total = await session.scalar(select(func.count()).select_from(CeEvent).where(*filters))
        stmt = select(CeEvent).where(*filters).options(*ce_policy.CE_EVENT_LOAD)
        page = await keyset_page(session, stmt, order=[CeEvent.id], first=first, after=after, descending=False)
    return CePipeline(page=page, total_count=int(total or 0), last_seq=last_seq)


async def wall_vacancies(runtime: Runtime, viewer: Viewer, *, coc_code: str) -> list[Vacancy]:
    return await vacancies(runtime, viewer, coc_code=coc_code, open=True)


async def wall_waiting(runtime: Runtime, viewer: Viewer, *, coc_code: str, first: int) -> tuple[list[CeEvent], int]:
    """CE referrals nobody at the provider has acknowledged yet, longest waiting first, and how many in all."""
    check_wall_access(viewer, coc_code=coc_code)
    async with runtime.db.read() as session:
        coc = await _coc(session, coc_code)
        filters = [CeEvent.coc_id == coc.id, ce_policy.ce_event_where(viewer), *_status_filter(CeEventStatus.WAITING)]
        rows = await session.scalars(
            select(CeEvent).where(*filters).options(*ce_policy.CE_EVENT_LOAD).order_by(CeEvent.event_date, CeEvent.id).limit(first)
        )
        total = await session.scalar(select(func.count()).select_from(CeEvent).where(*filters))
        return list(rows.unique()), int(total or 0)


@dataclass(frozen=True)
class CeToday:
    referred: int
    acknowledged: int
    housed: int
    unsuccessful: int


async def wall_today(runtime: Runtime, viewer: Viewer, *, coc_code: str) -> CeToday:
    """The day's CE results for the wall's header: referrals made, acknowledged, housed and not, today."""
    check_wall_access(viewer, coc_code=coc_code)
    day = today()
    async with runtime.db.read() as session:
        coc = await _coc(session, coc_code)
        base = [CeEvent.coc_id == coc.id, ce_policy.ce_event_where(viewer)]

        async def count(*where: Any) -> int:
            return int(await session.scalar(select(func.count()).select_from(CeEvent).where(*base, *where)) or 0)

        return CeToday(
            referred=await count(CeEvent.event_date == day),
            acknowledged=await count(CeEvent.acknowledged_on == day),
            housed=await count(CeEvent.result == hud.SUCCESSFUL, CeEvent.result_date == day),
            unsuccessful=await count(CeEvent.result.is_not(None), CeEvent.result != hud.SUCCESSFUL, CeEvent.result_date == day),
        )


async def wall_counts(runtime: Runtime, viewer: Viewer, *, coc_code: str) -> tuple[int, int]:
    """How many open vacancies and open priority list entries the CoC has (the wall shows the first few)."""
    check_wall_access(viewer, coc_code=coc_code)
    async with runtime.db.read() as session:
        coc = await _coc(session, coc_code)
        open_vacancies = await session.scalar(
            select(func.count()).select_from(Vacancy).where(
                ce_policy.vacancy_where(viewer),
                Vacancy.program_id.in_(select(Program.id).where(Program.coc_id == coc.id)),
                Vacancy.filled_on.is_(None),
            )
        )
        listed = await session.scalar(
            select(func.count()).select_from(PriorityListEntry).where(*_list_filters(coc.id, ListFilter()), ce_policy.entry_where(viewer))
        )
        return int(open_vacancies or 0), int(listed or 0)


async def recent_ce_changes(
    runtime: Runtime, viewer: Viewer, *, coc_code: str, since: datetime, first: int
) -> list[tuple[OutboxEvent, CeEvent]]:
    """The CoC's CE events' outbox events since `since` (referred, acknowledged, resolved...), newest first."""
    check_wall_access(viewer, coc_code=coc_code)
    async with runtime.db.read() as session:
        coc = await _coc(session, coc_code)
        rows = await session.execute(
            select(OutboxEvent, CeEvent)
            .join(CeEvent, CeEvent.id == OutboxEvent.subject_id)
            .where(
                OutboxEvent.subject_type == SubjectType.CE_EVENT,
                CeEvent.coc_id == coc.id,
                ce_policy.ce_event_where(viewer),
                OutboxEvent.at >= since,
            )
            .options(*ce_policy.CE_EVENT_LOAD)
            .order_by(OutboxEvent.seq.desc())
            .limit(first)
        )
        return [(event, ce_event) for event, ce_event in rows.unique()]


async def get_ce_event(runtime: Runtime, viewer: Viewer, event_id: int) -> CeEvent:
    async with runtime.db.read() as session:
        return await _ce_event_for(session, viewer, event_id)


async def _ce_event_for(session: AsyncSession, viewer: Viewer, event_id: int) -> CeEvent:
    event = await _load_event(session, event_id)
    if event is None or not ce_policy.may_ce_event(viewer, ce_policy.CeAction.READ, event):
        raise NotFound("No Coordinated Entry referral with that id is available to you.")
    return event


async def get_vacancy(runtime: Runtime, viewer: Viewer, vacancy_id: int) -> Vacancy:
    async with runtime.db.read() as session:
        return await _vacancy_for(session, viewer, vacancy_id)


async def _vacancy_for(session: AsyncSession, viewer: Viewer, vacancy_id: int) -> Vacancy:
    vacancy = await session.scalar(select(Vacancy).where(Vacancy.id == vacancy_id).options(*ce_policy.VACANCY_LOAD))
    if vacancy is None or not ce_policy.may_vacancy(viewer, ce_policy.VacancyAction.READ, vacancy):
        raise NotFound("No vacancy with that id is available to you.")
    return vacancy
