"""The families an agreement was made for: who may list them, and whose names cross.

An implementation team (an admin of a party to a data sharing agreement in force) lists the
households known to both a child welfare party and a housing party of the agreement. A household
is named, with the parties that know it, only while its head (or the person, if they are no case's
household) has a release of information in force covering REFERRALS to the viewer's organization
or to that agreement, and the agreement covers REFERRALS: that an organization knows a person is
what their referrals, enrollments and cases say, the REFERRALS scope. Everyone else is a number.

The row is a household (its head) under one agreement; the SQL forms are correlated to
`Seeker.id` (the head) and `DataSharingAgreement.id` in the outer query.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.accounts import Role
from db.consent import AgreementParty, AgreementScope, Consent, ConsentScope, DataSharingAgreement, Scope
from db.seekers import Seeker
from resolvers.policy.cases import Grant, today
from resolvers.policy.cases import _grants as grants_of
from resolvers.policy.tables import Condition, Rules, Standing, always, equals, markdown
from resolvers.viewer import Viewer

# The scope a release must cover for a household's name to reach the other parties.
RELEASE_SCOPE = Scope.REFERRALS


@dataclass(frozen=True)
class Family:
    """One household (by its head) as listed under one agreement."""

    agreement_id: int
    head_id: int


@dataclass(frozen=True)
class FamilyFacts:
    parties: frozenset[int]
    agreement_scopes: frozenset[Scope]
    agreement_in_force: bool
    grants: tuple[Grant, ...]  # the head's releases in force today


class Relation(enum.Enum):
    PARTY_ADMIN = "PARTY_ADMIN"


class Action(enum.Enum):
    # List the households known to both, and count those not named.
    LIST = "LIST"


class Field(enum.Enum):
    # The household's names, and which of the agreement's parties know it.
    NAMES = "NAMES"


def _agreement_in_force(on: date) -> ColumnElement[bool]:
    return and_(
        DataSharingAgreement.starts_on <= on,
        or_(DataSharingAgreement.ends_on.is_(None), DataSharingAgreement.ends_on >= on),
    )


def _party_where(viewer: Viewer) -> ColumnElement[bool]:
    party = aliased(AgreementParty)
    mine = select(party.agreement_id).where(equals(party.organization_id, viewer.organization_id))
    return and_(DataSharingAgreement.id.in_(mine), _agreement_in_force(today()))


def _is_party(viewer: Viewer, facts: FamilyFacts) -> bool:
    return facts.agreement_in_force and viewer.organization_id is not None and viewer.organization_id in facts.parties


def _consented_where(viewer: Viewer) -> ColumnElement[bool]:
    on = today()
    c_scope, a_scope = aliased(ConsentScope), aliased(AgreementScope)
    recipient = [Consent.to_agreement_id == DataSharingAgreement.id]
    if viewer.organization_id is not None:
        recipient.append(Consent.to_organization_id == viewer.organization_id)
    released = exists(
        select(Consent.id)
        .join(c_scope, and_(c_scope.consent_id == Consent.id, c_scope.scope == RELEASE_SCOPE))
        .where(
            Consent.seeker_id == Seeker.id,
            Consent.revoked_at.is_(None),
            Consent.starts_on <= on,
            Consent.ends_on >= on,
            or_(*recipient),
        )
        .correlate_except(Consent, c_scope)
    )
    covered = exists(
        select(a_scope.id)
        .where(a_scope.agreement_id == DataSharingAgreement.id, a_scope.scope == RELEASE_SCOPE)
        .correlate_except(a_scope)
    )
    return and_(covered, released)


def _consented(viewer: Viewer, family: Family, facts: FamilyFacts) -> bool:
    if RELEASE_SCOPE not in facts.agreement_scopes:
        return False
    return any(
        RELEASE_SCOPE in g.scopes
        and (g.to_agreement_id == family.agreement_id or (viewer.organization_id is not None and g.to_organization_id == viewer.organization_id))
        for g in facts.grants
    )


STANDINGS: dict[Relation, Standing[Family, FamilyFacts]] = {
    Relation.PARTY_ADMIN: Standing(
        says="the viewer is an admin of a party to the agreement, which is in force today",
        roles=frozenset({Role.ADMIN}),
        reads=("organization_id",),
        where=_party_where,
        holds=lambda v, _f, facts: _is_party(v, facts),
    ),
}

ALWAYS: Condition[Family, FamilyFacts] = always()
CONSENTED: Condition[Family, FamilyFacts] = Condition(
    says="the head's (or the person's own) release in force covers REFERRALS to the viewer's organization or to "
    "this agreement, and the agreement covers REFERRALS",
    holds=_consented,
    where=_consented_where,
)

RULES: Rules[Family, FamilyFacts, Relation, Action, Field] = Rules(
    resource="Family known to both",
    standings=STANDINGS,
    actions={Action.LIST: {Relation.PARTY_ADMIN: ALWAYS}},
    fields={Field.NAMES: {Relation.PARTY_ADMIN: CONSENTED}},
)

CONDITIONS = (
    "a household is a case's household (by its head; a person on several cases goes with the lowest-numbered head), "
    "or one person on no case",
    "it is known to both when a child welfare party and a housing party of the agreement each know one of its people",
    "an organization knows a person when a member of it created their profile, it made a referral for them (any kind) "
    "or received one (live), the person has an enrollment in one of its programs, or it leads a case of theirs or "
    "has a worker on it (not removed)",
    "a housing party is marked housing, or runs a program with the HOUSING category or a HUD project type; a child "
    "welfare party is marked child welfare",
    "everyone else known to both is counted, never named or identified; an unnamed household's id is never returned",
    "the names read are recorded in the audit log (NAME, REFERRALS), one row per person",
)


def where(viewer: Viewer) -> ColumnElement[bool]:
    """SQL over `DataSharingAgreement`: the agreements whose families the viewer may list."""
    return RULES.where(viewer, Action.LIST)


def names_where(viewer: Viewer) -> ColumnElement[bool]:
    """SQL over `Seeker` (the head) and `DataSharingAgreement`: the households whose names reach the viewer."""
    return RULES.field_where(viewer, Field.NAMES)


def may_list(viewer: Viewer, family: Family, facts: FamilyFacts) -> bool:
    return RULES.may(viewer, Action.LIST, family, facts)


def shows_names(viewer: Viewer, family: Family, facts: FamilyFacts) -> bool:
    return Field.NAMES in RULES.visible_fields(viewer, family, facts)


def rules_markdown() -> str:
    lines = ["", "Conditions:", "", *(f"- {says}" for says in CONDITIONS)]
    return markdown(RULES) + "\n".join(lines) + "\n"


async def load_facts(session: AsyncSession, agreement_id: int, heads: Collection[int]) -> dict[int, FamilyFacts]:
    """The in-memory form's facts for these heads under one agreement, as they stand today."""
    agreement = await session.get(DataSharingAgreement, agreement_id)
    if agreement is None:
        return {}
    on = today()
    parties = frozenset(await session.scalars(select(AgreementParty.organization_id).where(AgreementParty.agreement_id == agreement_id)))
    scopes = frozenset(await session.scalars(select(AgreementScope.scope).where(AgreementScope.agreement_id == agreement_id)))
    in_force = agreement.starts_on <= on and (agreement.ends_on is None or agreement.ends_on >= on)
    grants = await grants_of(session, heads, on)
    return {h: FamilyFacts(parties, scopes, in_force, grants.get(h, ())) for h in heads}
