"""Recording reads, writes and pushes of seekers' personal data, and reading the trail back.

Every resolver that hands out or changes a seeker's data says so here, with the scopes the viewer
was given (what the policy's visible fields allow, whether or not the query selected each one):
a whole page is one INSERT, however many seekers it shows. Writes are recorded in the change's
own transaction; reads in a short write transaction right after the page is loaded and before it
is returned, so that nothing is shown unrecorded (a failure to record fails the read); pushes by
the live hub once per fan-out, for every recipient.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.accounts import Organization, Role, User
from db.audit import OPERATION_LENGTH, AuditAction, AuditEntry, AuditSubject, Scope, join_scopes, split_scopes
from db.base import utcnow
from db.engine import Database
from db.referrals import Referral
from resolvers.errors import BadInput, Forbidden
from resolvers.pagination import Page, keyset_page
from resolvers.policy import audit as policy
from resolvers.policy import referrals as referral_policy
from resolvers.policy import seekers as seeker_policy
from resolvers.viewer import Viewer

# Rows per executemany batch, so that one export of many thousand clients is sent in bounded pieces.
ROWS_PER_STATEMENT = 5000
UNNAMED_OPERATION = "unknown"

_REFERRAL_SCOPES = {
    referral_policy.Field.SEEKER_NAME: Scope.NAME,
    referral_policy.Field.SEEKER_CONTACT: Scope.CONTACT,
    referral_policy.Field.SCREENER_ANSWERS: Scope.SCREENER_ANSWERS,
    referral_policy.Field.COMMENTS: Scope.COMMENTS,
    referral_policy.Field.HISTORY: Scope.HISTORY,
}
_PROFILE_SCOPES = {
    seeker_policy.Field.NAME: Scope.NAME,
    seeker_policy.Field.CONTACT: Scope.CONTACT,
    seeker_policy.Field.HMIS_ELEMENTS: Scope.HMIS_ELEMENTS,
}


@dataclass(frozen=True)
class Subject:
    type: AuditSubject
    id: int


@dataclass(frozen=True)
class Touch:
    """One seeker's data, of these scopes, touched through one subject."""

    seeker_id: int
    scopes: frozenset[Scope]
    subject: Subject | None = None


def referral_scopes(fields: Iterable[referral_policy.Field]) -> frozenset[Scope]:
    """What a viewer given these fields of a referral sees of its seeker.

    Initials alone (the CE wall's) are not recorded: without the name they do not identify the
    person, and a wall that redraws on every change would bury the seeker's trail.
    """
    given = frozenset(fields)
    if referral_policy.Field.SEEKER_NAME not in given:
        return frozenset()
    return frozenset({Scope.REFERRALS, *(_REFERRAL_SCOPES[f] for f in given if f in _REFERRAL_SCOPES)})


def referral_touch(viewer: Viewer, referral: Referral) -> Touch:
    scopes = referral_scopes(referral_policy.visible_fields(viewer, referral))
    return Touch(referral.seeker_id, scopes, Subject(AuditSubject.REFERRAL, referral.id))


def profile_scopes(fields: Iterable[seeker_policy.Field]) -> frozenset[Scope]:
    return frozenset(_PROFILE_SCOPES[f] for f in fields)


def profile_touch(seeker_id: int, fields: Iterable[seeker_policy.Field], *extra: Scope) -> Touch:
    scopes = profile_scopes(fields)
    return Touch(seeker_id, scopes | frozenset(extra) if scopes else scopes, Subject(AuditSubject.SEEKER, seeker_id))


def _row(viewer: Viewer, touch: Touch, action: AuditAction, operation: str, at: datetime) -> dict[str, Any]:
    return {**_actor_columns(viewer, action, operation, at), **_touch_columns(touch)}


def _actor_columns(viewer: Viewer, action: AuditAction, operation: str, at: datetime) -> dict[str, Any]:
    return {
        "at": at,
        "user_id": viewer.user_id,
        # Someone acting through an email link has no account: their address says who it was.
        "actor_email": (viewer.email or None) if viewer.user_id is None else None,
        "acting_organization_id": viewer.organization_id,
        "acting_role": viewer.role,
        "action": action,
        "operation": (operation or viewer.operation or UNNAMED_OPERATION)[:OPERATION_LENGTH],
    }


def _touch_columns(touch: Touch) -> dict[str, Any]:
    return {
        "seeker_id": touch.seeker_id,
        "scopes": join_scopes(touch.scopes),
        "subject_type": touch.subject.type if touch.subject else None,
        "subject_id": touch.subject.id if touch.subject else None,
    }


@dataclass(frozen=True)
class Push:
    """One event pushed to one subscriber."""

    viewer: Viewer
    operation: str
    touch: Touch


# The table's INSERT, not the entity's: the ORM's bulk path would build and process every row again.
_INSERT = insert(cast("Table", AuditEntry.__table__))


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """One INSERT statement, compiled once and cached, run with every row as an executemany batch.

    (A multi-row `VALUES (...), (...)` would be compiled afresh for every page: for a fan-out to a
    thousand dashboards that costs more than the insert.)
    """
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        await session.execute(_INSERT, rows[start : start + ROWS_PER_STATEMENT])


async def record_touches(
    session: AsyncSession, viewer: Viewer, touches: Iterable[Touch], *, action: AuditAction, operation: str = ""
) -> None:
    """Record, in the caller's transaction, that the viewer touched these seekers' data; one INSERT."""
    at = utcnow()
    rows = [_row(viewer, t, action, operation, at) for t in touches if t.scopes]
    await _insert(session, rows)


async def record(
    session: AsyncSession,
    viewer: Viewer,
    *,
    seeker_ids: Iterable[int],
    scopes: Iterable[Scope],
    action: AuditAction,
    operation: str = "",
    subject: Subject | None = None,
) -> None:
    """The same scopes of many seekers (e.g. a household enrolled together), in one INSERT."""
    chosen = frozenset(scopes)
    await record_touches(
        session, viewer, (Touch(s, chosen, subject) for s in dict.fromkeys(seeker_ids)), action=action, operation=operation
    )


async def record_read(db: Database, viewer: Viewer, touches: Iterable[Touch], *, operation: str = "") -> None:
    """Record a read in a short transaction of its own, before the page is handed out."""
    chosen = [t for t in touches if t.scopes]
    if not chosen:
        return
    async with db.write() as session:
        await record_touches(session, viewer, chosen, action=AuditAction.READ, operation=operation)


async def record_pushes(db: Database, pushes: Sequence[Push]) -> None:
    """The pushes of one fan-out, in one short transaction."""
    at = utcnow()
    # A fan-out pushes one touch to many subscribers: each touch's columns are worked out once.
    columns: dict[int, dict[str, Any]] = {}
    rows = []
    for p in pushes:
        if not p.touch.scopes:
            continue
        shared = columns.get(id(p.touch))
        if shared is None:
            shared = columns[id(p.touch)] = _touch_columns(p.touch)
        rows.append({**_actor_columns(p.viewer, AuditAction.PUSH, p.operation, at), **shared})
    if not rows:
        return
    async with db.write() as session:
        await _insert(session, rows)


# Reading the trail --------------------------------------------------------------------------------

MAX_RANGE_DAYS = 3700  # about ten years, beyond the longest retention


@dataclass(frozen=True)
class TrailFilter:
    seeker_id: int | None = None
    organization_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class TrailEntry:
    """One entry as the viewer may see it: the actor only where the policy shows it."""

    entry: AuditEntry
    organization_name: str | None
    actor_name: str | None
    actor_email: str | None
    show_seeker: bool

    @property
    def scopes(self) -> list[Scope]:
        return split_scopes(self.entry.scopes)


def _moment(value: datetime | None, what: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise BadInput(f"Give `{what}` with a time zone, e.g. 2026-01-01T00:00:00Z.", field=what)
    return value


def _check(viewer: Viewer, narrow: TrailFilter) -> list[Any]:
    if not policy.may_read_trail(viewer):
        raise Forbidden("The audit trail is for an organization's admins, and for a person about their own record.")
    start, end = _moment(narrow.start, "from"), _moment(narrow.end, "to")
    if start is not None and end is not None:
        if start > end:
            raise BadInput("`from` is after `to`.", field="from")
        if end - start > timedelta(days=MAX_RANGE_DAYS):
            raise BadInput(f"Ask for at most {MAX_RANGE_DAYS} days at a time.", field="to")
    if viewer.role is Role.SEEKER and narrow.seeker_id is not None and narrow.seeker_id != viewer.seeker_id:
        raise Forbidden("You can read the trail of your own record only.", field="seekerId")
    if viewer.role is Role.ADMIN and narrow.organization_id is not None and narrow.organization_id != viewer.organization_id:
        raise Forbidden("You can read the trail of the organization you act for only.", field="organizationId")
    filters: list[Any] = [policy.where(viewer)]
    if narrow.seeker_id is not None:
        filters.append(AuditEntry.seeker_id == narrow.seeker_id)
    if narrow.organization_id is not None:
        filters.append(AuditEntry.acting_organization_id == narrow.organization_id)
    if start is not None:
        filters.append(AuditEntry.at >= start)
    if end is not None:
        filters.append(AuditEntry.at <= end)
    return filters


async def audit_trail(db: Database, viewer: Viewer, narrow: TrailFilter, *, first: int, after: str | None) -> Page[TrailEntry]:
    """The entries the viewer may read, newest first. Reading the trail is not itself recorded."""
    filters = _check(viewer, narrow)
    async with db.read() as session:
        page = await keyset_page(
            session, select(AuditEntry).where(*filters), order=[AuditEntry.at, AuditEntry.id], first=first, after=after
        )
        organizations = {e.acting_organization_id for e in page.items if e.acting_organization_id is not None}
        names: dict[int, str] = {}
        if organizations:
            rows = await session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(organizations)))
            names = {organization_id: name for organization_id, name in rows}
        users = {e.user_id for e in page.items if e.user_id is not None}
        people = (
            {u.id: (u.name, u.email) for u in await session.scalars(select(User).where(User.id.in_(users)))} if users else {}
        )
    entries = []
    for entry in page.items:
        fields = policy.visible_fields(viewer, entry)
        person = people.get(entry.user_id) if entry.user_id is not None else None
        shows_actor = policy.Field.ACTOR in fields
        organization = entry.acting_organization_id
        entries.append(
            TrailEntry(
                entry=entry,
                organization_name=names.get(organization) if organization is not None and policy.Field.ORGANIZATION in fields else None,
                actor_name=person[0] if shows_actor and person else None,
                actor_email=(person[1] if person else entry.actor_email) if shows_actor else None,
                show_seeker=policy.Field.SEEKER in fields,
            )
        )
    return Page(items=entries, cursors=page.cursors, has_next_page=page.has_next_page, has_previous_page=page.has_previous_page)


# Retention ------------------------------------------------------------------------------------------


def retention_cutoff(years: int, *, now: datetime | None = None) -> datetime:
    """The moment `years` years before now (29 February falls back to the 28th)."""
    if years < 1 or years > 100:
        raise BadInput("Give the retention in whole years, between 1 and 100.", field="olderThan")
    moment = now or utcnow()
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


async def purge_list(db: Database, *, older_than_years: int, batch: int = 1000) -> AsyncIterator[AuditEntry]:
    """The entries older than the retention, oldest first, in batches; nothing is deleted."""
    cutoff = retention_cutoff(older_than_years)
    last_id = 0
    while True:
        async with db.read() as session:
            rows = (
                await session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.at < cutoff, AuditEntry.id > last_id)
                    .order_by(AuditEntry.id)
                    .limit(batch)
                )
            ).all()
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        last_id = rows[-1].id
