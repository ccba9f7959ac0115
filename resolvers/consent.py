"""Releases of information and data sharing agreements: granting, revoking, listing.

The rules that read them live in `resolvers.policy.cases`; this module keeps what may be granted
sound: a minor's release is signed by a guardian, every release has an end (three years unless
said), and revoking takes effect on the next query and the next pushed event.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.accounts import Organization, Role
from db.audit import AuditAction, AuditSubject
from db.audit import Scope as Seen
from db.base import utcnow
from db.cases import CaseMember, CaseSeeker
from db.consent import (
    AgreementParty,
    AgreementScope,
    CaptureMethod,
    Consent,
    ConsentScope,
    DataSharingAgreement,
    GrantedBy,
    Scope,
)
from db.events import EventKind, SubjectType
from db.referrals import ChangeSource
from db.seekers import Seeker
from resolvers import audit
from resolvers.errors import BadInput, Conflict, Forbidden, NotFound
from resolvers.idempotency import Once, Record, write_once
from resolvers.live.outbox import record_event
from resolvers.policy import seekers as seeker_policy
from resolvers.policy.cases import WORKERS
from resolvers.runtime import Runtime
from resolvers.text import bounded_text
from resolvers.viewer import Viewer

DEFAULT_YEARS = 3
MAX_YEARS = 7
MAX_BACKDATE_DAYS = 366
ADULT_AGE = 18
MAX_PARTIES = 20

CONSENT_LOAD = (
    selectinload(Consent.scopes),
    selectinload(Consent.to_organization),
    selectinload(Consent.to_agreement).selectinload(DataSharingAgreement.parties).selectinload(AgreementParty.organization),
)
AGREEMENT_LOAD = (
    selectinload(DataSharingAgreement.parties).selectinload(AgreementParty.organization),
    selectinload(DataSharingAgreement.scopes),
)


class ConsentState(enum.Enum):
    PENDING = "PENDING"  # signed, starting later
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


def state_of(consent: Consent, on: date | None = None) -> ConsentState:
    on = on or date.today()
    if consent.revoked_at is not None:
        return ConsentState.REVOKED
    if consent.starts_on > on:
        return ConsentState.PENDING
    if consent.ends_on < on:
        return ConsentState.EXPIRED
    return ConsentState.ACTIVE


@dataclass(frozen=True)
class NewConsent:
    seeker_id: int
    scopes: Sequence[Scope]
    to_organization_id: int | None = None
    to_agreement_id: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    granted_by: GrantedBy = GrantedBy.SEEKER
    guardian_name: str | None = None
    guardian_relationship: str | None = None
    captured_how: CaptureMethod = CaptureMethod.SIGNED_PAPER
    witness_name: str | None = None


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def is_minor(seeker: Seeker, on: date) -> bool:
    return seeker.dob is not None and add_years(seeker.dob, ADULT_AGE) > on


async def _may_speak_for(session: AsyncSession, viewer: Viewer, seeker: Seeker) -> bool:
    """The person themself, a worker who may read their profile, or a member of a case they are on."""
    if viewer.role is Role.SEEKER:
        return viewer.seeker_id == seeker.id
    if viewer.role not in WORKERS:
        return False
    known = await session.scalar(select(Seeker.id).where(Seeker.id == seeker.id, seeker_policy.where(viewer)))
    if known is not None:
        return True
    if viewer.user_id is None or viewer.organization_id is None:
        return False
    on_case = await session.scalar(
        select(CaseMember.id)
        .join(CaseSeeker, CaseSeeker.case_id == CaseMember.case_id)
        .where(
            CaseSeeker.seeker_id == seeker.id,
            CaseMember.user_id == viewer.user_id,
            CaseMember.organization_id == viewer.organization_id,
            CaseMember.removed_on.is_(None),
        )
        .limit(1)
    )
    return on_case is not None


async def _seeker(session: AsyncSession, viewer: Viewer, seeker_id: int) -> Seeker:
    seeker = await session.get(Seeker, seeker_id)
    if seeker is None or not await _may_speak_for(session, viewer, seeker):
        raise NotFound("No person with that id is known to you.")
    return seeker


def _scopes(scopes: Sequence[Scope]) -> list[Scope]:
    unique = list(dict.fromkeys(scopes))
    if not unique:
        raise BadInput("Say which kinds of information the release covers (at least one scope).", field="scopes")
    return unique


async def grant_consent_in(session: AsyncSession, viewer: Viewer, new: NewConsent) -> Consent:
    seeker = await _seeker(session, viewer, new.seeker_id)
    today = date.today()
    starts = new.starts_on or today
    if starts > today + timedelta(days=MAX_BACKDATE_DAYS) or starts < today - timedelta(days=MAX_BACKDATE_DAYS):
        raise BadInput("A release starts within a year of today (a paper form signed earlier may be back-dated).", field="startsOn")
    ends = new.ends_on or add_years(starts, DEFAULT_YEARS)
    if ends <= starts:
        raise BadInput("A release ends after it starts.", field="endsOn")
    if ends > add_years(starts, MAX_YEARS):
        raise BadInput(f"A release lasts at most {MAX_YEARS} years; ask for a new one when it ends.", field="endsOn")
    if (new.to_organization_id is None) == (new.to_agreement_id is None):
        raise BadInput("Name one recipient: an organization, or a data sharing agreement's parties.", field="toOrganizationId")
    guardian = bounded_text(new.guardian_name, limit=200, what="guardian's name", field="guardianName")
    relationship = bounded_text(new.guardian_relationship, limit=100, what="guardian's relationship", field="guardianRelationship")
    witness = bounded_text(new.witness_name, limit=200, what="witness's name", field="witnessName")
    if is_minor(seeker, starts):
        if new.granted_by is not GrantedBy.GUARDIAN:
            raise BadInput(
                f"{seeker.first_name} is under {ADULT_AGE}: a parent or legal guardian signs the release for them.",
                field="grantedBy",
            )
    if new.granted_by is GrantedBy.GUARDIAN and guardian is None:
        raise BadInput("Give the name of the guardian who signed.", field="guardianName")
    if viewer.role is Role.SEEKER and new.granted_by is not GrantedBy.SEEKER:
        raise Forbidden("A guardian's release is recorded by the worker who witnessed it.")
    if new.captured_how is CaptureMethod.VERBAL_WITNESSED and witness is None:
        raise BadInput("A verbal release needs the name of the witness.", field="witnessName")
    if new.to_organization_id is not None and await session.get(Organization, new.to_organization_id) is None:
        raise NotFound("No organization with that id.", field="toOrganizationId")
    if new.to_agreement_id is not None:
        agreement = await session.get(DataSharingAgreement, new.to_agreement_id)
        if agreement is None:
            raise NotFound("No data sharing agreement with that id.", field="toAgreementId")
        if agreement.ends_on is not None and agreement.ends_on < today:
            raise BadInput("That agreement has ended; a release to its parties would cover nothing.", field="toAgreementId")
    consent = Consent(
        seeker_id=seeker.id,
        to_organization_id=new.to_organization_id,
        to_agreement_id=new.to_agreement_id,
        starts_on=starts,
        ends_on=ends,
        granted_by=new.granted_by,
        guardian_name=guardian,
        guardian_relationship=relationship,
        captured_how=CaptureMethod.SIGNED_ELECTRONICALLY if viewer.role is Role.SEEKER else new.captured_how,
        captured_by_user_id=viewer.user_id,
        captured_by_organization_id=viewer.organization_id,
        witness_name=witness,
        created_at=utcnow(),
    )
    session.add(consent)
    await session.flush()
    session.add_all(ConsentScope(consent_id=consent.id, scope=s) for s in _scopes(new.scopes))
    await record_event(
        session,
        subject_type=SubjectType.CONSENT,
        subject_id=consent.id,
        kind=EventKind.CREATED,
        actor=viewer,
        source=ChangeSource.DASHBOARD,
        change={"seekerId": seeker.id, "granted": True},
    )
    await _record(session, viewer, consent, AuditAction.WRITE)
    return consent


async def _record(session: AsyncSession, viewer: Viewer, consent: Consent, action: AuditAction) -> None:
    await audit.record(
        session, viewer, seeker_ids=[consent.seeker_id], scopes=[Seen.CONSENT], action=action,
        subject=audit.Subject(AuditSubject.CONSENT, consent.id),
    )


async def _load_consent(session: AsyncSession, consent_id: int) -> Consent:
    consent = await session.scalar(select(Consent).where(Consent.id == consent_id).options(*CONSENT_LOAD))
    if consent is None:
        raise NotFound("No release with that id.")
    return consent


async def grant_consent(runtime: Runtime, viewer: Viewer, new: NewConsent, *, request: Once | None = None) -> Consent:
    async def write(session: AsyncSession) -> Consent:
        consent = await grant_consent_in(session, viewer, new)
        return await _load_consent(session, consent.id)

    async def replay(session: AsyncSession, consent_id: int) -> Consent:
        consent = await _load_consent(session, consent_id)
        await _seeker(session, viewer, consent.seeker_id)
        return consent

    return await write_once(runtime, viewer, request, write, record=lambda c: Record("Consent", c.id), replay=replay)


async def revoke_consent(runtime: Runtime, viewer: Viewer, *, consent_id: int) -> Consent:
    async with runtime.db.write() as session:
        consent = await session.get(Consent, consent_id)
        if consent is None:
            raise NotFound("No release with that id is known to you.")
        await _seeker(session, viewer, consent.seeker_id)
        if consent.revoked_at is not None:
            raise Conflict("This release was already revoked.")
        consent.revoked_at = utcnow()
        consent.revoked_by_user_id = viewer.user_id
        await record_event(
            session,
            subject_type=SubjectType.CONSENT,
            subject_id=consent.id,
            kind=EventKind.STATUS_CHANGED,
            actor=viewer,
            source=ChangeSource.DASHBOARD,
            change={"seekerId": consent.seeker_id, "revoked": True},
        )
        await _record(session, viewer, consent, AuditAction.WRITE)
        await session.flush()
        fresh = await _load_consent(session, consent.id)
    await runtime.announce()
    return fresh


async def consents_of(runtime: Runtime, viewer: Viewer, *, seeker_id: int) -> list[Consent]:
    """A person's releases, newest first, for them and for those who may record one."""
    async with runtime.db.read() as session:
        await _seeker(session, viewer, seeker_id)
        rows = list(
            await session.scalars(
                select(Consent).where(Consent.seeker_id == seeker_id).options(*CONSENT_LOAD).order_by(Consent.id.desc()).limit(200)
            )
        )
    touch = audit.Touch(seeker_id, frozenset({Seen.CONSENT}), audit.Subject(AuditSubject.SEEKER, seeker_id))
    await audit.record_read(runtime.db, viewer, [touch])
    return rows


# ------------------------------------------------------------------------------------------------
# Data sharing agreements
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAgreement:
    name: str
    purpose: str
    party_organization_ids: Sequence[int]
    scopes: Sequence[Scope]
    starts_on: date
    ends_on: date | None


async def create_agreement(
    runtime: Runtime, viewer: Viewer, new: NewAgreement, *, request: Once | None = None
) -> DataSharingAgreement:
    if viewer.role is not Role.ADMIN or viewer.organization_id is None:
        raise Forbidden("Data sharing agreements are recorded by an admin of one of their parties.")
    name = bounded_text(new.name, limit=200, what="agreement's name", field="name", required=True)
    purpose = bounded_text(new.purpose, limit=2000, what="purpose", field="purpose", required=True)
    parties = list(dict.fromkeys([viewer.organization_id, *new.party_organization_ids]))
    if len(parties) < 2:
        raise BadInput("An agreement has at least two parties: yours and another organization.", field="partyOrganizationIds")
    if len(parties) > MAX_PARTIES:
        raise BadInput(f"An agreement has at most {MAX_PARTIES} parties.", field="partyOrganizationIds")
    if new.ends_on is not None and new.ends_on <= new.starts_on:
        raise BadInput("An agreement ends after it starts.", field="endsOn")
    if abs((new.starts_on - date.today()).days) > 10 * 366:
        raise BadInput("An agreement starts within ten years of today.", field="startsOn")

    async def write(session: AsyncSession) -> DataSharingAgreement:
        found = set(await session.scalars(select(Organization.id).where(Organization.id.in_(parties))))
        if found != set(parties):
            raise NotFound("One of the party organizations does not exist.", field="partyOrganizationIds")
        agreement = DataSharingAgreement(
            name=name, purpose=purpose, starts_on=new.starts_on, ends_on=new.ends_on, created_by_user_id=viewer.user_id
        )
        session.add(agreement)
        await session.flush()
        session.add_all(AgreementParty(agreement_id=agreement.id, organization_id=o) for o in parties)
        session.add_all(AgreementScope(agreement_id=agreement.id, scope=s) for s in _scopes(new.scopes))
        await record_event(
            session,
            subject_type=SubjectType.AGREEMENT,
            subject_id=agreement.id,
            kind=EventKind.CREATED,
            actor=viewer,
            source=ChangeSource.DASHBOARD,
            change={"parties": parties},
        )
        await session.flush()
        return await _load_agreement(session, agreement.id)

    async def replay(session: AsyncSession, agreement_id: int) -> DataSharingAgreement:
        agreement = await _load_agreement(session, agreement_id)
        if viewer.organization_id not in {p.organization_id for p in agreement.parties}:
            raise NotFound("No agreement with that id is available to you.")
        return agreement

    return await write_once(runtime, viewer, request, write, record=lambda a: Record("DataSharingAgreement", a.id), replay=replay)


async def _load_agreement(session: AsyncSession, agreement_id: int) -> DataSharingAgreement:
    agreement = await session.scalar(
        select(DataSharingAgreement).where(DataSharingAgreement.id == agreement_id).options(*AGREEMENT_LOAD)
    )
    assert agreement is not None
    return agreement


async def agreements_for(runtime: Runtime, viewer: Viewer) -> list[DataSharingAgreement]:
    """The agreements the viewer's organization is party to (agreements hold no one's personal data)."""
    if viewer.organization_id is None:
        return []
    async with runtime.db.read() as session:
        mine = select(AgreementParty.agreement_id).where(AgreementParty.organization_id == viewer.organization_id)
        rows = await session.scalars(
            select(DataSharingAgreement)
            .where(DataSharingAgreement.id.in_(mine))
            .options(*AGREEMENT_LOAD)
            .order_by(DataSharingAgreement.id.desc())
            .limit(200)
        )
        return list(rows)


def in_force(agreement: DataSharingAgreement, on: date | None = None) -> bool:
    on = on or date.today()
    return agreement.starts_on <= on and (agreement.ends_on is None or agreement.ends_on >= on)


