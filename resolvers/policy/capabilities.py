"""What a viewer may do that belongs to no single referral: open a dashboard, refer, run a program, see measures."""

from __future__ import annotations

import enum

from datetime import date

from db.accounts import Organization, Role
from db.consent import DataSharingAgreement
from db.programs import Program
from resolvers.policy.tables import same
from resolvers.viewer import Viewer


class Capability(enum.Enum):
    MAKE_REFERRALS = "MAKE_REFERRALS"
    SEE_REFERRALS_FOR_ME = "SEE_REFERRALS_FOR_ME"
    SEE_PEOPLE_IM_HELPING = "SEE_PEOPLE_IM_HELPING"
    LOOK_UP_SEEKERS = "LOOK_UP_SEEKERS"
    SEE_INBOUND_REFERRALS = "SEE_INBOUND_REFERRALS"
    WATCH_WALL = "WATCH_WALL"
    MANAGE_PROGRAM = "MANAGE_PROGRAM"
    EXPORT_HMIS = "EXPORT_HMIS"
    SEE_PERFORMANCE = "SEE_PERFORMANCE"


# Role x capability. A seeker acts only with a profile of their own; the wall is for the CoC the
# CE manager acts for; managing a program is for its own organization (see `can`).
ROLES: dict[Capability, frozenset[Role]] = {
    Capability.MAKE_REFERRALS: frozenset({Role.NAVIGATOR, Role.ADMIN, Role.SEEKER}),
    Capability.SEE_REFERRALS_FOR_ME: frozenset({Role.SEEKER}),
    Capability.SEE_PEOPLE_IM_HELPING: frozenset({Role.NAVIGATOR, Role.ADMIN}),
    Capability.LOOK_UP_SEEKERS: frozenset({Role.NAVIGATOR, Role.ADMIN}),
    Capability.SEE_INBOUND_REFERRALS: frozenset({Role.PROGRAM_STAFF, Role.ADMIN}),
    Capability.WATCH_WALL: frozenset({Role.CE_MANAGER}),
    Capability.MANAGE_PROGRAM: frozenset({Role.PROGRAM_STAFF, Role.ADMIN}),
    Capability.EXPORT_HMIS: frozenset({Role.CE_MANAGER}),
    # Program staff already see every live referral to their organization's programs, so the
    # organization's figures tell them nothing new; a director (ADMIN) expects them too.
    Capability.SEE_PERFORMANCE: frozenset({Role.PROGRAM_STAFF, Role.ADMIN, Role.CE_MANAGER}),
}
CONDITIONS = {
    "a seeker needs a profile of their own": (Capability.MAKE_REFERRALS, Capability.SEE_REFERRALS_FOR_ME),
    "the wall's CoC is the one the viewer acts for": (Capability.WATCH_WALL,),
    "the exported CoC is the one the viewer acts for": (Capability.EXPORT_HMIS,),
    "the program belongs to the organization the viewer acts for": (Capability.MANAGE_PROGRAM,),
    "staff and admins: the program, or the organization, is the one they act for; CE managers: the "
    "program's organization, the organization, or the CoC is in the CoC they act for; admins also: an agreement in "
    "force that the organization they act for is party to (its figures under the minimum cell size)": (Capability.SEE_PERFORMANCE,),
}


def can(
    viewer: Viewer,
    capability: Capability,
    *,
    coc_code: str | None = None,
    program: Program | None = None,
    organization: Organization | None = None,
    agreement: DataSharingAgreement | None = None,
) -> bool:
    """`program` for SEE_PERFORMANCE comes with its organization loaded (its CoC is read); `agreement` with its parties."""
    if viewer.role not in ROLES[capability]:
        return False
    if viewer.role is Role.SEEKER and viewer.seeker_id is None:
        return False
    if capability in (Capability.WATCH_WALL, Capability.EXPORT_HMIS):
        return viewer.acting is not None and viewer.acting.coc_code is not None and viewer.acting.coc_code == coc_code
    if capability is Capability.MANAGE_PROGRAM:
        return program is not None and viewer.organization_id == program.organization_id
    if capability is Capability.SEE_PERFORMANCE:
        if agreement is not None:
            return _sees_agreement(viewer, agreement)
        return _sees_performance(viewer, coc_code=coc_code, program=program, organization=organization)
    return True


def _sees_agreement(viewer: Viewer, agreement: DataSharingAgreement) -> bool:
    """An admin of a party, while the agreement is in force: its figures cross to every party."""
    today = date.today()
    in_force = agreement.starts_on <= today and (agreement.ends_on is None or agreement.ends_on >= today)
    parties = {p.organization_id for p in agreement.parties}
    return viewer.role is Role.ADMIN and in_force and viewer.organization_id is not None and viewer.organization_id in parties


def _sees_performance(
    viewer: Viewer, *, coc_code: str | None, program: Program | None, organization: Organization | None
) -> bool:
    """One scope at a time: a program, an organization or a CoC (the caller passes exactly one)."""
    if viewer.role is Role.CE_MANAGER:
        # The same CoC the wall counts referrals for: that of the program's organization.
        if program is not None:
            return same(program.organization.coc_id, viewer.coc_id)
        if organization is not None:
            return same(organization.coc_id, viewer.coc_id)
        return viewer.acting is not None and viewer.acting.coc_code is not None and viewer.acting.coc_code == coc_code
    if program is not None:
        return same(program.organization_id, viewer.organization_id)
    if organization is not None:
        return same(organization.id, viewer.organization_id)
    return False


def markdown() -> str:
    roles = list(Role)
    lines = ["#### Capabilities: role x capability", ""]
    lines.append("| capability | " + " | ".join(r.name for r in roles) + " |")
    lines.append("|---" * (len(roles) + 1) + "|")
    for capability, allowed in ROLES.items():
        lines.append(f"| {capability.name} | " + " | ".join("yes" if r in allowed else "" for r in roles) + " |")
    lines += ["", "Conditions:", ""]
    lines += [f"- {says}: " + ", ".join(c.name for c in caps) for says, caps in CONDITIONS.items()]
    return "\n".join(lines) + "\n"
