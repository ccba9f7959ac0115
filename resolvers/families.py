"""The families a program was made for: households known to both child welfare and housing, in SQL.

`families_known_to_both` answers an agreement's implementation team: which households are known to
a child welfare party and a housing party of the agreement (the definitions are in
`resolvers.policy.families` and docs/architecture.md, "Families known to both"). Those whose head
has released REFERRALS to the viewer's organization or to the agreement are listed, by name, with
the parties that know them; the rest are a count. Everything is computed by the database over a few
common tables; only the page's households are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.sql.selectable import CTE

from db.accounts import Membership, Organization, Role
from db.audit import AuditSubject
from db.audit import Scope as Seen
from db.cases import Case, CaseMember, CaseSeeker
from db.consent import AgreementParty, DataSharingAgreement
from db.enrollments import Enrollment
from db.programs import Program, ProgramCategory, ProgramCategoryTag
from db.referrals import Referral, ReferralKind
from db.seekers import Seeker
from resolvers import audit
from resolvers.errors import Forbidden, NotFound
from resolvers.pagination import Page, keyset_page
from resolvers.policy import families as policy
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer

REFUSED = "The families known to both are for the admins of a party to the agreement, while it is in force."


@dataclass(frozen=True)
class Party:
    id: int
    name: str
    child_welfare: bool
    housing: bool


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    last_name: str


@dataclass(frozen=True)
class KnownFamily:
    head: Seeker
    members: list[Person]
    known_to: list[Party]


@dataclass(frozen=True)
class Families:
    agreement: DataSharingAgreement
    parties: list[Party]
    page: Page[KnownFamily]
    named: int  # households known to both and named to the viewer
    not_consented: int  # households known to both whose head has not released REFERRALS: a count, nothing more


def _is_housing() -> ColumnElement[bool]:
    """SQL over Organization: marked housing, or runs a HOUSING program or a HUD project."""
    housing_program = select(Program.id).where(
        Program.organization_id == Organization.id,
        or_(
            Program.hud_project_type.is_not(None),
            Program.id.in_(select(ProgramCategoryTag.program_id).where(ProgramCategoryTag.category == ProgramCategory.HOUSING)),
        ),
    )
    return or_(Organization.housing.is_(True), housing_program.exists())


async def _parties(session: AsyncSession, agreement_id: int) -> list[Party]:
    rows = await session.execute(
        select(Organization.id, Organization.name, Organization.child_welfare, _is_housing())
        .join(AgreementParty, AgreementParty.organization_id == Organization.id)
        .where(AgreementParty.agreement_id == agreement_id)
        .order_by(Organization.name, Organization.id)
    )
    return [Party(pk, name, bool(cw), bool(housing)) for pk, name, cw, housing in rows]


def _households() -> CTE:
    """Each person on a case, with the head of their household (the lowest-numbered head of their cases)."""
    head = aliased(CaseSeeker)
    return (
        select(CaseSeeker.seeker_id.label("seeker_id"), func.min(head.seeker_id).label("head_id"))
        .join(head, and_(head.case_id == CaseSeeker.case_id, head.is_head.is_(True)))
        .group_by(CaseSeeker.seeker_id)
        .cte("households")
    )


def _known(parties: list[int]) -> Select[tuple[int, int]]:
    """(person, party) for every way one of the parties knows a person (policy.families.CONDITIONS)."""
    created = (
        select(Seeker.id.label("seeker_id"), Membership.organization_id.label("organization_id"))
        .join(Membership, Membership.user_id == Seeker.created_by_user_id)
        .where(Membership.organization_id.in_(parties))
    )
    referred = select(Referral.seeker_id, Referral.navigator_organization_id).where(
        Referral.navigator_organization_id.in_(parties)
    )
    received = select(Referral.seeker_id, Referral.program_organization_id).where(
        Referral.kind == ReferralKind.LIVE, Referral.program_organization_id.in_(parties)
    )
    enrolled = (
        select(Enrollment.seeker_id, Program.organization_id)
        .join(Program, Program.id == Enrollment.program_id)
        .where(Program.organization_id.in_(parties))
    )
    leads = (
        select(CaseSeeker.seeker_id, Case.lead_organization_id)
        .join(Case, Case.id == CaseSeeker.case_id)
        .where(Case.lead_organization_id.in_(parties))
    )
    works = (
        select(CaseSeeker.seeker_id, CaseMember.organization_id)
        .join(CaseMember, CaseMember.case_id == CaseSeeker.case_id)
        .where(CaseMember.removed_on.is_(None), CaseMember.organization_id.in_(parties))
    )
    return union_all(created, referred, received, enrolled, leads, works)  # type: ignore[return-value]


@dataclass(frozen=True)
class _Tables:
    households: CTE
    known: CTE  # (household, organization_id)
    both: CTE  # household


def _tables(parties: list[Party]) -> _Tables:
    households = _households()
    pairs = _known([p.id for p in parties]).cte("known_people")
    known = (
        select(
            func.coalesce(households.c.head_id, pairs.c.seeker_id).label("household"),
            pairs.c.organization_id.label("organization_id"),
        )
        .select_from(pairs)
        .outerjoin(households, households.c.seeker_id == pairs.c.seeker_id)
        .cte("known_households")
    )
    child_welfare = [p.id for p in parties if p.child_welfare]
    housing = [p.id for p in parties if p.housing]
    both = (
        select(known.c.household.label("household"))
        .group_by(known.c.household)
        .having(
            and_(
                func.max(case((known.c.organization_id.in_(child_welfare), 1), else_=0)) == 1,
                func.max(case((known.c.organization_id.in_(housing), 1), else_=0)) == 1,
            )
        )
        .cte("known_to_both")
    )
    return _Tables(households, known, both)


async def _agreement(session: AsyncSession, viewer: Viewer, agreement_id: int) -> DataSharingAgreement:
    """The agreement once the viewer may list its families: NOT_FOUND, then FORBIDDEN."""
    agreement = await session.scalar(
        select(DataSharingAgreement)
        .where(DataSharingAgreement.id == agreement_id)
        .options(selectinload(DataSharingAgreement.scopes), selectinload(DataSharingAgreement.parties))
    )
    if agreement is None:
        raise NotFound("No data sharing agreement with that id.", field="agreementId")
    if viewer.role is not Role.ADMIN or viewer.organization_id is None:
        raise Forbidden(REFUSED)
    allowed = await session.scalar(
        select(DataSharingAgreement.id).where(DataSharingAgreement.id == agreement_id, policy.where(viewer))
    )
    if allowed is None:
        raise Forbidden(REFUSED)
    return agreement


async def families_known_to_both(
    runtime: Runtime, viewer: Viewer, *, agreement_id: int, first: int, after: str | None
) -> Families:
    async with runtime.db.read() as session:
        agreement = await _agreement(session, viewer, agreement_id)
        parties = await _parties(session, agreement.id)
        tables = _tables(parties)
        heads = select(tables.both.c.household)
        # The head, correlated with the one agreement: what the policy's SQL form reads.
        named_stmt = (
            select(Seeker)
            .join(DataSharingAgreement, DataSharingAgreement.id == agreement.id)
            .where(Seeker.id.in_(heads), policy.names_where(viewer))
        )
        page = await keyset_page(session, named_stmt, order=[Seeker.id], first=first, after=after, descending=False)
        counted = await session.execute(
            select(
                select(func.count()).select_from(tables.both).scalar_subquery(),
                select(func.count(Seeker.id))
                .join(DataSharingAgreement, DataSharingAgreement.id == agreement.id)
                .where(Seeker.id.in_(heads), policy.names_where(viewer))
                .scalar_subquery(),
            )
        )
        total, named = counted.one()
        families = await _page_families(session, tables, parties, page.items)
    touches = [
        audit.Touch(person.id, frozenset({Seen.NAME, Seen.REFERRALS}), audit.Subject(AuditSubject.SEEKER, person.id))
        for family in families
        for person in family.members
    ]
    await audit.record_read(runtime.db, viewer, touches)
    return Families(
        agreement=agreement,
        parties=parties,
        page=Page(items=families, cursors=page.cursors, has_next_page=page.has_next_page, has_previous_page=page.has_previous_page),
        named=int(named),
        not_consented=int(total) - int(named),
    )


async def _page_families(session: AsyncSession, tables: _Tables, parties: list[Party], heads: list[Seeker]) -> list[KnownFamily]:
    if not heads:
        return []
    ids = [h.id for h in heads]
    members: dict[int, list[Person]] = {}
    hh = tables.households
    rows = await session.execute(
        select(hh.c.head_id, Seeker.id, Seeker.first_name, Seeker.last_name)
        .join(Seeker, Seeker.id == hh.c.seeker_id)
        .where(hh.c.head_id.in_(ids))
        .order_by(hh.c.head_id, (Seeker.id != hh.c.head_id), Seeker.id)
    )
    for head_id, pk, first_name, last_name in rows:
        members.setdefault(head_id, []).append(Person(pk, first_name, last_name))
    by_id = {p.id: p for p in parties}
    known: dict[int, set[int]] = {}
    for household, organization_id in await session.execute(
        select(tables.known.c.household, tables.known.c.organization_id).where(tables.known.c.household.in_(ids)).distinct()
    ):
        known.setdefault(household, set()).add(organization_id)
    return [
        KnownFamily(
            head=h,
            members=members.get(h.id) or [Person(h.id, h.first_name, h.last_name)],
            known_to=[p for p in parties if p.id in known.get(h.id, set()) and p.id in by_id],
        )
        for h in heads
    ]
