"""Email links that set a referral's status: reading what one would do, and doing it once.

A link names one referral, one status, the version of the referral it was written for, and the
notification it came in, which says who it was sent to (the seeker, or one program address)
without putting an address in the URL. Opening it changes nothing; confirming runs
`update_status_in`, the API's own rule, as that party with source EMAIL, and records the link as
used in the same transaction. A link whose referral changed since it was written changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.accounts import Membership, Organization, Role, User
from db.base import utcnow
from db.notifications import Notification, RecipientKind, UsedLink
from db.programs import Program
from db.referrals import ChangeSource, Referral, ReferralStatus
from db.seekers import Seeker
from resolvers import audit
from resolvers.errors import BadInput, Conflict, Forbidden, NotFound
from resolvers.notify.messages import link_choices, recipient_viewer
from resolvers.notify.tokens import BadToken, read_token
from resolvers.referrals import load_referral, update_status_in, write_and_announce
from resolvers.runtime import Runtime
from resolvers.viewer import MembershipInfo, Viewer


EMAIL_LINK = "email-link"


class LinkProblem(Enum):
    INVALID = "INVALID"
    EXPIRED = "EXPIRED"
    USED = "USED"
    GONE = "GONE"
    UNCHANGED = "UNCHANGED"
    CHANGED = "CHANGED"
    STALE = "STALE"


class LinkError(Exception):
    def __init__(self, problem: LinkProblem, message: str, *, now: tuple[str, ReferralStatus] | None = None) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        # For CHANGED: the program and the status the referral has now, so the page can say where it stands.
        self.now = now


@dataclass(frozen=True)
class LinkAction:
    """What a link would do, for the confirmation page."""

    token_id: str
    referral: Referral
    status: ReferralStatus
    party: RecipientKind
    address: str
    used: bool
    # The party as the policy sees them, for the audit log.
    recipient: Viewer


async def _read(session: AsyncSession, runtime: Runtime, token: str) -> LinkAction:
    try:
        claims = read_token(runtime.settings, token)
    except BadToken as bad:
        if bad.expired:
            raise LinkError(LinkProblem.EXPIRED, "This link has expired.") from None
        raise LinkError(LinkProblem.INVALID, "This link is not valid. It may have been copied incompletely.") from None
    notification = await session.get(Notification, claims.notification_id)
    if notification is None or notification.referral_id != claims.referral_id:
        raise LinkError(LinkProblem.GONE, "This referral no longer exists.")
    party = notification.recipient_kind
    if party is RecipientKind.NAVIGATOR:
        raise LinkError(LinkProblem.INVALID, "This link is not valid.")
    referral = await load_referral(session, claims.referral_id)
    if referral is None:
        raise LinkError(LinkProblem.GONE, "This referral no longer exists.")
    used = await session.get(UsedLink, claims.token_id) is not None
    if not used and claims.version is not None and referral.version != claims.version:
        raise LinkError(
            LinkProblem.CHANGED,
            "This referral has been updated since this email was sent, so this link no longer changes it.",
            now=(referral.program.name, referral.status),
        )
    recipient = recipient_viewer(party, referral, user_id=notification.recipient_user_id, address=notification.address)
    recipient = replace(recipient, operation=EMAIL_LINK)
    offered = link_choices(recipient, party, referral)
    if not used and claims.status not in offered and claims.status is not referral.status:
        raise LinkError(LinkProblem.INVALID, "This link is not valid.")
    return LinkAction(
        token_id=claims.token_id,
        referral=referral,
        status=claims.status,
        party=party,
        address=notification.address,
        used=used,
        recipient=recipient,
    )


async def read_link(runtime: Runtime, token: str) -> LinkAction:
    """What the link would do; raises LinkError for a tampered, expired, used or outdated link."""
    async with runtime.db.read() as session:
        action = await _read(session, runtime, token)
    if action.used:
        raise LinkError(LinkProblem.USED, "This link has already been used.")
    # The page shows the referral to whoever holds the link: recorded as the party it was sent to.
    await audit.record_read(runtime.db, action.recipient, [audit.referral_touch(action.recipient, action.referral)])
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
            operation=EMAIL_LINK,
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
        operation=EMAIL_LINK,
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
        # The version read above equals the link's own (`_read` refuses any other), so a change
        # made meanwhile is a CONFLICT here rather than silently overwritten.
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
    except Forbidden as refused:
        raise LinkError(LinkProblem.INVALID, refused.message) from None
    except Conflict:
        raise LinkError(LinkProblem.STALE, "Someone updated this referral at the same moment. Please try again.") from None
