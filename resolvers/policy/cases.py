"""Shared cases: who stands where on a case, and what of its file crosses to another organization.

A record of the case file (a goal, a contact, a note, a conference, a payment, a link) belongs to
the organization that wrote it. Its own organization's members on the case see it; a member acting
for another organization sees it only while the household's head has a release of information in
force for the record's scope (to that organization, or to an agreement it is party to) and an
agreement in force between the two organizations covers that scope. Without one, another
organization's member sees that the case exists, who leads it and how to reach them: nothing more.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.selectable import ScalarSelect

from db.accounts import Role
from db.cases import Case, CaseMember, CaseRecord, CaseSeeker, RecordKind
from db.consent import AgreementParty, AgreementScope, Consent, ConsentScope, DataSharingAgreement, Scope
from resolvers.policy.tables import Condition, Rules, Standing, always, equals, same
from resolvers.viewer import Viewer

T = TypeVar("T")
SQLValue = ColumnElement[T] | InstrumentedAttribute[T] | ScalarSelect[T]

WORKERS = frozenset({Role.NAVIGATOR, Role.PROGRAM_STAFF, Role.CE_MANAGER, Role.ADMIN})


def today() -> date:
    return date.today()


@dataclass(frozen=True)
class Grant:
    """One release of information in force today, reduced to what the rules read."""

    to_organization_id: int | None
    to_agreement_id: int | None
    scopes: frozenset[Scope]


@dataclass(frozen=True)
class Agreement:
    id: int
    parties: frozenset[int]
    scopes: frozenset[Scope]


@dataclass(frozen=True)
class CaseFacts:
    """What the rules read beyond the case row, loaded in batch (`load_facts`) for the moment asked."""

    lead_organization_id: int
    members: frozenset[tuple[int, int]] = frozenset()  # (user, organization) of the active members
    household: frozenset[int] = frozenset()
    head: int | None = None
    grants: tuple[Grant, ...] = ()
    agreements: tuple[Agreement, ...] = ()  # in force today, with at least one party on the case

    def crosses(self, to_organization: int | None, from_organization: int, scope: Scope) -> bool:
        """Whether the head's consent and an agreement let `scope` from one organization to the other."""
        if to_organization is None:
            return False
        if to_organization == from_organization:
            return True
        covering = {
            a.id for a in self.agreements if {to_organization, from_organization} <= a.parties and scope in a.scopes
        }
        if not covering:
            return False
        return any(
            scope in g.scopes
            and (g.to_organization_id == to_organization or (g.to_agreement_id is not None and g.to_agreement_id in covering))
            for g in self.grants
        )

    def shares_anything(self, to_organization: int | None) -> bool:
        return any(self.crosses(to_organization, self.lead_organization_id, scope) for scope in Scope)


async def load_facts(session: AsyncSession, cases: Sequence[Case], *, on: date | None = None) -> dict[int, CaseFacts]:
    """The facts for many cases in four statements, as they stand `on` that day (today)."""
    if not cases:
        return {}
    on = on or today()
    ids = [c.id for c in cases]
    members: dict[int, set[tuple[int, int]]] = {}
    for case_id, user_id, org_id in await session.execute(
        select(CaseMember.case_id, CaseMember.user_id, CaseMember.organization_id).where(
            CaseMember.case_id.in_(ids), CaseMember.removed_on.is_(None)
        )
    ):
        members.setdefault(case_id, set()).add((user_id, org_id))
    household: dict[int, set[int]] = {}
    heads: dict[int, int] = {}
    for case_id, seeker_id, is_head in await session.execute(
        select(CaseSeeker.case_id, CaseSeeker.seeker_id, CaseSeeker.is_head).where(CaseSeeker.case_id.in_(ids))
    ):
        household.setdefault(case_id, set()).add(seeker_id)
        if is_head:
            heads[case_id] = seeker_id
    grants = await _grants(session, set(heads.values()), on)
    orgs = {c.lead_organization_id for c in cases} | {o for ms in members.values() for _, o in ms}
    agreements = await _agreements(session, orgs, on)
    return {
        c.id: CaseFacts(
            lead_organization_id=c.lead_organization_id,
            members=frozenset(members.get(c.id, ())),
            household=frozenset(household.get(c.id, ())),
            head=heads.get(c.id),
            grants=grants.get(heads.get(c.id, -1), ()),
            agreements=agreements,
        )
        for c in cases
    }


async def _grants(session: AsyncSession, seekers: Collection[int], on: date) -> dict[int, tuple[Grant, ...]]:
    if not seekers:
        return {}
    rows = await session.execute(
        select(Consent.id, Consent.seeker_id, Consent.to_organization_id, Consent.to_agreement_id, ConsentScope.scope)
        .join(ConsentScope, ConsentScope.consent_id == Consent.id)
        .where(Consent.seeker_id.in_(seekers), *_consent_in_force(on))
    )
    by_consent: dict[int, tuple[int, int | None, int | None, set[Scope]]] = {}
    for consent_id, seeker_id, to_org, to_agreement, scope in rows:
        by_consent.setdefault(consent_id, (seeker_id, to_org, to_agreement, set()))[3].add(scope)
    out: dict[int, list[Grant]] = {}
    for seeker_id, to_org, to_agreement, scopes in by_consent.values():
        out.setdefault(seeker_id, []).append(Grant(to_org, to_agreement, frozenset(scopes)))
    return {sid: tuple(g) for sid, g in out.items()}


async def _agreements(session: AsyncSession, organizations: Collection[int], on: date) -> tuple[Agreement, ...]:
    party = aliased(AgreementParty)
    relevant = select(party.agreement_id).where(party.organization_id.in_(organizations))
    rows = await session.execute(
        select(DataSharingAgreement.id, AgreementParty.organization_id, AgreementScope.scope)
        .join(AgreementParty, AgreementParty.agreement_id == DataSharingAgreement.id)
        .join(AgreementScope, AgreementScope.agreement_id == DataSharingAgreement.id)
        .where(DataSharingAgreement.id.in_(relevant), *_agreement_in_force(on))
    )
    parties: dict[int, set[int]] = {}
    scopes: dict[int, set[Scope]] = {}
    for agreement_id, org_id, scope in rows:
        parties.setdefault(agreement_id, set()).add(org_id)
        scopes.setdefault(agreement_id, set()).add(scope)
    return tuple(Agreement(a, frozenset(parties[a]), frozenset(scopes[a])) for a in sorted(parties))


def _consent_in_force(on: date) -> list[ColumnElement[bool]]:
    return [Consent.revoked_at.is_(None), Consent.starts_on <= on, Consent.ends_on >= on]


def _agreement_in_force(on: date) -> list[ColumnElement[bool]]:
    return [DataSharingAgreement.starts_on <= on, or_(DataSharingAgreement.ends_on.is_(None), DataSharingAgreement.ends_on >= on)]


def crosses_where(
    to_organization: int | None, from_organization: SQLValue[int], scope: SQLValue[Scope] | Scope, head: SQLValue[int]
) -> ColumnElement[bool]:
    """SQL twin of `CaseFacts.crosses`, for rows whose writing organization, scope and head are columns."""
    if to_organization is None:
        return false()
    on = today()
    a = aliased(DataSharingAgreement)
    to_party, from_party, a_scope = aliased(AgreementParty), aliased(AgreementParty), aliased(AgreementScope)
    covering = (
        select(a.id)
        .join(to_party, and_(to_party.agreement_id == a.id, to_party.organization_id == to_organization))
        .join(from_party, and_(from_party.agreement_id == a.id, from_party.organization_id == from_organization))
        .join(a_scope, and_(a_scope.agreement_id == a.id, a_scope.scope == scope))
        .where(a.starts_on <= on, or_(a.ends_on.is_(None), a.ends_on >= on))
        .correlate_except(a, to_party, from_party, a_scope)
    )
    c_scope = aliased(ConsentScope)
    consented = exists(
        select(Consent.id)
        .join(c_scope, and_(c_scope.consent_id == Consent.id, c_scope.scope == scope))
        .where(
            Consent.seeker_id == head,
            *_consent_in_force(on),
            or_(Consent.to_organization_id == to_organization, Consent.to_agreement_id.in_(covering)),
        )
        .correlate_except(Consent, c_scope)
    )
    return or_(from_organization == to_organization, and_(exists(covering), consented))


def _head_of(case_id: SQLValue[int]) -> ScalarSelect[int]:
    # Correlated to the outer row however deep it is nested: on its own, SQLAlchemy would correlate
    # only to the enclosing SELECT and silently read every case's head.
    return (
        select(CaseSeeker.seeker_id)
        .where(CaseSeeker.case_id == case_id, CaseSeeker.is_head.is_(True))
        .correlate_except(CaseSeeker)
        .scalar_subquery()
    )


def _member_cases(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.user_id is None or viewer.organization_id is None:
        return false()
    return Case.id.in_(
        select(CaseMember.case_id).where(
            CaseMember.user_id == viewer.user_id,
            CaseMember.organization_id == viewer.organization_id,
            CaseMember.removed_on.is_(None),
        )
    )


def _is_member(viewer: Viewer, facts: CaseFacts) -> bool:
    return viewer.user_id is not None and viewer.organization_id is not None and (viewer.user_id, viewer.organization_id) in facts.members


class Relation(enum.Enum):
    MEMBER = "MEMBER"
    LEAD_ADMIN = "LEAD_ADMIN"
    HOUSEHOLD = "HOUSEHOLD"


class Action(enum.Enum):
    READ = "READ"
    ADD_RECORD = "ADD_RECORD"
    MANAGE = "MANAGE"


class Field(enum.Enum):
    LEAD = "LEAD"
    STAGE = "STAGE"
    MEMBERS = "MEMBERS"
    HOUSEHOLD = "HOUSEHOLD"
    CONTACT = "CONTACT"


STANDINGS: dict[Relation, Standing[Case, CaseFacts]] = {
    Relation.MEMBER: Standing(
        says="the viewer is on the case, acting for the organization they joined it for",
        roles=WORKERS,
        reads=("user_id", "organization_id"),
        where=_member_cases,
        holds=lambda v, _c, f: _is_member(v, f),
    ),
    Relation.LEAD_ADMIN: Standing(
        says="the viewer is an admin of the lead organization",
        roles=frozenset({Role.ADMIN}),
        reads=("organization_id",),
        where=lambda v: equals(Case.lead_organization_id, v.organization_id),
        holds=lambda v, c, _f: same(c.lead_organization_id, v.organization_id),
    ),
    Relation.HOUSEHOLD: Standing(
        says="the viewer is a person of the case's household",
        roles=frozenset({Role.SEEKER}),
        reads=("seeker_id",),
        where=lambda v: Case.id.in_(select(CaseSeeker.case_id).where(equals(CaseSeeker.seeker_id, v.seeker_id))),
        holds=lambda v, _c, f: v.seeker_id is not None and v.seeker_id in f.household,
    ),
}

ALWAYS: Condition[Case, CaseFacts] = always()
LEADS: Condition[Case, CaseFacts] = Condition(
    says="the viewer acts for the lead organization",
    holds=lambda v, c, _f: same(c.lead_organization_id, v.organization_id),
    where=lambda v: equals(Case.lead_organization_id, v.organization_id),
)
SHARES_ANY: Condition[Case, CaseFacts] = Condition(
    says="the head's consent and an agreement let any scope across to the viewer's organization",
    holds=lambda v, _c, f: f.shares_anything(v.organization_id),
    where=lambda v: or_(*(crosses_where(v.organization_id, Case.lead_organization_id, s, _head_of(Case.id)) for s in Scope)),
)
SHARES_CONTACT: Condition[Case, CaseFacts] = Condition(
    says="the head's consent and an agreement let CONTACT across to the viewer's organization",
    holds=lambda v, _c, f: f.crosses(v.organization_id, f.lead_organization_id, Scope.CONTACT),
    where=lambda v: crosses_where(v.organization_id, Case.lead_organization_id, Scope.CONTACT, _head_of(Case.id)),
)
_EVERYONE = {rel: ALWAYS for rel in Relation}

RULES: Rules[Case, CaseFacts, Relation, Action, Field] = Rules(
    resource="Case",
    standings=STANDINGS,
    actions={
        Action.READ: _EVERYONE,
        Action.ADD_RECORD: {Relation.MEMBER: ALWAYS},
        Action.MANAGE: {Relation.MEMBER: LEADS, Relation.LEAD_ADMIN: ALWAYS},
    },
    fields={
        Field.LEAD: _EVERYONE,
        Field.STAGE: {Relation.MEMBER: SHARES_ANY, Relation.LEAD_ADMIN: ALWAYS, Relation.HOUSEHOLD: ALWAYS},
        Field.MEMBERS: _EVERYONE,
        Field.HOUSEHOLD: {Relation.MEMBER: SHARES_ANY, Relation.LEAD_ADMIN: ALWAYS, Relation.HOUSEHOLD: ALWAYS},
        Field.CONTACT: {Relation.MEMBER: SHARES_CONTACT, Relation.LEAD_ADMIN: ALWAYS, Relation.HOUSEHOLD: ALWAYS},
    },
)


# ------------------------------------------------------------------------------------------------
# The case file: each record is read under its own scope and its writer's organization.
# ------------------------------------------------------------------------------------------------

# What the household itself sees of its file: its goals, the visits, the conferences, the money; not
# the workers' notes.
FOR_THE_HOUSEHOLD = frozenset({RecordKind.GOAL, RecordKind.CONTACT, RecordKind.CONFERENCE, RecordKind.ASSISTANCE})


@dataclass(frozen=True)
class RecordRow:
    """A record with its case, which is what its standings read."""

    record: CaseRecord
    case: Case


class RecordAction(enum.Enum):
    READ = "READ"


class RecordField(enum.Enum):
    BODY = "BODY"


def _case_standing(rel: Relation) -> Standing[RecordRow, CaseFacts]:
    base = STANDINGS[rel]
    return Standing(
        says=base.says,
        roles=base.roles,
        reads=base.reads,
        where=lambda v: CaseRecord.case_id.in_(select(Case.id).where(base.where(v))),
        holds=lambda v, row, f: base.holds(v, row.case, f),
    )


RECORD_STANDINGS = {rel: _case_standing(rel) for rel in Relation}
CROSSES: Condition[RecordRow, CaseFacts] = Condition(
    says="the record's organization is the viewer's, or the head's consent and an agreement let its scope across",
    holds=lambda v, row, f: f.crosses(v.organization_id, row.record.organization_id, row.record.scope),
    where=lambda v: crosses_where(v.organization_id, CaseRecord.organization_id, CaseRecord.scope, _head_of(CaseRecord.case_id)),
)
HOUSEHOLDS_OWN: Condition[RecordRow, CaseFacts] = Condition(
    says="the record is a goal, contact, conference or payment (not a worker's note or a link)",
    holds=lambda _v, row, _f: row.record.kind in FOR_THE_HOUSEHOLD,
    where=lambda _v: CaseRecord.kind.in_(FOR_THE_HOUSEHOLD),
)
_RECORD_READERS = {Relation.MEMBER: CROSSES, Relation.LEAD_ADMIN: CROSSES, Relation.HOUSEHOLD: HOUSEHOLDS_OWN}

RECORD_RULES: Rules[RecordRow, CaseFacts, Relation, RecordAction, RecordField] = Rules(
    resource="Case record",
    standings=RECORD_STANDINGS,
    actions={RecordAction.READ: _RECORD_READERS},
    fields={RecordField.BODY: _RECORD_READERS},
)


def where(viewer: Viewer, action: Action = Action.READ) -> ColumnElement[bool]:
    return RULES.where(viewer, action)


def may(viewer: Viewer, action: Action, case: Case, facts: CaseFacts) -> bool:
    return RULES.may(viewer, action, case, facts)


def visible_fields(viewer: Viewer, case: Case, facts: CaseFacts) -> frozenset[Field]:
    return RULES.visible_fields(viewer, case, facts)


def record_where(viewer: Viewer) -> ColumnElement[bool]:
    return RECORD_RULES.where(viewer, RecordAction.READ)


def may_read_record(viewer: Viewer, record: CaseRecord, case: Case, facts: CaseFacts) -> bool:
    return RECORD_RULES.may(viewer, RecordAction.READ, RecordRow(record, case), facts)
