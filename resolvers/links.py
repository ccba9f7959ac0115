"""Signed, expiring, single-use links in notification emails that set a referral's status.

A link names one referral, one status and the notification it came in, which says who it was sent
to (the seeker, or one program address) without putting an address in the URL. Opening it changes nothing; confirming runs `update_status_in`, the API's own rule, as that
party with source EMAIL, and records the link as used in the same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

import jwt
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.accounts import Membership, Organization, Role, User
from db.base import utcnow
from db.notifications import Notification, RecipientKind, UsedLink
from db.programs import Program
from db.referrals import ChangeSource, Referral, ReferralStatus
from db.seekers import Seeker
from resolvers.errors import BadInput, Conflict, NotFound
from resolvers.referrals import load_referral, update_status_in, write_and_announce
from resolvers.runtime import Runtime
from resolvers.viewer import MembershipInfo, Viewer

AUDIENCE = "rl:link"
ALGORITHM = "HS256"

SEEKER_CHOICES = (ReferralStatus.GOT_HELP, ReferralStatus.COULDNT_GET_HELP)
PROGRAM_CHOICES = (
    ReferralStatus.PENDING,
    ReferralStatus.ELIGIBLE,
    ReferralStatus.GOT_HELP,
    ReferralStatus.COULDNT_CONTACT,
    ReferralStatus.NOT_ELIGIBLE,
    ReferralStatus.NO_CAPACITY,
)


class LinkProblem(Enum):
    INVALID = "INVALID"
    EXPIRED = "EXPIRED"
    USED = "USED"
    GONE = "GONE"
    UNCHANGED = "UNCHANGED"
    STALE = "STALE"


class LinkError(Exception):
    def __init__(self, problem: LinkProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


@dataclass(frozen=True)
class LinkAction:
    """What a link would do, for the confirmation page."""

    token_id: str
    referral: Referral
    status: ReferralStatus
    party: RecipientKind
    address: str
    used: bool


def _key(runtime: Runtime) -> str:
    # A key of its own, so a sign-in token can never pass as a link nor a link as a sign-in.
    return f"{runtime.settings.secret_key}:email-links"


def issue_link(runtime: Runtime, *, notification: Notification, status: ReferralStatus) -> str:
    """A link for the recipient of `notification`; it names the notification, never the address itself."""
    claims = {
        "aud": AUDIENCE,
        "r": notification.referral_id,
        "s": status.name,
        "n": notification.id,
        "jti": secrets.token_urlsafe(12),
        "exp": utcnow() + timedelta(seconds=runtime.settings.link_ttl_seconds),
    }
    return jwt.encode(claims, _key(runtime), algorithm=ALGORITHM)


def link_url(runtime: Runtime, token: str) -> str:
    return f"{runtime.settings.public_url}/r/{token}"


def _claims(runtime: Runtime, token: str) -> dict[str, object]:
    try:
        return jwt.decode(
            token, _key(runtime), algorithms=[ALGORITHM], audience=AUDIENCE, options={"require": ["exp", "jti", "aud"]}
        )
    except jwt.ExpiredSignatureError:
        raise LinkError(LinkProblem.EXPIRED, "This link has expired.") from None
    except jwt.InvalidTokenError:
        raise LinkError(LinkProblem.INVALID, "This link is not valid. It may have been copied incompletely.") from None


async def _read(session: AsyncSession, runtime: Runtime, token: str) -> LinkAction:
    claims = _claims(runtime, token)
    try:
        status = ReferralStatus[str(claims["s"])]
        referral_id = int(claims["r"])  # type: ignore[call-overload]
        notification_id = int(claims["n"])  # type: ignore[call-overload]
    except (KeyError, ValueError, TypeError):
        raise LinkError(LinkProblem.INVALID, "This link is not valid.") from None
    notification = await session.get(Notification, notification_id)
    if notification is None or notification.referral_id != referral_id:
        raise LinkError(LinkProblem.GONE, "This referral no longer exists.")
    party = notification.recipient_kind
    allowed = SEEKER_CHOICES if party is RecipientKind.SEEKER else PROGRAM_CHOICES
    if party is RecipientKind.NAVIGATOR or status not in allowed:
        raise LinkError(LinkProblem.INVALID, "This link is not valid.")
    referral = await load_referral(session, referral_id)
    if referral is None:
        raise LinkError(LinkProblem.GONE, "This referral no longer exists.")
    used = await session.get(UsedLink, str(claims["jti"])) is not None
    return LinkAction(
        token_id=str(claims["jti"]), referral=referral, status=status, party=party, address=notification.address, used=used
    )


async def read_link(runtime: Runtime, token: str) -> LinkAction:
    """What the link would do; raises LinkError for a tampered, expired or used link."""
    async with runtime.db.read() as session:
        action = await _read(session, runtime, token)
    if action.used:
        raise LinkError(LinkProblem.USED, "This link has already been used.")
    return action


async def _staff_membership(session: AsyncSession, *, organization_id: int, address: str) -> Membership | None:
    """The membership in the organization of the active user with this email, if there is one."""
    return await session.scalar(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(func.lower(User.email) == address.lower(), Membership.organization_id == organization_id, User.is_active.is_(True))
    )


async def _acting_party(session: AsyncSession, action: LinkAction) -> Viewer:
    referral = action.referral
    if action.party is RecipientKind.SEEKER:
        seeker = await session.get(Seeker, referral.seeker_id)
        assert seeker is not None
        # A seeker without an account has no user id: the history records the change as the seeker's.
        return Viewer(
            user_id=seeker.user_id,
            email=seeker.email or action.address,
            name=f"{seeker.first_name} {seeker.last_name}",
            role=Role.SEEKER,
            seeker_id=seeker.id,
        )
    program = await session.get(Program, referral.program_id)
    if program is None or action.address.lower() not in {a.strip().lower() for a in program.contact_emails}:
        raise LinkError(LinkProblem.GONE, "This address no longer receives this program's referrals.")
    organization = await session.get(Organization, referral.program_organization_id)
    assert organization is not None
    membership = await _staff_membership(session, organization_id=organization.id, address=action.address)
    acting = MembershipInfo(
        organization_id=organization.id,
        organization_name=organization.name,
        coc_id=organization.coc_id,
        coc_code=None,
        role=membership.role if membership else Role.PROGRAM_STAFF,
        team_id=membership.team_id if membership else None,
        site_id=membership.site_id if membership else None,
    )
    user = await session.get(User, membership.user_id) if membership else None
    return Viewer(
        user_id=user.id if user else None,
        email=action.address,
        name=user.name if user else organization.name,
        role=acting.role,
        acting=acting,
        memberships=(acting,),
    )


async def confirm_link(runtime: Runtime, token: str) -> Referral:
    """Make the link's change, once, as the party it was sent to; pushed live like any other change."""

    async def change(session: AsyncSession) -> Referral:
        action = await _read(session, runtime, token)
        if action.used:
            raise LinkError(LinkProblem.USED, "This link has already been used.")
        session.add(UsedLink(token_id=action.token_id, referral_id=action.referral.id, used_at=utcnow()))
        try:
            await session.flush()
        except IntegrityError:
            raise LinkError(LinkProblem.USED, "This link has already been used.") from None
        return await update_status_in(
            session,
            await _acting_party(session, action),
            referral_id=action.referral.id,
            status=action.status,
            expected_version=action.referral.version,
            source=ChangeSource.EMAIL,
        )

    try:
        return await write_and_announce(runtime, change)
    except NotFound:
        raise LinkError(LinkProblem.GONE, "This referral is no longer available to you.") from None
    except BadInput:
        raise LinkError(LinkProblem.UNCHANGED, "The referral already has that status, so nothing changed.") from None
    except Conflict:
        raise LinkError(LinkProblem.STALE, "Someone updated this referral at the same moment. Please try again.") from None
