"""Referrals: creating them, changing their status, commenting, and the dashboards' lists."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Sequence
import enum
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import exists, func, inspect, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from db.accounts import Role, Site
from db.audit import AuditAction, AuditSubject, Scope
from db.base import utcnow
from db.coordinated_entry import CeEvent
from db.events import EventKind, SubjectType
from db.programs import Program
from db.referrals import (
    IN_PROGRESS,
    PROGRAM_DETAILS,
    REFERRAL_LOAD,
    REFERRAL_RELOAD,
    REFERRAL_ORDER,
    ChangeSource,
    Comment,
    Referral,
    ReferralKind,
    ReferralStatus,
    StatusChange,
    kind_for,
)
from db.seekers import ContactPreference, Seeker
from resolvers import audit
from resolvers.errors import BadInput, Conflict, Forbidden, NotFound
from resolvers.idempotency import Once, Record, write_once
from resolvers.live.outbox import latest_seq, record_event, recorded_events
from resolvers.notify.planning import plan_notifications
from resolvers.pagination import Page, keyset_page, keyset_pages
from resolvers.search import every_word_matches
from resolvers.policy import capabilities, seekers as seeker_policy
from resolvers.policy import referrals as policy
from resolvers.policy.capabilities import Capability
from resolvers.runtime import Runtime
from resolvers.search import every_word_matches
from resolvers.seekers import NewSeeker, Profile, accessible_seeker, build_seeker, check_reachable, profiles_of
from resolvers.viewer import Viewer
from resolvers.text import bounded_text, excerpt

T = TypeVar("T")

COMMENT_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = 2000
OVERRIDE_REASON_MAX_LENGTH = 500
DUPLICATE = (
    "{who} an open referral to {program}. Give a reason to refer them again "
    "(overrideDuplicateReason), or update the open one."
)
STALE = "Someone else updated this referral since you loaded it. Reload it to see the latest status."


@dataclass(frozen=True)
class ScreenerAnswer:
    key: str
    value: str


@dataclass(frozen=True)
class NewReferral:
    program_id: int
    seeker_id: int | None = None
    seeker: NewSeeker | None = None
    contact_preference: ContactPreference | None = None
    consent: bool | None = None
    comment: str | None = None
    screener_answers: Sequence[ScreenerAnswer] = ()
    # Refer again although an open referral of this person to this program exists: why.
    override_duplicate_reason: str | None = None


class PeopleSort(enum.Enum):
    """How People I'm Helping is ordered."""

    LAST_ACTIVITY_DESC = "LAST_ACTIVITY_DESC"
    LAST_ACTIVITY_ASC = "LAST_ACTIVITY_ASC"
    NAME = "NAME"


@dataclass(frozen=True)
class PersonHelped:
    profile: Profile
    referrals: list[Referral]


@dataclass(frozen=True)
class Dashboard(Generic[T]):
    """A page of a dashboard, and the newest event it reflects: subscribe from `last_seq` to miss nothing."""

    page: Page[T]
    last_seq: int


@dataclass(frozen=True)
class PeopleDashboard(Dashboard[PersonHelped]):
    total_count: int


@dataclass(frozen=True)
class InboundDashboard(Dashboard[Referral]):
    not_updated_count: int
    total_count: int


async def _record_change(
    session: AsyncSession,
    referral: Referral,
    kind: EventKind,
    actor: Viewer,
    *,
    source: ChangeSource,
    change: dict[str, Any],
) -> None:
    """The outbox event for live views and the notifications it calls for, in the change's transaction."""
    event = await record_event(
        session,
        subject_type=SubjectType.REFERRAL,
        subject_id=referral.id,
        kind=kind,
        actor=actor,
        source=source,
        change=change,
    )
    await plan_notifications(session, referral=referral, event=event, actor=actor)


def check_screener(program: Program, answers: Sequence[ScreenerAnswer]) -> list[dict[str, Any]]:
    """Answers in the program's question order, each checked against its question."""
    questions = {q["key"]: q for q in program.screener}
    given: dict[str, str] = {}
    for answer in answers:
        if answer.key not in questions:
            raise BadInput(f"“{excerpt(answer.key)}” is not one of this program's screening questions.", field="screenerAnswers")
        given[answer.key] = answer.value.strip()
    checked = []
    for key, question in questions.items():
        value = given.get(key, "")
        if not value:
            if question.get("required"):
                raise BadInput(f"Please answer the screening question “{question['label']}”.", field="screenerAnswers")
            continue
        choices = question.get("choices") or []
        if choices and value not in choices:
            raise BadInput(
                f"“{excerpt(value)}” is not an option for “{question['label']}”; choose one of: {', '.join(choices)}.",
                field="screenerAnswers",
            )
        checked.append({"key": key, "label": question["label"], "value": value})
    return checked


async def load_referral(session: AsyncSession, referral_id: int) -> Referral | None:
    return await session.scalar(
        select(Referral).where(Referral.id == referral_id).options(*REFERRAL_LOAD).execution_options(populate_existing=True)
    )


async def reload_changed(session: AsyncSession, referral: Referral) -> Referral:
    """`referral` as this transaction has changed it: its row, its person and its lists read again.

    Its program's details are kept as loaded: no referral change alters them, and reading them
    again was seven of a status change's twenty-six statements.
    """
    referral_id, seeker, program = referral.id, referral.seeker, referral.program
    options = REFERRAL_RELOAD if not inspect(program).unloaded & PROGRAM_DETAILS else REFERRAL_LOAD
    session.expire(referral)
    session.expire(seeker)
    fresh = await session.scalar(select(Referral).where(Referral.id == referral_id).options(*options))
    assert fresh is not None
    return fresh


async def _visible_referral(session: AsyncSession, viewer: Viewer, referral_id: int) -> Referral:
    referral = await load_referral(session, referral_id)
    if referral is None or not policy.may(viewer, policy.Action.READ, referral):
        raise NotFound("No referral with that id is available to you.")
    return referral


async def _resolve_seeker(session: AsyncSession, viewer: Viewer, new: NewReferral) -> Seeker:
    if viewer.role is Role.SEEKER:
        if new.seeker is not None or (new.seeker_id is not None and new.seeker_id != viewer.seeker_id):
            raise Forbidden("You can only make referrals for yourself.")
        assert viewer.seeker_id is not None
        return await accessible_seeker(session, viewer, viewer.seeker_id, action=seeker_policy.Action.REFER)
    if (new.seeker_id is None) == (new.seeker is None):
        raise BadInput("Give either an existing seeker's id or the new seeker's details, not both.", field="seeker")
    if new.seeker_id is not None:
        return await accessible_seeker(session, viewer, new.seeker_id, action=seeker_policy.Action.REFER)
    assert new.seeker is not None
    preference = new.contact_preference or ContactPreference.NONE
    seeker = build_seeker(new.seeker, preference=preference, created_by=viewer.user_id)
    session.add(seeker)
    await session.flush()
    await audit.record(
        session,
        viewer,
        seeker_ids=[seeker.id],
        scopes=[Scope.NAME, *([Scope.CONTACT] if seeker.email or seeker.phone else [])],
        action=AuditAction.WRITE,
        subject=audit.Subject(AuditSubject.SEEKER, seeker.id),
    )
    return seeker


async def create_referral_in(
    session: AsyncSession, viewer: Viewer, new: NewReferral, *, source: ChangeSource = ChangeSource.DASHBOARD
) -> Referral:
    """All of a referral's creation inside the caller's transaction; raises before writing on bad input."""
    if not capabilities.can(viewer, Capability.MAKE_REFERRALS):
        raise Forbidden("Your role cannot make referrals.")
    program = await session.scalar(select(Program).where(Program.id == new.program_id, Program.is_active.is_(True)))
    if program is None:
        raise BadInput("That program does not exist or no longer takes referrals.", field="programId")
    site = await session.get(Site, viewer.acting.site_id) if viewer.acting and viewer.acting.site_id else None
    kind = kind_for(program, site)
    answers: list[dict[str, Any]] = []
    if kind is ReferralKind.LIVE:
        if not new.consent:
            raise BadInput(
                "The seeker's consent to share their information with the program is required for this referral.",
                field="consent",
            )
        answers = check_screener(program, new.screener_answers)
    comment = bounded_text(new.comment, limit=COMMENT_MAX_LENGTH, what="comment", field="comment")
    override = bounded_text(
        new.override_duplicate_reason,
        limit=OVERRIDE_REASON_MAX_LENGTH,
        what="reason for referring again",
        field="overrideDuplicateReason",
    )
    seeker = await _resolve_seeker(session, viewer, new)
    preference = new.contact_preference or seeker.contact_preference
    check_reachable(preference, email=seeker.email, phone=seeker.phone)
    open_one = await open_duplicate(session, viewer, seeker_id=seeker.id, program_id=program.id)
    if open_one is not None and override is None:
        who = "You already have" if viewer.role is Role.SEEKER else f"{seeker.first_name} {seeker.last_name} already has"
        raise BadInput(
            DUPLICATE.format(who=who, program=program.name),
            field="overrideDuplicateReason",
            reason="DUPLICATE",
            duplicateOf=open_one,
        )

    return await open_referral_in(
        session,
        viewer,
        seeker=seeker,
        program=program,
        kind=kind,
        site=site,
        preference=preference,
        screener_answers=answers,
        comment=comment,
        source=source,
        note=f"Referred again although an open referral exists: {override}" if open_one is not None else None,
    )


async def open_duplicate(session: AsyncSession, viewer: Viewer, *, seeker_id: int, program_id: int) -> int | None:
    """The newest open (in progress) referral of this person to this program that the viewer may see.

    Only referrals the viewer may read count, so the warning tells nobody about a referral they could
    not otherwise see.
    """
    found = await session.scalar(
        select(Referral.id)
        .where(
            Referral.seeker_id == seeker_id,
            Referral.program_id == program_id,
            Referral.status.in_(IN_PROGRESS),
            policy.where(viewer),
        )
        .order_by(Referral.created_at.desc(), Referral.id.desc())
        .limit(1)
    )
    return int(found) if found is not None else None


async def open_referral_in(
    session: AsyncSession,
    viewer: Viewer,
    *,
    seeker: Seeker,
    program: Program,
    kind: ReferralKind,
    site: Site | None,
    preference: ContactPreference,
    screener_answers: list[dict[str, Any]],
    comment: str | None,
    source: ChangeSource,
    note: str | None = None,
) -> Referral:
    """Write a referral whose checks the caller has made: the row, its first status, its comment, its event.

    `create_referral_in` checks what a referrer sends; Coordinated Entry's referrals to a vacancy
    (resolvers.coordinated_entry) check theirs and open the referral here, so both are live alike.
    """
    answers = screener_answers
    now = utcnow()
    is_self = viewer.role is Role.SEEKER
    seeker.contact_preference = preference
    seeker.updated_at = now
    referral = Referral(
        kind=kind,
        status=ReferralStatus.NOT_UPDATED,
        version=1,
        seeker_id=seeker.id,
        program_id=program.id,
        program_organization_id=program.organization_id,
        navigator_id=None if is_self else viewer.user_id,
        navigator_organization_id=None if is_self else viewer.organization_id,
        team_id=None if is_self else viewer.team_id,
        site_id=site.id if site else None,
        contact_preference=preference,
        consent=kind is ReferralKind.LIVE,
        consent_at=now if kind is ReferralKind.LIVE else None,
        screener_answers=answers,
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    await session.flush()
    session.add(
        StatusChange(
            referral_id=referral.id,
            from_status=None,
            to_status=ReferralStatus.NOT_UPDATED,
            note=note,
            changed_by_user_id=viewer.user_id,
            source=source,
            at=now,
        )
    )
    if comment:
        session.add(Comment(referral_id=referral.id, author_user_id=viewer.user_id, body=comment, created_at=now))
    await session.flush()
    # With the facts every standing reads (its program, categories, organization), for the planning below.
    loaded = await load_referral(session, referral.id)
    assert loaded is not None
    change = {"to": ReferralStatus.NOT_UPDATED.name, "referralKind": kind.name, "comment": comment, "version": 1}
    await _record_change(session, loaded, EventKind.CREATED, viewer, source=source, change=change)
    written = [Scope.REFERRALS, Scope.HISTORY, *([Scope.SCREENER_ANSWERS] if answers else []), *([Scope.COMMENTS] if comment else [])]
    await _audit_write(session, viewer, loaded, written)
    return loaded


async def _audit_write(session: AsyncSession, viewer: Viewer, referral: Referral, scopes: Sequence[Scope]) -> None:
    """The write in its own transaction; the referral the mutation answers with is part of it, not a read."""
    subject = audit.Subject(AuditSubject.REFERRAL, referral.id)
    await audit.record(session, viewer, seeker_ids=[referral.seeker_id], scopes=scopes, action=AuditAction.WRITE, subject=subject)


async def update_status_in(
    session: AsyncSession,
    viewer: Viewer,
    *,
    referral_id: int,
    status: ReferralStatus,
    expected_version: int,
    note: str | None = None,
    source: ChangeSource = ChangeSource.DASHBOARD,
    ce_workflow: bool = False,
    undo: bool = False,
) -> Referral:
    referral = await _visible_referral(session, viewer, referral_id)
    note = bounded_text(note, limit=NOTE_MAX_LENGTH, what="note", field="note")
    # Stale first: what a client saw no longer holds, so "already has that status" or a refusal
    # reasoned from the status it saw would mislead it; reloading is what it must do.
    if referral.version != expected_version:
        raise Conflict(STALE, currentVersion=referral.version)
    if undo:
        # policy.undo_status: one's own latest change, within policy.UNDO_SECONDS.
        restored = policy.undo_status(viewer, referral, utcnow())
        if restored is None:
            raise Forbidden(
                f"Only your own latest status change can be undone, within {policy.UNDO_SECONDS} seconds of making it.",
                field="referralId",
            )
        status = restored
        note = note or "Undone"
    elif referral.status is status:
        raise BadInput("The referral already has that status.", field="status")
    elif status not in policy.settable_statuses(viewer, referral):
        raise Forbidden(policy.status_refusal(viewer, referral), field="status")
    # A Coordinated Entry referral closes with its CE result (4.20.D), which sets this status itself.
    if not ce_workflow and status not in IN_PROGRESS:
        if await session.scalar(select(CeEvent.id).where(CeEvent.referral_id == referral.id)) is not None:
            raise BadInput(
                "This is a Coordinated Entry referral: acknowledge and resolve it in the CE workflow, "
                "which records the result and sets this status.",
                field="status",
            )
    previous = referral.status
    now = utcnow()
    # The version in the WHERE clause makes the check and the write one step on every database.
    # An UPDATE without RETURNING gives a CursorResult; Session.execute is typed as the base Result.
    changed = cast(
        "CursorResult[Any]",
        await session.execute(
            update(Referral)
            .where(Referral.id == referral.id, Referral.version == expected_version)
            .values(status=status, version=Referral.version + 1, updated_at=now)
        ),
    )
    if changed.rowcount != 1:
        raise Conflict(STALE)
    session.add(
        StatusChange(
            referral_id=referral.id,
            from_status=previous,
            to_status=status,
            note=note,
            changed_by_user_id=viewer.user_id,
            source=source,
            at=now,
        )
    )
    await session.execute(update(Seeker).where(Seeker.id == referral.seeker_id).values(updated_at=now))
    change = {"from": previous.name, "to": status.name, "note": note, "version": expected_version + 1}
    await _record_change(session, referral, EventKind.STATUS_CHANGED, viewer, source=source, change=change)
    await _audit_write(session, viewer, referral, [Scope.REFERRALS, Scope.HISTORY])
    return referral


async def add_comment_in(
    session: AsyncSession, viewer: Viewer, *, referral_id: int, body: str, source: ChangeSource = ChangeSource.DASHBOARD
) -> Comment:
    referral = await _visible_referral(session, viewer, referral_id)
    if not policy.may(viewer, policy.Action.COMMENT, referral):
        raise Forbidden("You can see this referral but not comment on it.")
    text = bounded_text(body, limit=COMMENT_MAX_LENGTH, what="comment", field="body")
    if text is None:
        raise BadInput("Write something in the comment first.", field="body")
    now = utcnow()
    comment = Comment(referral_id=referral.id, author_user_id=viewer.user_id, body=text, created_at=now)
    session.add(comment)
    await session.execute(update(Referral).where(Referral.id == referral.id).values(updated_at=now))
    await session.execute(update(Seeker).where(Seeker.id == referral.seeker_id).values(updated_at=now))
    await session.flush()
    change = {"comment": text, "commentId": comment.id, "version": referral.version}
    await _record_change(session, referral, EventKind.COMMENT_ADDED, viewer, source=source, change=change)
    await _audit_write(session, viewer, referral, [Scope.COMMENTS])
    return comment


async def write_and_announce(
    runtime: Runtime, change: Callable[[AsyncSession], Awaitable[Referral]]
) -> Referral:
    """Run one change in one transaction, ring the live hub and the senders after commit, return the fresh referral.

    The hub is handed the fresh referral with the change's events: it pushes them from it rather
    than reading the referral again (a dozen statements a change).
    """
    async with runtime.db.write() as session:
        fresh = await reload_changed(session, await change(session))
    runtime.live.committed(fresh, [e.seq for e in recorded_events(session) if e.subject_type is SubjectType.REFERRAL and e.subject_id == fresh.id])
    await runtime.announce()
    return fresh


async def create_referral(runtime: Runtime, viewer: Viewer, new: NewReferral, *, request: Once | None = None) -> Referral:
    """A referral made once per idempotency key; a repeat answers it as the viewer may see it now."""

    async def write(session: AsyncSession) -> Referral:
        referral = await create_referral_in(session, viewer, new)
        fresh = await load_referral(session, referral.id)
        assert fresh is not None
        return fresh

    return await write_once(
        runtime,
        viewer,
        request,
        write,
        record=lambda referral: Record("Referral", referral.id),
        replay=lambda session, referral_id: _visible_referral(session, viewer, referral_id),
    )


async def update_referral_status(
    runtime: Runtime, viewer: Viewer, *, referral_id: int, status: ReferralStatus, expected_version: int, note: str | None
) -> Referral:
    return await write_and_announce(
        runtime,
        lambda s: update_status_in(
            s, viewer, referral_id=referral_id, status=status, expected_version=expected_version, note=note
        ),
    )


async def undo_referral_status(runtime: Runtime, viewer: Viewer, *, referral_id: int, expected_version: int) -> Referral:
    """Take back one's own latest status change (policy.undo_status says when)."""
    return await write_and_announce(
        runtime,
        lambda s: update_status_in(
            s, viewer, referral_id=referral_id, status=ReferralStatus.NOT_UPDATED, expected_version=expected_version, undo=True
        ),
    )


async def add_referral_comment(
    runtime: Runtime, viewer: Viewer, *, referral_id: int, body: str, request: Once | None = None
) -> Referral:
    """A comment written once per idempotency key; the answer is its referral, as the viewer may see it now."""

    async def write(session: AsyncSession) -> tuple[Referral, int]:
        comment = await add_comment_in(session, viewer, referral_id=referral_id, body=body)
        fresh = await load_referral(session, referral_id)
        assert fresh is not None
        return fresh, comment.id

    async def replay(session: AsyncSession, comment_id: int) -> tuple[Referral, int]:
        return await _visible_referral(session, viewer, referral_id), comment_id

    answer, _ = await write_once(runtime, viewer, request, write, record=lambda done: Record("Comment", done[1]), replay=replay)
    return answer


async def get_referral(runtime: Runtime, viewer: Viewer, referral_id: int) -> Referral:
    async with runtime.db.read() as session:
        referral = await _visible_referral(session, viewer, referral_id)
    await audit.record_read(runtime.db, viewer, [audit.referral_touch(viewer, referral)])
    return referral


async def _record_page(runtime: Runtime, viewer: Viewer, page: Page[Referral]) -> None:
    """A page of referrals as read: one row per referral, one INSERT for the page."""
    await audit.record_read(runtime.db, viewer, [audit.referral_touch(viewer, r) for r in page.items])


async def referrals_for_me(runtime: Runtime, viewer: Viewer, *, first: int, after: str | None) -> Dashboard[Referral]:
    """A seeker's own referrals of every kind, newest first."""
    if not capabilities.can(viewer, Capability.SEE_REFERRALS_FOR_ME):
        raise Forbidden("Referrals for Me is for seekers signed in to their own account.")
    stmt = select(Referral).where(policy.where(viewer)).options(*REFERRAL_LOAD)
    async with runtime.db.read() as session:
        last_seq = await latest_seq(session)
        page = await keyset_page(session, stmt, order=REFERRAL_ORDER, first=first, after=after)
    await _record_page(runtime, viewer, page)
    return Dashboard(page=page, last_seq=last_seq)


class InboundSort(enum.Enum):
    """The intake queue's orders."""

    NEWEST = "NEWEST"
    OLDEST = "OLDEST"
    LAST_ACTIVITY = "LAST_ACTIVITY"


INBOUND_ORDERS: dict[InboundSort, tuple[tuple[Any, ...], bool]] = {
    InboundSort.NEWEST: (REFERRAL_ORDER, True),
    InboundSort.OLDEST: (REFERRAL_ORDER, False),
    InboundSort.LAST_ACTIVITY: ((Referral.updated_at, Referral.id), True),
}


async def inbound_referrals(
    runtime: Runtime,
    viewer: Viewer,
    *,
    program_id: int | None,
    status: ReferralStatus | None,
    first: int,
    after: str | None,
    search: str | None = None,
    sort: InboundSort = InboundSort.NEWEST,
) -> InboundDashboard:
    """Live referrals to the acting organization's programs, newest first unless `sort` says otherwise.

    `search` matches every word against the person's first and last name. `not_updated_count` is
    the queue's (the program filter only); `total_count` is this connection's, every filter applied.
    """
    if not capabilities.can(viewer, Capability.SEE_INBOUND_REFERRALS):
        raise Forbidden("Inbound Referrals is for a program's staff.")
    inbound = policy.RULES.related_where(viewer, [policy.Relation.PROGRAM_STAFF, policy.Relation.PROGRAM_ADMIN])
    base = [inbound, *([Referral.program_id == program_id] if program_id is not None else [])]
    words = every_word_matches(search, Seeker.first_name, Seeker.last_name)
    by_name = [Referral.seeker_id.in_(select(Seeker.id).where(*words))] if words else []
    filters = [*base, *([Referral.status == status] if status is not None else []), *by_name]
    order, descending = INBOUND_ORDERS[sort]
    async with runtime.db.read() as session:
        last_seq = await latest_seq(session)
        not_updated = await session.scalar(
            select(func.count()).select_from(Referral).where(*base, Referral.status == ReferralStatus.NOT_UPDATED)
        )
        total = await session.scalar(select(func.count()).select_from(Referral).where(*filters))
        page = await keyset_page(
            session,
            select(Referral).where(*filters).options(*REFERRAL_LOAD),
            order=order,
            first=first,
            after=after,
            descending=descending,
        )
    await _record_page(runtime, viewer, page)
    return InboundDashboard(page=page, last_seq=last_seq, not_updated_count=int(not_updated or 0), total_count=int(total or 0))


async def people_im_helping(
    runtime: Runtime,
    viewer: Viewer,
    *,
    first: int,
    after: str | None,
    search: str | None = None,
    open: bool | None = None,
    sort: PeopleSort = PeopleSort.LAST_ACTIVITY_DESC,
) -> PeopleDashboard:
    """The people behind the navigator's (and their team's) referrals, most recently active first.

    `search` matches their names, word by word; `open` keeps the people with (True) or without
    (False) a referral still in progress that the viewer may see.
    """
    if not capabilities.can(viewer, Capability.SEE_PEOPLE_IM_HELPING):
        raise Forbidden("People I'm Helping is for navigators.")
    filters = [seeker_policy.helped_where(viewer), *every_word_matches(search, Seeker.first_name, Seeker.last_name)]
    if open is not None:
        in_progress = exists().where(
            Referral.seeker_id == Seeker.id, Referral.status.in_(IN_PROGRESS), policy.where(viewer)
        )
        filters.append(in_progress if open else ~in_progress)
    if sort is PeopleSort.NAME:
        order = [Seeker.last_name, Seeker.first_name, Seeker.id]
        descending: bool = False
    else:
        order = [Seeker.updated_at, Seeker.id]
        descending = sort is PeopleSort.LAST_ACTIVITY_DESC
    async with runtime.db.read() as session:
        last_seq = await latest_seq(session)
        total = await session.scalar(select(func.count()).select_from(Seeker).where(*filters))
        page = await keyset_page(
            session, select(Seeker).where(*filters), order=order, first=first, after=after, descending=descending
        )
        profiles = await profiles_of(session, viewer, page.items)
        by_seeker: dict[int, list[Referral]] = defaultdict(list)
        if page.items:
            referrals = await session.scalars(
                select(Referral)
                .where(Referral.seeker_id.in_([s.id for s in page.items]), policy.where(viewer))
                .options(*REFERRAL_LOAD)
                .order_by(Referral.created_at.desc(), Referral.id.desc())
            )
            for referral in referrals.unique():
                by_seeker[referral.seeker_id].append(referral)
    people = [PersonHelped(profile=p, referrals=by_seeker[p.seeker.id]) for p in profiles]
    # One row per person: their profile's scopes and, for the referrals the page carries, theirs.
    touches = []
    for person in people:
        scopes = set(audit.profile_scopes(person.profile.fields))
        for referral in person.referrals:
            scopes |= audit.referral_touch(viewer, referral).scopes
        touches.append(audit.Touch(person.profile.seeker.id, frozenset(scopes), audit.Subject(AuditSubject.SEEKER, person.profile.seeker.id)))
    await audit.record_read(runtime.db, viewer, touches)
    return PeopleDashboard(
        page=Page(items=people, cursors=page.cursors, has_next_page=page.has_next_page, has_previous_page=page.has_previous_page),
        last_seq=last_seq,
        total_count=int(total or 0),
    )


async def referrals_of_seekers(
    runtime: Runtime, viewer: Viewer, seeker_ids: Collection[int], *, first: int, after: str | None
) -> dict[int, Page[Referral]]:
    """A page of each seeker's referrals that the viewer may see, in a fixed number of statements however many seekers."""
    if not seeker_ids:
        return {}
    async with runtime.db.read() as session:
        pages: dict[int, Page[Referral]] = await keyset_pages(
            session,
            Referral,
            where=[policy.where(viewer)],
            options=REFERRAL_LOAD,
            partition=Referral.seeker_id,
            keys=seeker_ids,
            order=REFERRAL_ORDER,
            first=first,
            after=after,
        )
    # One INSERT for every referral the pages carry, as `_record_page` records one page.
    await audit.record_read(runtime.db, viewer, [audit.referral_touch(viewer, r) for p in pages.values() for r in p.items])
    return pages
