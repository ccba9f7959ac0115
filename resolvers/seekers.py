"""Seeker profiles: creating them, checking their contact details, looking them up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import hud
from db.audit import AuditAction, AuditSubject, Scope
from db.base import utcnow
from db.events import EventKind, SubjectType
from db.referrals import ChangeSource
from db.seekers import ContactPreference, Seeker
from resolvers import audit
from resolvers.errors import BadInput, Forbidden, NotFound
from resolvers.live.outbox import record_event
from resolvers.policy import capabilities
from resolvers.policy import seekers as policy
from resolvers.policy.capabilities import Capability
from resolvers.runtime import Runtime
from resolvers.search import every_word_matches
from resolvers.viewer import Viewer
from resolvers.text import excerpt

PROFILE_LOOKUP_LIMIT = 300
DEFAULT_REGION = "US"

# Client.csv's race and ethnicity columns (3.04) and gender columns (3.06), in the file's order.
RACE_COLUMNS = ("AmIndAKNative", "Asian", "BlackAfAmerican", "HispanicLatinaeo", "MidEastNAfrican", "NativeHIPacific", "White")
GENDER_COLUMNS = ("Woman", "Man", "NonBinary", "CulturallySpecific", "Transgender", "Questioning", "DifferentIdentity")
EARLIEST_DOB = date(1900, 1, 1)
# DOB data quality codes that say a date of birth was given (full, or approximate or partial).
DOB_GIVEN = frozenset({1, 2})


@dataclass(frozen=True)
class Profile:
    """A seeker profile and the fields of it the viewer may see."""

    seeker: Seeker
    fields: frozenset[policy.Field]


@dataclass(frozen=True)
class NewSeeker:
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None


def normalize_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise BadInput(f"The email address “{excerpt(email)}” is not valid: {excerpt(error, 200)}", field="email") from None


def normalize_phone(phone: str | None) -> str | None:
    """E.164, so that the same number typed two ways is one number."""
    if phone is None or not phone.strip():
        return None
    try:
        parsed = phonenumbers.parse(phone, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise BadInput(f"The phone number “{excerpt(phone)}” is not a valid phone number.", field="phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _clean_name(value: str, label: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise BadInput(f"Please give the seeker's {label}.", field=label.replace(" ", ""))
    if len(cleaned) > 100:
        raise BadInput(f"The seeker's {label} is too long (100 characters at most).")
    return cleaned


def check_reachable(preference: ContactPreference, *, email: str | None, phone: str | None) -> None:
    """The chosen way to reach the seeker needs the detail it uses."""
    if preference is ContactPreference.EMAIL and not email:
        raise BadInput("To reach the seeker by email, give an email address.", field="contactPreference")
    if preference in (ContactPreference.TEXT, ContactPreference.PHONE) and not phone:
        raise BadInput("To reach the seeker by text or phone, give a phone number.", field="contactPreference")


def build_seeker(new: NewSeeker, *, preference: ContactPreference, created_by: int | None) -> Seeker:
    email = normalize_email(new.email)
    phone = normalize_phone(new.phone)
    check_reachable(preference, email=email, phone=phone)
    return Seeker(
        first_name=_clean_name(new.first_name, "first name"),
        last_name=_clean_name(new.last_name, "last name"),
        email=email,
        phone=phone,
        contact_preference=preference,
        created_by_user_id=created_by,
    )


async def accessible_seeker(
    session: AsyncSession, viewer: Viewer, seeker_id: int, *, action: policy.Action = policy.Action.READ
) -> Seeker:
    seeker = await session.scalar(select(Seeker).where(Seeker.id == seeker_id, policy.where(viewer, action)))
    if seeker is None:
        raise NotFound("No seeker profile with that id is available to you.")
    return seeker


async def profiles_of(session: AsyncSession, viewer: Viewer, seekers: Sequence[Seeker]) -> list[Profile]:
    """Each seeker with the fields the viewer may see, from facts loaded once for all of them."""
    facts = await policy.load_facts(session, {s.id for s in seekers})
    return [Profile(seeker=s, fields=policy.visible_fields(viewer, s, facts[s.id])) for s in seekers]


async def seeker_profiles(runtime: Runtime, viewer: Viewer, *, search: str | None, first: int) -> list[Profile]:
    """Typeahead over the most recently updated profiles the navigator can access."""
    if not capabilities.can(viewer, Capability.LOOK_UP_SEEKERS):
        raise Forbidden("Only navigators can look up seeker profiles.")
    recent = (
        select(Seeker.id)
        .where(policy.where(viewer))
        .order_by(Seeker.updated_at.desc(), Seeker.id.desc())
        .limit(PROFILE_LOOKUP_LIMIT)
    )
    stmt = select(Seeker).where(
        Seeker.id.in_(recent),
        *every_word_matches(search, Seeker.first_name, Seeker.last_name, Seeker.email, Seeker.phone),
    )
    stmt = stmt.order_by(Seeker.updated_at.desc(), Seeker.id.desc()).limit(first)
    async with runtime.db.read() as session:
        profiles = await profiles_of(session, viewer, (await session.scalars(stmt)).all())
    await audit.record_read(runtime.db, viewer, [audit.profile_touch(p.seeker.id, p.fields) for p in profiles])
    return profiles


async def get_seeker(runtime: Runtime, viewer: Viewer, seeker_id: int) -> Profile:
    async with runtime.db.read() as session:
        seeker = await accessible_seeker(session, viewer, seeker_id)
        profile = (await profiles_of(session, viewer, [seeker]))[0]
    await audit.record_read(runtime.db, viewer, [audit.profile_touch(profile.seeker.id, profile.fields)])
    return profile


async def profiles_for(runtime: Runtime, viewer: Viewer, seekers: Sequence[Seeker]) -> list[Profile]:
    """Loaded seekers (e.g. the people of enrollments) as the viewer may see them, recorded as read: the
    policy's facts in one read and one audit INSERT for all of them."""
    if not seekers:
        return []
    async with runtime.db.read() as session:
        profiles = await profiles_of(session, viewer, seekers)
    await audit.record_read(runtime.db, viewer, [audit.profile_touch(p.seeker.id, p.fields) for p in profiles])
    return profiles


@dataclass(frozen=True)
class ClientElements:
    """HMIS universal data elements to record for a person; None leaves an element as it is."""

    name_data_quality: int | None = None
    dob: date | None = None
    dob_data_quality: int | None = None
    races: Sequence[str] | None = None
    race_none: int | None = None
    genders: Sequence[str] | None = None
    gender_none: int | None = None
    veteran_status: int | None = None


def _code(list_id: str, code: int | None, what: str, field: str) -> None:
    if code is not None and not hud.is_code(list_id, code):
        allowed = ", ".join(f"{c} ({label})" for c, label in hud.codes(list_id).items())
        raise BadInput(f"{code} is not a HUD code for {what}; use one of: {allowed}.", field=field)


def _columns(given: Sequence[str], allowed: tuple[str, ...], what: str, field: str) -> list[str]:
    unknown = [g for g in given if g not in allowed]
    if unknown:
        raise BadInput(
            f"“{unknown[0]}” is not one of HUD's {what} columns; use: {', '.join(allowed)}.", field=field
        )
    return [a for a in allowed if a in given]


def check_client_elements(seeker: Seeker, new: ClientElements) -> dict[str, object]:
    """The elements as they will be after `new`, each checked against HUD's lists and the others."""
    _code(hud.NAME_DATA_QUALITY, new.name_data_quality, "name data quality (3.01.5)", "nameDataQuality")
    _code(hud.DOB_DATA_QUALITY, new.dob_data_quality, "date of birth data quality (3.03.2)", "dobDataQuality")
    _code(hud.RACE_NONE, new.race_none, "no race given (1.6)", "raceNone")
    _code(hud.RACE_NONE, new.gender_none, "no gender given (1.6)", "genderNone")
    _code(hud.NO_YES_REASONS, new.veteran_status, "veteran status (1.8)", "veteranStatus")
    if new.dob is not None and new.dob > utcnow().date():
        raise BadInput("The date of birth is in the future.", field="dob")
    if new.dob is not None and new.dob < EARLIEST_DOB:
        raise BadInput("The date of birth is before 1900; check the year.", field="dob")
    races = _columns(new.races, RACE_COLUMNS, "race and ethnicity", "races") if new.races is not None else seeker.races
    genders = (
        _columns(new.genders, GENDER_COLUMNS, "gender", "genders") if new.genders is not None else seeker.genders
    )
    # A race given clears "no race given", and the other way round, unless both are given at once.
    race_none = new.race_none if new.race_none is not None else (None if new.races else seeker.race_none)
    gender_none = new.gender_none if new.gender_none is not None else (None if new.genders else seeker.gender_none)
    if races and race_none is not None:
        raise BadInput("Give either races or why none was given (raceNone), not both.", field="raceNone")
    if genders and gender_none is not None:
        raise BadInput("Give either genders or why none was given (genderNone), not both.", field="genderNone")
    dob = new.dob if new.dob is not None else seeker.dob
    dob_quality = new.dob_data_quality
    if dob_quality is None:
        dob_quality = 1 if new.dob is not None and seeker.dob_data_quality not in DOB_GIVEN else seeker.dob_data_quality
    if dob_quality in DOB_GIVEN and dob is None:
        raise BadInput("A full or approximate date of birth needs the date itself (dob).", field="dob")
    if dob_quality not in DOB_GIVEN:
        if new.dob is not None:
            raise BadInput(
                "A date of birth was given, so its data quality must be 1 (full) or 2 (approximate or partial).",
                field="dobDataQuality",
            )
        dob = None
    return {
        "name_data_quality": new.name_data_quality if new.name_data_quality is not None else seeker.name_data_quality,
        "dob": dob,
        "dob_data_quality": dob_quality,
        "races": races,
        "race_none": race_none,
        "genders": genders,
        "gender_none": gender_none,
        "veteran_status": new.veteran_status if new.veteran_status is not None else seeker.veteran_status,
    }


async def update_client_elements(runtime: Runtime, viewer: Viewer, seeker_id: int, new: ClientElements) -> Profile:
    """Record a person's HMIS elements: for their navigators and the programs that enrolled them."""
    async with runtime.db.write() as session:
        seeker = await session.get(Seeker, seeker_id)
        facts = (await policy.load_facts(session, [seeker_id])).get(seeker_id) if seeker else None
        if seeker is None or facts is None or not policy.RULES.relations(viewer, seeker, facts):
            raise NotFound("No seeker profile with that id is available to you.")
        if not policy.RULES.may(viewer, policy.Action.UPDATE_CLIENT_ELEMENTS, seeker, facts):
            raise Forbidden(
                "Your HMIS details are recorded by your navigator or by a program that enrolled you, not here."
            )
        values = check_client_elements(seeker, new)
        changed = sorted(key for key, value in values.items() if getattr(seeker, key) != value)
        for key, value in values.items():
            setattr(seeker, key, value)
        seeker.updated_at = utcnow()
        await session.flush()
        subject = audit.Subject(AuditSubject.SEEKER, seeker.id)
        await audit.record(
            session, viewer, seeker_ids=[seeker.id], scopes=[Scope.HMIS_ELEMENTS], action=AuditAction.WRITE, subject=subject
        )
        await record_event(
            session,
            subject_type=SubjectType.SEEKER,
            subject_id=seeker.id,
            kind=EventKind.STATUS_CHANGED,
            actor=viewer,
            source=ChangeSource.DASHBOARD,
            # Which elements changed, never their values: the outbox is read by every live process.
            change={"clientElements": changed},
        )
        profile = Profile(seeker=seeker, fields=policy.visible_fields(viewer, seeker, facts))
    await runtime.announce()
    return profile


async def update_my_contact_preference(runtime: Runtime, viewer: Viewer, preference: ContactPreference) -> Profile:
    """A seeker with an account chooses how they are reached; the next referrals take it as their default."""
    if viewer.seeker_id is None:
        raise Forbidden("Only a seeker signed in to their own account can set their contact preference here.")
    async with runtime.db.write() as session:
        seeker = await accessible_seeker(session, viewer, viewer.seeker_id)
        check_reachable(preference, email=seeker.email, phone=seeker.phone)
        seeker.contact_preference = preference
        seeker.updated_at = utcnow()
        await session.flush()
        subject = audit.Subject(AuditSubject.SEEKER, seeker.id)
        await audit.record(
            session, viewer, seeker_ids=[seeker.id], scopes=[Scope.CONTACT], action=AuditAction.WRITE, subject=subject
        )
        profile = (await profiles_of(session, viewer, [seeker]))[0]
    return profile
