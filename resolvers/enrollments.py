"""Enrollments: a household entering a program, moving in (housing programs), and exiting.

Each change is one transaction with its outbox event; the live hub is rung after the commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from db import hud
from db.accounts import ContinuumOfCare
from db.audit import AuditAction, AuditSubject, Scope
from db.base import utcnow
from db.enrollments import Enrollment, Household
from db.events import EventKind, SubjectType
from db.programs import DETAILS_LOAD, Program
from db.referrals import ChangeSource, Referral
from db.seekers import Seeker
from resolvers import audit
from resolvers.errors import BadInput, Forbidden, NotFound
from resolvers.idempotency import Once, Record, write_once
from resolvers.live.outbox import record_event
from resolvers.pagination import Page, keyset_page
from resolvers.policy import enrollments as policy
from resolvers.policy import referrals as referral_policy
from resolvers.policy import seekers as seeker_policy
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer
from resolvers.text import excerpt

# HUD project types (2.02.6) that house people, and so record a housing move-in date (3.20).
HOUSING_PROJECT_TYPES = frozenset({3, 9, 10, 13})
HEAD_OF_HOUSEHOLD = 1
DATA_NOT_COLLECTED = 99
MAX_HOUSEHOLD = 30
COC_CODE = re.compile(r"[A-Z]{2}-[0-9]{3}")
# HMIS's earliest data: HUD's data standards took effect on 1 October 1998; no HMIS date is before it.
HMIS_EARLIEST = date(1998, 10, 1)
ENROLLMENT_ORDER = (Enrollment.created_at, Enrollment.id)


@dataclass(frozen=True)
class NewMember:
    seeker_id: int
    relationship_to_hoh: int
    prior_living_situation: int | None = None
    disabling_condition: int | None = None


@dataclass(frozen=True)
class NewEnrollment:
    program_id: int
    entry_date: date
    members: Sequence[NewMember]
    enrollment_coc: str | None = None


def today() -> date:
    return utcnow().date()


def _with_program() -> Select[Enrollment]:
    program = joinedload(Enrollment.program)
    return select(Enrollment).options(
        program.joinedload(Program.organization),
        program.selectinload(Program.categories),
        program.selectinload(Program.service_areas),
        joinedload(Enrollment.program).options(*DETAILS_LOAD),
        joinedload(Enrollment.seeker),
    )


def facts_of(enrollment: Enrollment) -> policy.ProgramFacts:
    return policy.program_facts(enrollment.program, enrollment.program.organization)


def _check_code(list_id: str, code: int, what: str, field: str) -> None:
    if not hud.is_code(list_id, code):
        allowed = ", ".join(f"{c} ({label})" for c, label in hud.codes(list_id).items())
        raise BadInput(f"{code} is not a HUD code for {what}; use one of: {allowed}.", field=field)


def _not_in_future(day: date, what: str, field: str) -> None:
    if day > today():
        raise BadInput(f"The {what} {day.isoformat()} is in the future; record it on the day or after.", field=field)
    if day < HMIS_EARLIEST:
        raise BadInput(
            f"The {what} {day.isoformat()} is before {HMIS_EARLIEST.isoformat()}, when HMIS data begins; check the year.",
            field=field,
        )


async def _program(session: AsyncSession, program_id: int) -> Program:
    program = await session.scalar(
        select(Program).where(Program.id == program_id).options(joinedload(Program.organization))
    )
    if program is None:
        raise NotFound("No program with that id.")
    return program


async def _known_seekers(session: AsyncSession, viewer: Viewer, seeker_ids: Sequence[int]) -> None:
    """Each person is one the viewer already knows: through a referral they may read, or their profile."""
    by_profile = select(Seeker.id).where(
        Seeker.id.in_(seeker_ids),
        seeker_policy.RULES.related_where(viewer, list(seeker_policy.Relation)),
    )
    by_referral = select(Referral.seeker_id).where(
        Referral.seeker_id.in_(seeker_ids), referral_policy.where(viewer, referral_policy.Action.READ)
    )
    known = set(await session.scalars(by_profile)) | set(await session.scalars(by_referral))
    missing = [sid for sid in seeker_ids if sid not in known]
    if missing:
        raise NotFound(
            "One of the people is not known to you: enroll someone referred to your organization, or whose "
            "profile you can see."
        )


async def create_enrollment_in(session: AsyncSession, viewer: Viewer, new: NewEnrollment) -> Enrollment:
    program = await _program(session, new.program_id)
    facts = policy.program_facts(program, program.organization)
    if not policy.may(viewer, policy.Action.ENROLL, Enrollment(program_id=program.id), facts):
        raise Forbidden("Only staff and admins of the program's organization can enroll people in it.")
    _not_in_future(new.entry_date, "entry date", "entryDate")
    if not new.members:
        raise BadInput("An enrollment needs at least one person: the head of household.", field="members")
    if len(new.members) > MAX_HOUSEHOLD:
        raise BadInput(f"A household has at most {MAX_HOUSEHOLD} people.", field="members")
    seeker_ids = [m.seeker_id for m in new.members]
    if len(set(seeker_ids)) != len(seeker_ids):
        raise BadInput("The same person is listed twice in the household.", field="members")
    # Each code first: a relationship HUD does not list is that, before it is a missing head.
    for m in new.members:
        _check_code(hud.RELATIONSHIP_TO_HOH, m.relationship_to_hoh, "relationship to head of household (3.15.1)", "relationshipToHoH")
        if m.prior_living_situation is not None:
            _check_code(hud.PRIOR_LIVING_SITUATION, m.prior_living_situation, "prior living situation (3.917)", "priorLivingSituation")
        if m.disabling_condition is not None:
            _check_code(hud.NO_YES_REASONS, m.disabling_condition, "disabling condition (1.8)", "disablingCondition")
    heads = [m for m in new.members if m.relationship_to_hoh == HEAD_OF_HOUSEHOLD]
    if len(heads) != 1:
        raise BadInput(
            "Exactly one member must be the head of household (relationshipToHoH 1); "
            f"{len(heads)} were given.",
            field="members",
        )
    coc = new.enrollment_coc.strip().upper() if new.enrollment_coc and new.enrollment_coc.strip() else None
    if coc is not None and not COC_CODE.fullmatch(coc):
        raise BadInput(f"“{excerpt(new.enrollment_coc)}” is not a CoC code like CA-600.", field="enrollmentCoc")
    if coc is not None and await session.scalar(select(ContinuumOfCare.id).where(ContinuumOfCare.code == coc)) is None:
        raise BadInput(
            f"{coc} is not a Continuum of Care Referloop knows; give the code of the CoC the household entered in.",
            field="enrollmentCoc",
        )
    if coc is None and facts.coc_id is not None:
        coc = await session.scalar(select(ContinuumOfCare.code).where(ContinuumOfCare.id == facts.coc_id))
        coc = coc if coc and COC_CODE.fullmatch(coc) else None
    await _known_seekers(session, viewer, seeker_ids)
    already = await session.scalar(
        select(Enrollment).where(
            Enrollment.program_id == program.id, Enrollment.seeker_id.in_(seeker_ids), Enrollment.exit_date.is_(None)
        )
    )
    if already is not None:
        raise BadInput(
            f"One of the people is already enrolled in {program.name} since {already.entry_date.isoformat()}; "
            "exit that enrollment first.",
            field="members",
        )
    household = Household()
    session.add(household)
    await session.flush()
    now = utcnow()
    enrollments = [
        Enrollment(
            seeker_id=m.seeker_id,
            program_id=program.id,
            household_id=household.id,
            entry_date=new.entry_date,
            relationship_to_hoh=m.relationship_to_hoh,
            prior_living_situation=m.prior_living_situation if m.prior_living_situation is not None else DATA_NOT_COLLECTED,
            enrollment_coc=coc,
            disabling_condition=m.disabling_condition if m.disabling_condition is not None else DATA_NOT_COLLECTED,
            created_by_user_id=viewer.user_id,
            created_at=now,
            updated_at=now,
        )
        for m in new.members
    ]
    session.add_all(enrollments)
    await session.flush()
    head = next(e for e in enrollments if e.relationship_to_hoh == HEAD_OF_HOUSEHOLD)
    await _record(
        session,
        viewer,
        head,
        EventKind.CREATED,
        {"programId": program.id, "householdId": household.id, "enrollmentIds": [e.id for e in enrollments]},
        household=enrollments,
    )
    return head


def _touch(enrollment: Enrollment) -> audit.Touch:
    return audit.Touch(enrollment.seeker_id, frozenset({Scope.ENROLLMENTS}), audit.Subject(AuditSubject.ENROLLMENT, enrollment.id))


async def _record(
    session: AsyncSession,
    viewer: Viewer,
    enrollment: Enrollment,
    kind: EventKind,
    change: dict[str, Any],
    *,
    household: Sequence[Enrollment] = (),
) -> None:
    written = {e.id: e for e in (enrollment, *household)}.values()
    await audit.record_touches(session, viewer, [_touch(e) for e in written], action=AuditAction.WRITE)
    await record_event(
        session,
        subject_type=SubjectType.ENROLLMENT,
        subject_id=enrollment.id,
        kind=kind,
        actor=viewer,
        source=ChangeSource.DASHBOARD,
        change=change,
    )


async def _changeable(session: AsyncSession, viewer: Viewer, enrollment_id: int, action: policy.Action, refusal: str) -> Enrollment:
    enrollment = await session.scalar(_with_program().where(Enrollment.id == enrollment_id))
    if enrollment is None or not policy.may(viewer, policy.Action.READ, enrollment, facts_of(enrollment)):
        raise NotFound("No enrollment with that id is available to you.")
    if not policy.may(viewer, action, enrollment, facts_of(enrollment)):
        raise Forbidden(refusal)
    return enrollment


async def record_move_in_in(session: AsyncSession, viewer: Viewer, *, enrollment_id: int, move_in_date: date) -> Enrollment:
    enrollment = await _changeable(
        session, viewer, enrollment_id, policy.Action.MOVE_IN, "Only the program's own staff can record a move-in."
    )
    if enrollment.program.hud_project_type not in HOUSING_PROJECT_TYPES:
        raise BadInput(
            "A move-in date is recorded only in permanent housing programs "
            "(HUD project types 3, 9, 10 and 13: PSH, PH housing only, PH with services, rapid re-housing).",
            field="moveInDate",
        )
    if move_in_date < enrollment.entry_date:
        raise BadInput(
            f"The move-in date is before the entry date ({enrollment.entry_date.isoformat()}).", field="moveInDate"
        )
    _not_in_future(move_in_date, "move-in date", "moveInDate")
    if enrollment.exit_date is not None:
        raise BadInput(f"This enrollment ended on {enrollment.exit_date.isoformat()}; a move-in cannot follow an exit.", field="moveInDate")
    before = enrollment.move_in_date
    enrollment.move_in_date = move_in_date
    enrollment.updated_at = utcnow()
    await _record(
        session,
        viewer,
        enrollment,
        EventKind.STATUS_CHANGED,
        {"step": "MOVE_IN", "moveInDate": move_in_date.isoformat(), "before": before.isoformat() if before else None},
    )
    return enrollment


async def exit_enrollment_in(
    session: AsyncSession, viewer: Viewer, *, enrollment_id: int, exit_date: date, destination: int
) -> Enrollment:
    enrollment = await _changeable(
        session, viewer, enrollment_id, policy.Action.EXIT, "Only the program's own staff can record an exit."
    )
    if enrollment.exit_date is not None:
        raise BadInput(f"This enrollment already ended on {enrollment.exit_date.isoformat()}.", field="exitDate")
    if exit_date < enrollment.entry_date:
        raise BadInput(f"The exit date is before the entry date ({enrollment.entry_date.isoformat()}).", field="exitDate")
    if enrollment.move_in_date is not None and exit_date < enrollment.move_in_date:
        raise BadInput(
            f"The exit date is before the move-in date ({enrollment.move_in_date.isoformat()}).", field="exitDate"
        )
    _not_in_future(exit_date, "exit date", "exitDate")
    _check_code(hud.DESTINATION, destination, "destination (3.12)", "destination")
    enrollment.exit_date = exit_date
    enrollment.destination = destination
    enrollment.updated_at = utcnow()
    await _record(
        session,
        viewer,
        enrollment,
        EventKind.STATUS_CHANGED,
        {"step": "EXIT", "exitDate": exit_date.isoformat(), "destination": destination},
    )
    return enrollment


async def _load(session: AsyncSession, enrollment_id: int) -> Enrollment:
    fresh = await session.scalar(_with_program().where(Enrollment.id == enrollment_id).execution_options(populate_existing=True))
    assert fresh is not None
    return fresh


async def create_enrollment(runtime: Runtime, viewer: Viewer, new: NewEnrollment, *, request: Once | None = None) -> Enrollment:
    async def write(session: AsyncSession) -> Enrollment:
        head = await create_enrollment_in(session, viewer, new)
        return await _load(session, head.id)

    return await write_once(
        runtime,
        viewer,
        request,
        write,
        record=lambda head: Record("Enrollment", head.id),
        replay=lambda session, enrollment_id: _readable(session, viewer, enrollment_id),
    )


async def record_move_in(runtime: Runtime, viewer: Viewer, *, enrollment_id: int, move_in_date: date) -> Enrollment:
    async with runtime.db.write() as session:
        enrollment = await record_move_in_in(session, viewer, enrollment_id=enrollment_id, move_in_date=move_in_date)
        fresh = await _load(session, enrollment.id)
    await runtime.announce()
    return fresh


async def exit_enrollment(
    runtime: Runtime, viewer: Viewer, *, enrollment_id: int, exit_date: date, destination: int
) -> Enrollment:
    async with runtime.db.write() as session:
        enrollment = await exit_enrollment_in(
            session, viewer, enrollment_id=enrollment_id, exit_date=exit_date, destination=destination
        )
        fresh = await _load(session, enrollment.id)
    await runtime.announce()
    return fresh


async def get_enrollment(runtime: Runtime, viewer: Viewer, enrollment_id: int) -> Enrollment:
    """One enrollment, for whoever may read it; NOT_FOUND for everyone else."""
    async with runtime.db.read() as session:
        return await _readable(session, viewer, enrollment_id)


async def _readable(session: AsyncSession, viewer: Viewer, enrollment_id: int) -> Enrollment:
    enrollment = await session.scalar(_with_program().where(Enrollment.id == enrollment_id))
    if enrollment is None or not policy.may(viewer, policy.Action.READ, enrollment, facts_of(enrollment)):
        raise NotFound("No enrollment with that id is available to you.")
    return enrollment


async def list_enrollments(
    runtime: Runtime,
    viewer: Viewer,
    *,
    program_id: int | None,
    seeker_id: int | None,
    open: bool | None,
    first: int,
    after: str | None,
) -> Page[Enrollment]:
    """The enrollments the viewer may read, newest first."""
    stmt = _with_program().where(policy.where(viewer, policy.Action.READ))
    if program_id is not None:
        stmt = stmt.where(Enrollment.program_id == program_id)
    if seeker_id is not None:
        stmt = stmt.where(Enrollment.seeker_id == seeker_id)
    if open is not None:
        stmt = stmt.where(Enrollment.exit_date.is_(None) if open else Enrollment.exit_date.is_not(None))
    async with runtime.db.read() as session:
        page = await keyset_page(session, stmt, order=ENROLLMENT_ORDER, first=first, after=after)
    await audit.record_read(runtime.db, viewer, [_touch(e) for e in page.items])
    return page


async def households_of(runtime: Runtime, viewer: Viewer, enrollments: Sequence[Enrollment]) -> dict[int, list[Enrollment]]:
    """Everyone enrolled with each of these people (themselves included), by enrollment id, where the viewer
    may see the household: one SELECT and one audit INSERT for all."""
    field = policy.RULES.fields[policy.Field.HOUSEHOLD]
    shown = [e for e in enrollments if policy.RULES.granted(viewer, field, e, facts_of(e))]
    households: dict[int, list[Enrollment]] = {}
    if shown:
        async with runtime.db.read() as session:
            rows = await session.scalars(
                _with_program().where(Enrollment.household_id.in_({e.household_id for e in shown})).order_by(Enrollment.id)
            )
            for row in rows.unique():
                households.setdefault(row.household_id, []).append(row)
        read = {row.id: row for e in shown for row in households.get(e.household_id, [])}
        await audit.record_read(runtime.db, viewer, [_touch(e) for e in read.values()])
    shown_ids = {e.id for e in shown}
    return {e.id: households.get(e.household_id, []) if e.id in shown_ids else [] for e in enrollments}

