"""Seeker profiles: creating them, checking their contact details, looking them up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.seekers import ContactPreference, Seeker
from resolvers.errors import BadInput, Forbidden, NotFound
from resolvers.policy import capabilities
from resolvers.policy import seekers as policy
from resolvers.policy.capabilities import Capability
from resolvers.runtime import Runtime
from resolvers.search import every_word_matches
from resolvers.viewer import Viewer

PROFILE_LOOKUP_LIMIT = 300
DEFAULT_REGION = "US"


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
        raise BadInput(f"The email address “{email}” is not valid: {error}", field="email") from None


def normalize_phone(phone: str | None) -> str | None:
    """E.164, so that the same number typed two ways is one number."""
    if phone is None or not phone.strip():
        return None
    try:
        parsed = phonenumbers.parse(phone, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise BadInput(f"The phone number “{phone}” is not a valid phone number.", field="phone")
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
        return await profiles_of(session, viewer, (await session.scalars(stmt)).all())


async def get_seeker(runtime: Runtime, viewer: Viewer, seeker_id: int) -> Profile:
    async with runtime.db.read() as session:
        seeker = await accessible_seeker(session, viewer, seeker_id)
        return (await profiles_of(session, viewer, [seeker]))[0]
