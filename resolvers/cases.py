"""Shared cases: open one for a household, staff it across agencies, keep its file, move it through its stages.

Each change is one write transaction with its outbox event (subject CASE), so every member's case
page follows it live; what each member sees of it is the policy's answer at that moment
(`resolvers.policy.cases`), asked again for every pushed event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.accounts import Membership, User
from db.audit import AuditAction, AuditSubject
from db.audit import Scope as Seen
from db.base import utcnow
from db.cases import (
    AssistanceKind,
    Case,
    CaseMember,
    CaseRecord,
    CaseRole,
    CaseSeeker,
    CaseStage,
    ClosureReason,
    ContactType,
    GoalStatus,
    Intensity,
    RecordKind,
)
from db.consent import Scope
from db.coordinated_entry import CeEvent
from db.enrollments import Enrollment
from db.events import EventKind, OutboxEvent, SubjectType
from db.referrals import ChangeSource, Referral
from db.seekers import Seeker
from resolvers import audit
from resolvers.errors import BadInput, Conflict, Forbidden, NotFound
from resolvers.idempotency import Once, Record, write_once
from resolvers.live.hub import Delivery, referral_changes
from resolvers.live.outbox import latest_seq, record_event
from resolvers.pagination import Page, keyset_page
from resolvers.policy import cases as policy
from resolvers.policy import coordinated_entry as ce_policy
from resolvers.policy import enrollments as enrollment_policy
from resolvers.policy import referrals as referral_policy
from resolvers.policy import seekers as seeker_policy
from resolvers.runtime import Runtime
from resolvers.text import bounded_text
from resolvers.viewer import Viewer

log = logging.getLogger(__name__)

MAX_HOUSEHOLD = 20
MAX_MEMBERS = 30
MAX_RECORDS = 500  # a case page shows its newest 500 records; older ones stay in the file
MAX_ATTENDEES = 30
MAX_NEXT_STEPS = 30
MAX_AMOUNT = Decimal("100000.00")
NOTE_MAX = 10_000
EARLIEST = date(1998, 10, 1)

CASE_LOAD = (
    selectinload(Case.lead_organization),
    selectinload(Case.household).joinedload(CaseSeeker.seeker),
    selectinload(Case.members).joinedload(CaseMember.user),
    selectinload(Case.members).joinedload(CaseMember.organization),
)
# Which consent scope each kind of record falls under; a note may be marked child welfare instead.
SCOPE_OF = {
    RecordKind.GOAL: Scope.CASE_NOTES,
    RecordKind.CONTACT: Scope.CASE_NOTES,
    RecordKind.NOTE: Scope.CASE_NOTES,
    RecordKind.CONFERENCE: Scope.CASE_NOTES,
    RecordKind.ASSISTANCE: Scope.FINANCIAL_ASSISTANCE,
    RecordKind.LINK: Scope.REFERRALS,
}


@dataclass(frozen=True)
class CaseView:
    """One case as one viewer may see it now: the row, the facts asked, the fields and records allowed."""

    case: Case
    facts: policy.CaseFacts
    fields: frozenset[policy.Field]
    records: Sequence[CaseRecord] = ()
    viewer_can: frozenset[policy.Action] = frozenset()
    last_seq: int = 0


@dataclass(frozen=True)
class NewCase:
    household: Sequence[int]  # seeker ids, the head first
    opened_on: date
    role: CaseRole = CaseRole.LEAD_CASE_MANAGER


@dataclass(frozen=True)
class NewRecord:
    case_id: int
    kind: RecordKind
    on: date
    body: str = ""
    child_welfare: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def _day(day: date, *, what: str, field: str) -> date:
    if day > date.today():
        raise BadInput(f"The {what} is in the future.", field=field)
    if day < EARLIEST:
        raise BadInput(f"The {what} is before {EARLIEST.isoformat()}.", field=field)
    return day


def touches(view: CaseView) -> list[audit.Touch]:
    """What reading this view showed of each person in the household, for the audit."""
    seen: set[Seen] = {Seen[r.scope.name] for r in view.records}
    if policy.Field.HOUSEHOLD in view.fields:
        seen.add(Seen.NAME)
    if policy.Field.CONTACT in view.fields:
        seen.add(Seen.CONTACT)
    subject = audit.Subject(AuditSubject.CASE, view.case.id)
    return [audit.Touch(m.seeker_id, frozenset(seen), subject) for m in view.case.household]


async def _record_write(session: AsyncSession, viewer: Viewer, case: Case, *scopes: Seen) -> None:
    await audit.record(
        session,
        viewer,
        seeker_ids=[m.seeker_id for m in case.household],
        scopes=scopes,
        action=AuditAction.WRITE,
        subject=audit.Subject(AuditSubject.CASE, case.id),
    )


def _as_seen(
    viewer: Viewer, case: Case, facts: policy.CaseFacts, records: Sequence[CaseRecord], last_seq: int
) -> CaseView:
    """The case as this viewer may see it, given records they may read."""
    return CaseView(
        case=case,
        facts=facts,
        fields=policy.visible_fields(viewer, case, facts),
        records=records,
        viewer_can=frozenset(a for a in policy.Action if policy.may(viewer, a, case, facts)),
        last_seq=last_seq,
    )


async def _view(session: AsyncSession, viewer: Viewer, case: Case, *, with_records: bool = True) -> CaseView:
    facts = (await policy.load_facts(session, [case]))[case.id]
    if not policy.may(viewer, policy.Action.READ, case, facts):
        raise NotFound("No case with that id is available to you.")
    records: Sequence[CaseRecord] = ()
    if with_records:
        rows = await session.scalars(
            select(CaseRecord)
            .where(CaseRecord.case_id == case.id, policy.record_where(viewer))
            .order_by(CaseRecord.on.desc(), CaseRecord.id.desc())
            .limit(MAX_RECORDS)
        )
        # The SQL and the check agree (tests prove it); checking again here costs nothing and means
        # a record reaches a page only if both forms allow it.
        records = [r for r in rows if policy.may_read_record(viewer, r, case, facts)]
    return _as_seen(viewer, case, facts, records, await latest_seq(session))


async def _load(session: AsyncSession, case_id: int) -> Case | None:
    return await session.scalar(select(Case).where(Case.id == case_id).options(*CASE_LOAD))


async def get_case(runtime: Runtime, viewer: Viewer, case_id: int) -> CaseView:
    async with runtime.db.read() as session:
        case = await _load(session, case_id)
        if case is None:
            raise NotFound("No case with that id is available to you.")
        view = await _view(session, viewer, case)
    await audit.record_read(runtime.db, viewer, touches(view))
    return view


@dataclass(frozen=True)
class CaseList:
    page: Page[CaseView]
    last_seq: int


async def list_cases(
    runtime: Runtime, viewer: Viewer, *, stage: CaseStage | None, first: int, after: str | None
) -> CaseList:
    """The cases the viewer may read, newest first, each as they may see it (records not loaded)."""
    async with runtime.db.read() as session:
        last_seq = await latest_seq(session)
        stmt = select(Case).where(policy.where(viewer)).options(*CASE_LOAD)
        if stage is not None:
            stmt = stmt.where(Case.stage == stage)
        page = await keyset_page(session, stmt, order=[Case.id], first=first, after=after)
        facts = await policy.load_facts(session, page.items)
        views = [
            _as_seen(viewer, c, facts[c.id], (), last_seq)
            for c in page.items
            if policy.may(viewer, policy.Action.READ, c, facts[c.id])
        ]
    await audit.record_read(runtime.db, viewer, [t for v in views for t in touches(v)])
    return CaseList(
        page=Page(items=views, cursors=page.cursors[: len(views)], has_next_page=page.has_next_page, has_previous_page=page.has_previous_page),
        last_seq=last_seq,
    )


async def _case_for(session: AsyncSession, viewer: Viewer, case_id: int, action: policy.Action) -> tuple[Case, policy.CaseFacts]:
    case = await _load(session, case_id)
    if case is None:
        raise NotFound("No case with that id is available to you.")
    facts = (await policy.load_facts(session, [case]))[case.id]
    if not policy.may(viewer, policy.Action.READ, case, facts):
        raise NotFound("No case with that id is available to you.")
    if not policy.may(viewer, action, case, facts):
        if action is policy.Action.MANAGE:
            raise Forbidden("Only the lead organization's members on the case (or its admins) change its team and stage.")
        raise Forbidden("Only the workers on the case add to its file.")
    return case, facts


async def _event(session: AsyncSession, viewer: Viewer, case: Case, kind: EventKind, change: dict[str, Any]) -> None:
    case.version += 1
    case.updated_at = utcnow()
    await record_event(
        session,
        subject_type=SubjectType.CASE,
        subject_id=case.id,
        kind=kind,
        actor=viewer,
        source=ChangeSource.DASHBOARD,
        change={"caseId": case.id, **change},
    )


async def _fresh(runtime: Runtime, viewer: Viewer, case_id: int, view: CaseView | None) -> CaseView:
    """After the commit: ring the hub; answer the view read in the change's transaction, or (no longer readable) refuse."""
    await runtime.announce()
    return view if view is not None else await get_case(runtime, viewer, case_id)


async def _answer_or_none(session: AsyncSession, viewer: Viewer, case_id: int) -> CaseView | None:
    """The answer read in the change's transaction; None if the change took the case out of the viewer's sight."""
    try:
        return (await _answer_in(session, viewer, case_id, case_id)).view
    except NotFound:
        return None


@dataclass(frozen=True)
class _Made:
    """What a keyed case mutation made (its id), and the answer: the case as the viewer sees it, read in the change's transaction."""

    id: int
    view: CaseView | None = None


async def _answer_in(session: AsyncSession, viewer: Viewer, case_id: int, made: int) -> _Made:
    """The case after the change, its read recorded in the change's own transaction: one transaction in all."""
    case = await session.scalar(
        select(Case).where(Case.id == case_id).options(*CASE_LOAD).execution_options(populate_existing=True)
    )
    assert case is not None
    view = await _view(session, viewer, case)
    await audit.record_touches(session, viewer, touches(view), action=AuditAction.READ)
    return _Made(made, view)


async def _stored(_session: AsyncSession, record_id: int) -> _Made:
    """A repeat: only the id; its answer is read after, as the viewer may see the case now."""
    return _Made(record_id)


async def _keyed(
    runtime: Runtime,
    viewer: Viewer,
    request: Once | None,
    write: Callable[[AsyncSession], Awaitable[_Made]],
    *,
    record_type: str,
    case_id: int | None,
) -> CaseView:
    made = await write_once(runtime, viewer, request, write, record=lambda m: Record(record_type, m.id), replay=_stored)
    if made.view is not None:
        return made.view
    return await get_case(runtime, viewer, made.id if case_id is None else case_id)


async def open_case(runtime: Runtime, viewer: Viewer, new: NewCase, *, request: Once | None = None) -> CaseView:
    if viewer.role not in policy.WORKERS or viewer.organization_id is None or viewer.user_id is None:
        raise Forbidden("Cases are opened by a worker acting for their organization.")
    household = list(dict.fromkeys(new.household))
    if not household:
        raise BadInput("A case has a household: at least its head.", field="household")
    if len(household) != len(new.household):
        raise BadInput("The same person is listed twice in the household.", field="household")
    if len(household) > MAX_HOUSEHOLD:
        raise BadInput(f"A household has at most {MAX_HOUSEHOLD} people.", field="household")
    _day(new.opened_on, what="date the case opened", field="openedOn")
    user_id, organization_id = viewer.user_id, viewer.organization_id

    async def write(session: AsyncSession) -> _Made:
        known = set(
            await session.scalars(select(Seeker.id).where(Seeker.id.in_(household), seeker_policy.where(viewer)))
        )
        if known != set(household):
            raise NotFound("One of the people is not known to you: open a case for people whose profile you can see.")
        case = Case(
            lead_organization_id=organization_id,
            opened_on=new.opened_on,
            created_by_user_id=user_id,
        )
        session.add(case)
        await session.flush()
        session.add_all(
            CaseSeeker(case_id=case.id, seeker_id=sid, is_head=(i == 0)) for i, sid in enumerate(household)
        )
        session.add(
            CaseMember(
                case_id=case.id, user_id=user_id, organization_id=organization_id, role=new.role, added_on=date.today()
            )
        )
        await _event(session, viewer, case, EventKind.CREATED, {"opened": True})
        await audit.record(
            session, viewer, seeker_ids=household, scopes=[Seen.NAME], action=AuditAction.WRITE,
            subject=audit.Subject(AuditSubject.CASE, case.id),
        )
        return await _answer_in(session, viewer, case.id, case.id)

    return await _keyed(runtime, viewer, request, write, record_type="Case", case_id=None)


async def add_member(
    runtime: Runtime,
    viewer: Viewer,
    *,
    case_id: int,
    email: str,
    organization_id: int | None,
    role: CaseRole,
    request: Once | None = None,
) -> CaseView:
    address = bounded_text(email, limit=320, what="worker's email", field="email", required=True) or ""

    async def write(session: AsyncSession) -> _Made:
        case, facts = await _case_for(session, viewer, case_id, policy.Action.MANAGE)
        user = await session.scalar(
            select(User).where(User.email == address.lower(), User.is_active.is_(True)).options(selectinload(User.memberships))
        )
        if user is None:
            raise NotFound("No worker has an account with that email.", field="email")
        worker = [m for m in user.memberships if m.role in policy.WORKERS]
        if organization_id is not None:
            worker = [m for m in worker if m.organization_id == organization_id]
        if not worker:
            raise BadInput("That person is not a worker of such an organization.", field="organizationId")
        if len(worker) > 1:
            raise BadInput("The worker belongs to several organizations: say which one they join the case for.", field="organizationId")
        membership: Membership = worker[0]
        if (user.id, membership.organization_id) in facts.members:
            raise Conflict("That worker is already on the case.")
        if len(facts.members) >= MAX_MEMBERS:
            raise BadInput(f"A case has at most {MAX_MEMBERS} workers.", field="email")
        member = CaseMember(case_id=case.id, user_id=user.id, organization_id=membership.organization_id, role=role, added_on=date.today())
        session.add(member)
        await session.flush()
        await _event(session, viewer, case, EventKind.CREATED, {"memberAdded": user.id})
        return await _answer_in(session, viewer, case_id, member.id)

    return await _keyed(runtime, viewer, request, write, record_type="CaseMember", case_id=case_id)


async def remove_member(runtime: Runtime, viewer: Viewer, *, member_id: int) -> CaseView:
    async with runtime.db.write() as session:
        member = await session.get(CaseMember, member_id)
        if member is None or member.removed_on is not None:
            raise NotFound("No such worker on a case available to you.")
        case, _ = await _case_for(session, viewer, member.case_id, policy.Action.MANAGE)
        member.removed_on = date.today()
        await _event(session, viewer, case, EventKind.STATUS_CHANGED, {"memberRemoved": member.user_id})
        case_id = case.id
        view = await _answer_or_none(session, viewer, case_id)
    return await _fresh(runtime, viewer, case_id, view)


_STAGE_ORDER = [CaseStage.OBTAIN_HOUSING, CaseStage.MOVED_IN, CaseStage.STABILIZING, CaseStage.CLOSED]


async def set_stage(
    runtime: Runtime,
    viewer: Viewer,
    *,
    case_id: int,
    stage: CaseStage,
    on: date,
    closure_reason: ClosureReason | None,
    expected_version: int,
) -> CaseView:
    _day(on, what="date of the stage", field="on")
    async with runtime.db.write() as session:
        case, _ = await _case_for(session, viewer, case_id, policy.Action.MANAGE)
        if case.version != expected_version:
            raise Conflict("Someone else changed this case a moment ago; reload it and try again.")
        if on < case.opened_on:
            raise BadInput("A stage cannot begin before the case opened.", field="on")
        if stage is CaseStage.CLOSED and closure_reason is None:
            raise BadInput("Say why the case closes.", field="closureReason")
        if stage is not CaseStage.CLOSED and closure_reason is not None:
            raise BadInput("Only a closing case has a closure reason.", field="closureReason")
        before = case.stage
        case.stage = stage
        # Moving back (a household that loses its housing) keeps the dates it had reached.
        if stage is CaseStage.MOVED_IN:
            case.moved_in_on = on
        elif stage is CaseStage.STABILIZING:
            case.stabilizing_on = on
        elif stage is CaseStage.CLOSED:
            case.closed_on, case.closure_reason = on, closure_reason
        if stage is not CaseStage.CLOSED:
            case.closed_on = case.closure_reason = None
        await _event(session, viewer, case, EventKind.STATUS_CHANGED, {"from": before.name, "to": stage.name})
        await _record_write(session, viewer, case, Seen.CASE_NOTES)
        view = await _answer_or_none(session, viewer, case_id)
    return await _fresh(runtime, viewer, case_id, view)


async def set_assistance_end(runtime: Runtime, viewer: Viewer, *, case_id: int, on: date | None) -> CaseView:
    async with runtime.db.write() as session:
        case, _ = await _case_for(session, viewer, case_id, policy.Action.MANAGE)
        if on is not None and on < case.opened_on:
            raise BadInput("Assistance cannot end before the case opened.", field="on")
        case.assistance_ends_on = on
        await _record_write(session, viewer, case, Seen.FINANCIAL_ASSISTANCE)
        await _event(session, viewer, case, EventKind.STATUS_CHANGED, {"assistanceEnds": on.isoformat() if on else None})
        view = await _answer_or_none(session, viewer, case_id)
    return await _fresh(runtime, viewer, case_id, view)


async def add_record(runtime: Runtime, viewer: Viewer, new: NewRecord, *, request: Once | None = None) -> CaseView:
    async def write(session: AsyncSession) -> _Made:
        case, _ = await _case_for(session, viewer, new.case_id, policy.Action.ADD_RECORD)
        assert viewer.organization_id is not None  # a member acts for an organization
        record = await add_record_in(session, viewer, case, new)
        return await _answer_in(session, viewer, case.id, record.id)

    return await _keyed(runtime, viewer, request, write, record_type="CaseRecord", case_id=new.case_id)


async def add_record_in(session: AsyncSession, viewer: Viewer, case: Case, new: NewRecord) -> CaseRecord:
    _day(new.on, what="date", field="on")
    if new.on < case.opened_on and new.kind is not RecordKind.LINK:
        raise BadInput("The date is before the case opened.", field="on")
    body = bounded_text(new.body, limit=NOTE_MAX, what="text", field="body") or ""
    scope = SCOPE_OF[new.kind]
    if new.child_welfare:
        if new.kind is not RecordKind.NOTE:
            raise BadInput("Only a note can be marked as child welfare information.", field="childWelfare")
        scope = Scope.CHILD_WELFARE
    record = CaseRecord(
        case_id=case.id,
        kind=new.kind,
        scope=scope,
        organization_id=viewer.organization_id,
        author_user_id=viewer.user_id,
        on=new.on,
        body=body,
        details=new.details,
    )
    session.add(record)
    await session.flush()
    await _event(session, viewer, case, EventKind.COMMENT_ADDED, {"recordId": record.id, "kind": new.kind.name})
    await _record_write(session, viewer, case, Seen[scope.name])
    return record


async def update_goal(
    runtime: Runtime, viewer: Viewer, *, record_id: int, status: GoalStatus, expected_version: int
) -> CaseView:
    async with runtime.db.write() as session:
        record = await session.get(CaseRecord, record_id)
        if record is None or record.kind is not RecordKind.GOAL:
            raise NotFound("No goal with that id is available to you.")
        case, facts = await _case_for(session, viewer, record.case_id, policy.Action.ADD_RECORD)
        if not policy.may_read_record(viewer, record, case, facts):
            raise NotFound("No goal with that id is available to you.")
        if record.version != expected_version:
            raise Conflict("Someone else changed this goal a moment ago; reload it and try again.")
        record.details = {**record.details, "status": status.name}
        record.version += 1
        record.updated_at = utcnow()
        await _event(session, viewer, case, EventKind.STATUS_CHANGED, {"recordId": record.id, "goalStatus": status.name})
        await _record_write(session, viewer, case, Seen.CASE_NOTES)
        case_id = case.id
        view = await _answer_or_none(session, viewer, case_id)
    return await _fresh(runtime, viewer, case_id, view)


# ------------------------------------------------------------------------------------------------
# What each kind of record holds beyond its date and text, checked before it is written.
# ------------------------------------------------------------------------------------------------


def goal_details(*, target_date: date | None, status: GoalStatus) -> dict[str, Any]:
    return {"targetDate": target_date.isoformat() if target_date else None, "status": status.name}


def contact_details(
    *, contact_type: ContactType, minutes: int, location: str | None, intensity: Intensity, strengths: str | None
) -> dict[str, Any]:
    if not 1 <= minutes <= 24 * 60:
        raise BadInput("A contact lasts between 1 minute and 24 hours.", field="minutes")
    return {
        "type": contact_type.name,
        "minutes": minutes,
        "location": bounded_text(location, limit=200, what="place", field="location"),
        "intensity": intensity.name,
        "strengths": bounded_text(strengths, limit=2000, what="strengths", field="strengths"),
    }


def conference_details(*, attendees: Sequence[str], next_steps: Sequence[tuple[str, str, date | None]]) -> dict[str, Any]:
    if not attendees:
        raise BadInput("Name who attended the conference.", field="attendees")
    if len(attendees) > MAX_ATTENDEES:
        raise BadInput(f"At most {MAX_ATTENDEES} attendees.", field="attendees")
    if len(next_steps) > MAX_NEXT_STEPS:
        raise BadInput(f"At most {MAX_NEXT_STEPS} next steps.", field="nextSteps")
    return {
        "attendees": [bounded_text(a, limit=200, what="attendee", field="attendees", required=True) for a in attendees],
        "nextSteps": [
            {
                "who": bounded_text(who, limit=200, what="person responsible", field="nextSteps", required=True),
                "what": bounded_text(what, limit=1000, what="next step", field="nextSteps", required=True),
                "by": by.isoformat() if by else None,
            }
            for who, what, by in next_steps
        ],
    }


def assistance_details(
    *, kind: AssistanceKind, amount: str, payee: str, period_start: date | None, period_end: date | None
) -> dict[str, Any]:
    try:
        value = Decimal(amount.strip())
    except (InvalidOperation, AttributeError):
        raise BadInput("The amount is a number of dollars, like 1250.00.", field="amount") from None
    if not value.is_finite() or value <= 0 or value > MAX_AMOUNT or value != value.quantize(Decimal("0.01")):
        raise BadInput(f"The amount is more than 0 and at most {MAX_AMOUNT}, in dollars and cents.", field="amount")
    if (period_start is None) != (period_end is None) or (period_start and period_end and period_end < period_start):
        raise BadInput("A period has a start and an end, the end not before the start.", field="periodEnd")
    return {
        "kind": kind.name,
        "amount": str(value.quantize(Decimal("0.01"))),
        "payee": bounded_text(payee, limit=200, what="payee", field="payee", required=True),
        "periodStart": period_start.isoformat() if period_start else None,
        "periodEnd": period_end.isoformat() if period_end else None,
    }


async def link_to_case(
    runtime: Runtime,
    viewer: Viewer,
    *,
    case_id: int,
    referral_id: int | None,
    ce_event_id: int | None,
    enrollment_id: int | None,
    request: Once | None = None,
) -> CaseView:
    given = [(t, i) for t, i in (("REFERRAL", referral_id), ("CE_EVENT", ce_event_id), ("ENROLLMENT", enrollment_id)) if i is not None]
    if len(given) != 1:
        raise BadInput("Link one thing: a referral, a CE event or an enrollment.", field="referralId")
    subject, subject_id = given[0]

    async def write(session: AsyncSession) -> _Made:
        case, facts = await _case_for(session, viewer, case_id, policy.Action.ADD_RECORD)
        seeker_id, summary = await _linkable(session, viewer, subject, subject_id)
        if seeker_id not in facts.household:
            raise BadInput("That belongs to someone outside the case's household.", field="referralId")
        existing = await session.scalars(
            select(CaseRecord).where(CaseRecord.case_id == case.id, CaseRecord.kind == RecordKind.LINK)
        )
        if any(r.details.get("subject") == subject and r.details.get("subjectId") == subject_id for r in existing):
            raise Conflict("That is already linked to the case.")
        record = await add_record_in(
            session,
            viewer,
            case,
            NewRecord(
                case_id=case.id,
                kind=RecordKind.LINK,
                on=date.today(),
                body=summary,
                details={"subject": subject, "subjectId": subject_id, "seekerId": seeker_id},
            ),
        )
        return await _answer_in(session, viewer, case_id, record.id)

    return await _keyed(runtime, viewer, request, write, record_type="CaseRecord", case_id=case_id)


async def _linkable(session: AsyncSession, viewer: Viewer, subject: str, subject_id: int) -> tuple[int, str]:
    """The person a referral, CE event or enrollment is about, and a line saying what it is; NOT_FOUND unless readable."""
    missing = NotFound("Nothing with that id is available to you.")
    if subject == "REFERRAL":
        referral = await session.scalar(
            select(Referral).where(Referral.id == subject_id, referral_policy.where(viewer, referral_policy.Action.READ))
        )
        if referral is None:
            raise missing
        return referral.seeker_id, f"Referral {referral.id} ({referral.kind.name.lower().replace('_', ' ')})"
    if subject == "CE_EVENT":
        event = await session.scalar(select(CeEvent).where(CeEvent.id == subject_id, ce_policy.ce_event_where(viewer)))
        if event is None:
            raise missing
        return event.seeker_id, f"Coordinated Entry event {event.id} (4.20.2 type {event.event_type})"
    enrollment = await session.scalar(
        select(Enrollment).where(Enrollment.id == subject_id, enrollment_policy.where(viewer))
    )
    if enrollment is None:
        raise missing
    return enrollment.seeker_id, f"Enrollment {enrollment.id}, entered {enrollment.entry_date.isoformat()}"


# ------------------------------------------------------------------------------------------------
# Live: a case page's stream. Every event is authorized again when pushed, with the facts as they
# are then, so a revoked release stops the very next event; payloads are built per subscriber.
# ------------------------------------------------------------------------------------------------

LIVE_SUBJECTS = frozenset({SubjectType.CASE, SubjectType.CONSENT, SubjectType.AGREEMENT})


def _about_cases(_viewer: Viewer, event: OutboxEvent) -> bool:
    return event.subject_type in LIVE_SUBJECTS


@dataclass(frozen=True)
class Snapshot:
    """A case as it stands when an event is pushed: loaded once, then cut to each subscriber's view."""

    case: Case
    facts: policy.CaseFacts
    records: Sequence[CaseRecord]
    last_seq: int


# A pushed event loads at most this many of the file's newest records for all its subscribers to share.
SNAPSHOT_RECORDS = 4 * MAX_RECORDS


async def _snapshot(runtime: Runtime, case_id: int) -> Snapshot | None:
    async with runtime.db.read() as session:
        case = await _load(session, case_id)
        if case is None:
            return None
        facts = (await policy.load_facts(session, [case]))[case.id]
        records = await session.scalars(
            select(CaseRecord)
            .where(CaseRecord.case_id == case.id)
            .order_by(CaseRecord.on.desc(), CaseRecord.id.desc())
            .limit(SNAPSHOT_RECORDS)
        )
        return Snapshot(case=case, facts=facts, records=list(records), last_seq=await latest_seq(session))


def _cut(viewer: Viewer, snap: Snapshot) -> CaseView:
    """One subscriber's view of a snapshot, by the policy's in-memory form (the twin of the SQL `get_case` uses)."""
    case, facts = snap.case, snap.facts
    if not policy.may(viewer, policy.Action.READ, case, facts):
        raise NotFound("No case with that id is available to you.")
    records = [r for r in snap.records if policy.may_read_record(viewer, r, case, facts)][:MAX_RECORDS]
    return _as_seen(viewer, case, facts, records, snap.last_seq)


async def _shared_snapshot(runtime: Runtime, delivery: Delivery, case_id: int) -> Snapshot | None:
    """The case as it stands for this event, loaded once for every subscriber the event is offered to.

    Every subscriber of one event sees the facts as they were when the event was pushed; a later
    revocation is an event of its own, and the first subscriber it reaches loads the case afresh.
    """
    if delivery.event is None:  # a RESYNC is this subscriber's own
        return await _snapshot(runtime, case_id)
    key = ("case-snapshot", case_id)
    pending = delivery.shared.get(key)
    if pending is None:
        pending = asyncio.ensure_future(_snapshot(runtime, case_id))
        delivery.shared[key] = pending
    result: Snapshot | None = await asyncio.shield(pending)
    return result


@dataclass
class _PushRows:
    pushes: list[audit.Push] = field(default_factory=list)
    flushed: bool = False


PUSH_BATCH_SECONDS = 0.02


def _record_pushes(runtime: Runtime, delivery: Delivery, pushes: list[audit.Push]) -> None:
    """Queue the audit rows of one push; the event's fan-out writes them in one transaction (not one per page)."""
    batch: _PushRows | None = delivery.shared.get("case-pushes")
    if batch is None or batch.flushed:
        batch = _PushRows()
        delivery.shared["case-pushes"] = batch
        task = asyncio.ensure_future(_flush_pushes(runtime, batch))
        _FLUSHING.add(task)
        task.add_done_callback(_FLUSHING.discard)
    batch.pushes.extend(pushes)


_FLUSHING: set[asyncio.Future[None]] = set()


async def _flush_pushes(runtime: Runtime, batch: _PushRows) -> None:
    await asyncio.sleep(PUSH_BATCH_SECONDS)  # the pages of one event are served within one short burst
    batch.flushed = True
    try:
        await audit.record_pushes(runtime.db, batch.pushes)
    except Exception:  # the push happened; losing its audit rows must be loud, not silent
        log.exception("could not record %d case pushes in the audit", len(batch.pushes))


async def case_changes(
    runtime: Runtime, viewer: Viewer, *, case_id: int, after_seq: int | None
) -> AsyncGenerator[tuple[Delivery, CaseView], None]:
    """Each change to the case, or to a release or agreement it may depend on, with the case as the viewer may see it then."""
    async with runtime.db.read() as session:
        case = await _load(session, case_id)
        if case is None:
            raise NotFound("No case with that id is available to you.")
        await _view(session, viewer, case, with_records=False)
        household = {s.seeker_id for s in case.household}
    async for delivery in referral_changes(runtime.live, viewer, after_seq=after_seq, others=_about_cases):
        if delivery.referral is not None:
            continue  # the case's linked referrals have pages of their own
        event = delivery.event
        if event is not None:
            if event.subject_type is SubjectType.CASE and event.subject_id != case_id:
                continue
            if event.subject_type is SubjectType.CONSENT and event.change.get("seekerId") not in household:
                continue
        snap = await _shared_snapshot(runtime, delivery, case_id)
        if snap is None:
            raise NotFound("No case with that id is available to you.")
        view = _cut(viewer, snap)  # NOT_FOUND ends the stream once the viewer may no longer read it
        household = {s.seeker_id for s in snap.case.household}
        _record_pushes(runtime, delivery, [audit.Push(viewer, "subscription caseChanged", t) for t in touches(view)])
        yield delivery, view

