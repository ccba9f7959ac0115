"""Who may see what: the one place every query, nested field and pushed event asks.

Each rule exists twice, side by side: as a SQL filter for lists and as a check on a loaded row
for single reads and pushed events. Keep the pairs in step; tests exercise both.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select

from db.accounts import Organization, Role
from db.referrals import Referral, ReferralKind
from db.seekers import ContactPreference, Seeker
from resolvers.viewer import Viewer


def _coc_organizations(coc_id: int) -> ColumnElement[bool]:
    return Referral.program_organization_id.in_(select(Organization.id).where(Organization.coc_id == coc_id))


def referral_filter(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition selecting exactly the referrals the viewer may see."""
    live = Referral.kind == ReferralKind.LIVE
    match viewer.role:
        case Role.SEEKER:
            return Referral.seeker_id == viewer.seeker_id if viewer.seeker_id else false()
        case Role.NAVIGATOR:
            # `== None` would become IS NULL and match every self-referral.
            mine = Referral.navigator_id == viewer.user_id if viewer.user_id is not None else false()
            return or_(mine, Referral.team_id == viewer.team_id) if viewer.team_id else mine
        case Role.PROGRAM_STAFF:
            return and_(live, Referral.program_organization_id == viewer.organization_id)
        case Role.CE_MANAGER:
            return and_(live, _coc_organizations(viewer.coc_id)) if viewer.coc_id else false()
        case Role.ADMIN:
            return or_(
                Referral.navigator_organization_id == viewer.organization_id,
                and_(live, Referral.program_organization_id == viewer.organization_id),
            )
    return false()


def can_see_referral(viewer: Viewer, referral: Referral, *, program_coc_id: int | None = None) -> bool:
    """The in-memory twin of `referral_filter`, for one loaded referral."""
    live = referral.kind is ReferralKind.LIVE
    match viewer.role:
        case Role.SEEKER:
            return viewer.seeker_id is not None and referral.seeker_id == viewer.seeker_id
        case Role.NAVIGATOR:
            return (viewer.user_id is not None and referral.navigator_id == viewer.user_id) or (
                viewer.team_id is not None and referral.team_id == viewer.team_id
            )
        case Role.PROGRAM_STAFF:
            return live and referral.program_organization_id == viewer.organization_id
        case Role.CE_MANAGER:
            return live and viewer.coc_id is not None and program_coc_id == viewer.coc_id
        case Role.ADMIN:
            return referral.navigator_organization_id == viewer.organization_id or (
                live and referral.program_organization_id == viewer.organization_id
            )
    return False


def is_referrer_side(viewer: Viewer, referral: Referral) -> bool:
    """The seeker themself, or the navigator side that made the referral."""
    if viewer.role is Role.SEEKER:
        return viewer.seeker_id == referral.seeker_id
    if viewer.role is Role.NAVIGATOR:
        return can_see_referral(viewer, referral)
    return viewer.role is Role.ADMIN and referral.navigator_organization_id == viewer.organization_id


def can_see_contact(viewer: Viewer, referral: Referral) -> bool:
    """Program-side viewers never see the contact details of a seeker who chose not to be reached."""
    if is_referrer_side(viewer, referral):
        return True
    return referral.contact_preference is not ContactPreference.NONE and referral.consent


def seeker_filter(viewer: Viewer) -> ColumnElement[bool]:
    """Seeker profiles a navigator may look up: through their own or their team's referrals."""
    if viewer.role is Role.SEEKER:
        return Seeker.id == viewer.seeker_id if viewer.seeker_id else false()
    if viewer.role not in (Role.NAVIGATOR, Role.ADMIN):
        return false()
    referred = Seeker.id.in_(select(Referral.seeker_id).where(referral_filter(viewer)))
    if viewer.user_id is None:
        return referred
    return or_(Seeker.created_by_user_id == viewer.user_id, referred)


def can_make_referrals(viewer: Viewer) -> bool:
    return viewer.role in (Role.NAVIGATOR, Role.ADMIN) or (viewer.role is Role.SEEKER and viewer.seeker_id is not None)


def audience(viewer: Viewer) -> tuple[object, ...]:
    """Viewers with equal audiences get identical answers from every rule here, so they may share a payload.

    It names everything the rules above read of a viewer; a new rule that reads more must add it.
    """
    per_person = viewer.role in (Role.SEEKER, Role.NAVIGATOR)
    return (
        viewer.role,
        viewer.organization_id,
        viewer.team_id,
        viewer.coc_id,
        viewer.user_id if per_person else None,
        viewer.seeker_id if per_person else None,
    )
