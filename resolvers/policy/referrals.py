"""Referrals: how a viewer can stand towards one, and what each standing may do and see.

Rows are referrals loaded with their program (and its categories) and the program's organization
(`db.referrals.REFERRAL_LOAD`): the facts the standings read come with the row, in one batch.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, select

from db.accounts import Organization, Role
from db.programs import ProgramCategory, ProgramCategoryTag
from db.referrals import IN_PROGRESS, Referral, ReferralKind, ReferralStatus
from db.seekers import ContactPreference
from resolvers.policy.tables import Condition, Rules, Standing, always, equals, same
from resolvers.viewer import Viewer


class Relation(enum.Enum):
    SEEKER = "SEEKER"
    REFERRER = "REFERRER"
    TEAM = "TEAM"
    REFERRING_ADMIN = "REFERRING_ADMIN"
    PROGRAM_STAFF = "PROGRAM_STAFF"
    PROGRAM_ADMIN = "PROGRAM_ADMIN"
    CE_HOUSING = "CE_HOUSING"
    CE_WALL = "CE_WALL"


class Action(enum.Enum):
    READ = "READ"
    SHOW_ON_WALL = "SHOW_ON_WALL"
    SET_STATUS = "SET_STATUS"
    COMMENT = "COMMENT"
    EXPORT = "EXPORT"


class Field(enum.Enum):
    SEEKER_NAME = "SEEKER_NAME"
    SEEKER_INITIALS = "SEEKER_INITIALS"
    SEEKER_CONTACT = "SEEKER_CONTACT"
    SCREENER_ANSWERS = "SCREENER_ANSWERS"
    COMMENTS = "COMMENTS"
    HISTORY = "HISTORY"


class Side(enum.Enum):
    """The party a standing belongs to, for rules about who is told and who acted."""

    SEEKER = "SEEKER"
    REFERRER = "REFERRER"
    PROGRAM = "PROGRAM"
    COC = "COC"


SIDES = {
    Relation.SEEKER: Side.SEEKER,
    Relation.REFERRER: Side.REFERRER,
    Relation.TEAM: Side.REFERRER,
    Relation.REFERRING_ADMIN: Side.REFERRER,
    Relation.PROGRAM_STAFF: Side.PROGRAM,
    Relation.PROGRAM_ADMIN: Side.PROGRAM,
    Relation.CE_HOUSING: Side.COC,
    Relation.CE_WALL: Side.COC,
}
REFERRER_SIDE = frozenset(rel for rel, side in SIDES.items() if side is Side.REFERRER)

# A seeker may close their own referral out; everything else is the helpers' to say.
SEEKER_STATUSES = frozenset({ReferralStatus.GOT_HELP, ReferralStatus.COULDNT_GET_HELP, ReferralStatus.NO_LONGER_INTERESTED})
ALL_STATUSES = frozenset(ReferralStatus)


def _is_live(r: Referral) -> bool:
    return r.kind is ReferralKind.LIVE


def _in_coc(v: Viewer, r: Referral) -> bool:
    return _is_live(r) and same(r.program_organization.coc_id, v.coc_id)


def _is_housing(r: Referral) -> bool:
    return any(tag.category is ProgramCategory.HOUSING for tag in r.program.categories)


def _coc_where(v: Viewer) -> ColumnElement[bool]:
    if v.coc_id is None:
        return false()
    return and_(
        Referral.kind == ReferralKind.LIVE,
        Referral.program_organization_id.in_(select(Organization.id).where(Organization.coc_id == v.coc_id)),
    )


_HOUSING_WHERE = Referral.program_id.in_(
    select(ProgramCategoryTag.program_id).where(ProgramCategoryTag.category == ProgramCategory.HOUSING)
)


def _standing(
    says: str, roles: set[Role], reads: tuple[str, ...], where: Any, holds: Any
) -> Standing[Referral, None]:
    return Standing(says=says, roles=frozenset(roles), reads=reads, where=where, holds=holds)


STANDINGS: dict[Relation, Standing[Referral, None]] = {
    Relation.SEEKER: _standing(
        "the referral is the viewer's own", {Role.SEEKER}, ("seeker_id",),
        lambda v: equals(Referral.seeker_id, v.seeker_id),
        lambda v, r, _: same(r.seeker_id, v.seeker_id),
    ),
    Relation.REFERRER: _standing(
        "the viewer made it, acting for the organization they act for now", {Role.NAVIGATOR}, ("user_id", "organization_id"),
        lambda v: and_(equals(Referral.navigator_id, v.user_id), equals(Referral.navigator_organization_id, v.organization_id)),
        lambda v, r, _: same(r.navigator_id, v.user_id) and same(r.navigator_organization_id, v.organization_id),
    ),
    Relation.TEAM: _standing(
        "it was made in the viewer's team", {Role.NAVIGATOR}, ("team_id",),
        lambda v: equals(Referral.team_id, v.team_id),
        lambda v, r, _: same(r.team_id, v.team_id),
    ),
    Relation.REFERRING_ADMIN: _standing(
        "it was made in the viewer's organization", {Role.ADMIN}, ("organization_id",),
        lambda v: equals(Referral.navigator_organization_id, v.organization_id),
        lambda v, r, _: same(r.navigator_organization_id, v.organization_id),
    ),
    Relation.PROGRAM_STAFF: _standing(
        "it is live, to a program of the viewer's organization", {Role.PROGRAM_STAFF}, ("organization_id",),
        lambda v: and_(Referral.kind == ReferralKind.LIVE, equals(Referral.program_organization_id, v.organization_id)),
        lambda v, r, _: _is_live(r) and same(r.program_organization_id, v.organization_id),
    ),
    Relation.PROGRAM_ADMIN: _standing(
        "it is live, to a program of the viewer's organization", {Role.ADMIN}, ("organization_id",),
        lambda v: and_(Referral.kind == ReferralKind.LIVE, equals(Referral.program_organization_id, v.organization_id)),
        lambda v, r, _: _is_live(r) and same(r.program_organization_id, v.organization_id),
    ),
    Relation.CE_HOUSING: _standing(
        "it is live, to a housing program in the viewer's CoC", {Role.CE_MANAGER}, ("coc_id",),
        lambda v: and_(_coc_where(v), _HOUSING_WHERE),
        lambda v, r, _: _in_coc(v, r) and _is_housing(r),
    ),
    Relation.CE_WALL: _standing(
        "it is live, to any other program in the viewer's CoC", {Role.CE_MANAGER}, ("coc_id",),
        lambda v: and_(_coc_where(v), ~_HOUSING_WHERE),
        lambda v, r, _: _in_coc(v, r) and not _is_housing(r),
    ),
}

ALWAYS: Condition[Referral, None] = always()
CONTACT_SHARED: Condition[Referral, None] = Condition(
    says="the seeker consented and did not choose “don't reach out”",
    holds=lambda _v, r, _: r.consent and r.contact_preference is not ContactPreference.NONE,
    where=lambda _v: and_(Referral.consent.is_(True), Referral.contact_preference != ContactPreference.NONE),
)

# A seeker says how it went while the referral is in progress; once it is closed (by them or by the
# program) "Got help" and "Couldn't get help" are no longer theirs to tap. A mistaken tap is undone
# by `undo_status` below.
STILL_OPEN: Condition[Referral, None] = Condition(
    says="the referral is still in progress",
    holds=lambda _v, r, _: r.status in IN_PROGRESS,
    where=lambda _v: Referral.status.in_(IN_PROGRESS),
)

_READERS = (
    Relation.SEEKER,
    Relation.REFERRER,
    Relation.TEAM,
    Relation.REFERRING_ADMIN,
    Relation.PROGRAM_STAFF,
    Relation.PROGRAM_ADMIN,
    Relation.CE_HOUSING,
)
_HELPERS = tuple(r for r in _READERS if SIDES[r] in (Side.SEEKER, Side.REFERRER, Side.PROGRAM))


def _grant(
    relations: tuple[Relation, ...], condition: Condition[Referral, None] = ALWAYS
) -> dict[Relation, Condition[Referral, None]]:
    return {rel: condition for rel in relations}


RULES: Rules[Referral, None, Relation, Action, Field] = Rules(
    resource="Referral",
    standings=STANDINGS,
    actions={
        # READ is fetching it, listing it and receiving its events.
        Action.READ: _grant(_READERS),
        # The CE wall counts the CoC's referrals and shows initials, program, status and times.
        Action.SHOW_ON_WALL: _grant((Relation.CE_HOUSING, Relation.CE_WALL)),
        # Which statuses: STATUSES below.
        Action.SET_STATUS: {**_grant(_HELPERS), Relation.SEEKER: STILL_OPEN},
        Action.COMMENT: _grant(_HELPERS),
        Action.EXPORT: _grant((Relation.CE_HOUSING,)),
    },
    fields={
        Field.SEEKER_NAME: _grant(_READERS),
        Field.SEEKER_INITIALS: _grant((*_READERS, Relation.CE_WALL)),
        Field.SEEKER_CONTACT: {
            **_grant((Relation.SEEKER, *REFERRER_SIDE)),
            **_grant((Relation.PROGRAM_STAFF, Relation.PROGRAM_ADMIN, Relation.CE_HOUSING), CONTACT_SHARED),
        },
        Field.SCREENER_ANSWERS: _grant(_READERS),
        Field.COMMENTS: _grant(_READERS),
        Field.HISTORY: _grant(_READERS),
    },
)

STATUSES: dict[Relation, frozenset[ReferralStatus]] = {
    rel: SEEKER_STATUSES if rel is Relation.SEEKER else ALL_STATUSES for rel in RULES.actions[Action.SET_STATUS]
}


def relations(viewer: Viewer, referral: Referral) -> frozenset[Relation]:
    return RULES.relations(viewer, referral, None)


def where(viewer: Viewer, action: Action = Action.READ) -> ColumnElement[bool]:
    """SQL: the referrals the viewer may do `action` to (by default: see)."""
    return RULES.where(viewer, action)


def may(viewer: Viewer, action: Action, referral: Referral) -> bool:
    return RULES.may(viewer, action, referral, None)


def visible_fields(viewer: Viewer, referral: Referral) -> frozenset[Field]:
    return RULES.visible_fields(viewer, referral, None)


def settable_statuses(viewer: Viewer, referral: Referral) -> frozenset[ReferralStatus]:
    """The statuses the viewer may move the referral to now (its current one excluded)."""
    grants = RULES.actions[Action.SET_STATUS]
    allowed = [
        STATUSES[rel]
        for rel in relations(viewer, referral)
        if rel in grants and grants[rel].holds(viewer, referral, None)
    ]
    return frozenset().union(*allowed) - {referral.status}


def status_where(viewer: Viewer, status: ReferralStatus) -> ColumnElement[bool]:
    """SQL twin of `settable_statuses`: the referrals the viewer may move to `status` now."""
    relations_for = [rel for rel, statuses in STATUSES.items() if status in statuses]
    grants = {rel: RULES.actions[Action.SET_STATUS][rel] for rel in relations_for}
    return and_(RULES.granted_where(viewer, grants), Referral.status != status)


# How long after a status change the person who made it may take it back.
UNDO_SECONDS = 30


def undo_status(viewer: Viewer, referral: Referral, now: datetime) -> ReferralStatus | None:
    """The status an undo would restore now, or None: the rule for taking back a mistaken tap.

    Whoever may set a referral's status (any standing granted SET_STATUS, whatever its condition)
    may undo their own status change for UNDO_SECONDS after making it, while it is still the
    referral's latest change: the referral goes back to the status it had before. This is how a
    seeker who tapped "Got help" by mistake sets their referral back to a status they could not set
    themselves (e.g. Not updated). The referral's history must be loaded.
    """
    grants = RULES.actions[Action.SET_STATUS]
    if viewer.user_id is None or not any(rel in grants for rel in relations(viewer, referral)):
        return None
    if not referral.history:
        return None
    last = max(referral.history, key=lambda h: (h.at, h.id))
    if last.from_status is None or last.changed_by_user_id != viewer.user_id or last.to_status is not referral.status:
        return None
    if now - last.at > timedelta(seconds=UNDO_SECONDS):
        return None
    return last.from_status


def undo_deadline(referral: Referral) -> datetime | None:
    """Until when the referral's latest change may be undone (by the person who made it)."""
    if not referral.history:
        return None
    last = max(referral.history, key=lambda h: (h.at, h.id))
    return last.at + timedelta(seconds=UNDO_SECONDS) if last.from_status is not None else None


def sides(viewer: Viewer, referral: Referral) -> frozenset[Side]:
    return frozenset(SIDES[rel] for rel in relations(viewer, referral))


def status_refusal(viewer: Viewer, referral: Referral) -> str:
    """A sentence for a person whose status change was refused."""
    if Relation.SEEKER in relations(viewer, referral):
        if referral.status not in IN_PROGRESS:
            return "This referral is closed; ask the program or your navigator if it needs to change."
        return (
            "You can mark your own referral as Got help, Couldn't get help or No longer interested; "
            "the program or your navigator sets the other statuses."
        )
    return "You can see this referral but not change its status."
