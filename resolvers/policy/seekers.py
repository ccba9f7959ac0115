"""Seeker profiles: who may look a person up, refer them, and see their contact details.

A program learns about a seeker only through a referral to it, under the referral's own rules
(`policy.referrals`): a profile is the seeker's own and their helpers' (the referrer side). A
program that has enrolled the person (PROVIDER) may also see and keep their HMIS elements.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.accounts import Role
from db.enrollments import Enrollment
from db.programs import Program
from db.referrals import Referral
from db.seekers import Seeker
from resolvers.policy import referrals
from resolvers.policy.tables import Condition, Rules, Standing, always, equals, same
from resolvers.viewer import Viewer


class Relation(enum.Enum):
    SELF = "SELF"
    CREATOR = "CREATOR"
    HELPER = "HELPER"
    PROVIDER = "PROVIDER"


class Action(enum.Enum):
    READ = "READ"
    REFER = "REFER"
    UPDATE_CLIENT_ELEMENTS = "UPDATE_CLIENT_ELEMENTS"


class Field(enum.Enum):
    NAME = "NAME"
    CONTACT = "CONTACT"
    HMIS_ELEMENTS = "HMIS_ELEMENTS"


@dataclass(frozen=True)
class SeekerFacts:
    """What HELPER and PROVIDER read beyond the profile: the person's referrals (ids and referrer
    columns) and the organizations whose programs have enrolled them."""

    referrals: Sequence[Referral] = field(default_factory=tuple)
    enrolled_by: frozenset[int] = frozenset()


async def load_facts(session: AsyncSession, seeker_ids: Collection[int]) -> dict[int, SeekerFacts]:
    """The facts for many profiles in one statement."""
    if not seeker_ids:
        return {}
    rows = await session.scalars(select(Referral).where(Referral.seeker_id.in_(seeker_ids)))
    by_seeker: dict[int, list[Referral]] = {}
    for referral in rows:
        by_seeker.setdefault(referral.seeker_id, []).append(referral)
    enrolled = await session.execute(
        select(Enrollment.seeker_id, Program.organization_id)
        .join(Program, Program.id == Enrollment.program_id)
        .where(Enrollment.seeker_id.in_(seeker_ids))
    )
    enrolled_by: dict[int, set[int]] = {}
    for seeker_id, organization_id in enrolled:
        enrolled_by.setdefault(seeker_id, set()).add(organization_id)
    return {
        sid: SeekerFacts(tuple(by_seeker.get(sid, ())), frozenset(enrolled_by.get(sid, ()))) for sid in seeker_ids
    }


def _helped(viewer: Viewer, facts: SeekerFacts) -> bool:
    # The referrer-side standings read only the referral's own columns, never its relationships.
    return any(referrals.relations(viewer, r) & referrals.REFERRER_SIDE for r in facts.referrals)


STANDINGS: dict[Relation, Standing[Seeker, SeekerFacts]] = {
    Relation.SELF: Standing(
        says="the profile is the viewer's own",
        roles=frozenset({Role.SEEKER}),
        reads=("seeker_id",),
        where=lambda v: equals(Seeker.id, v.seeker_id),
        holds=lambda v, s, _: same(s.id, v.seeker_id),
    ),
    Relation.CREATOR: Standing(
        says="the viewer created the profile",
        roles=frozenset({Role.NAVIGATOR, Role.ADMIN}),
        reads=("user_id",),
        where=lambda v: equals(Seeker.created_by_user_id, v.user_id),
        holds=lambda v, s, _: same(s.created_by_user_id, v.user_id),
    ),
    Relation.HELPER: Standing(
        says="the viewer is on the referrer side of one of the person's referrals",
        roles=frozenset({Role.NAVIGATOR, Role.ADMIN}),
        reads=("user_id", "organization_id", "team_id"),
        where=lambda v: Seeker.id.in_(
            select(Referral.seeker_id).where(referrals.RULES.related_where(v, referrals.REFERRER_SIDE))
        ),
        holds=lambda v, _s, facts: _helped(v, facts),
    ),
    Relation.PROVIDER: Standing(
        says="the person has an enrollment in a program of the viewer's organization",
        roles=frozenset({Role.PROGRAM_STAFF, Role.ADMIN}),
        reads=("organization_id",),
        where=lambda v: Seeker.id.in_(
            select(Enrollment.seeker_id)
            .join(Program, Program.id == Enrollment.program_id)
            .where(Program.organization_id == v.organization_id)
        )
        if v.organization_id is not None
        else false(),
        holds=lambda v, _s, facts: v.organization_id is not None and v.organization_id in facts.enrolled_by,
    ),
}

ALWAYS: Condition[Seeker, SeekerFacts] = always()
# The profile itself stays with the person and the referrer side; a provider keeps only HMIS's elements.
_PROFILE = {rel: ALWAYS for rel in (Relation.SELF, Relation.CREATOR, Relation.HELPER)}
_ELEMENTS = {rel: ALWAYS for rel in Relation}
_RECORDERS = {rel: ALWAYS for rel in (Relation.CREATOR, Relation.HELPER, Relation.PROVIDER)}

RULES: Rules[Seeker, SeekerFacts, Relation, Action, Field] = Rules(
    resource="Seeker profile",
    standings=STANDINGS,
    actions={Action.READ: _PROFILE, Action.REFER: _PROFILE, Action.UPDATE_CLIENT_ELEMENTS: _RECORDERS},
    fields={Field.NAME: _PROFILE, Field.CONTACT: _PROFILE, Field.HMIS_ELEMENTS: _ELEMENTS},
)


def where(viewer: Viewer, action: Action = Action.READ) -> ColumnElement[bool]:
    return RULES.where(viewer, action)


def helped_where(viewer: Viewer) -> ColumnElement[bool]:
    """The people behind the viewer's (and their team's) referrals: People I'm Helping."""
    return RULES.related_where(viewer, [Relation.HELPER])


def visible_fields(viewer: Viewer, seeker: Seeker, facts: SeekerFacts) -> frozenset[Field]:
    return RULES.visible_fields(viewer, seeker, facts)
