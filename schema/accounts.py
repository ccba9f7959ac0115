"""The signed-in viewer, organizations, memberships and the people who act in them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from db.accounts import User
from resolvers.accounts import acts_for_tracking_only_site, change_password, sign_out, switch_organization
from resolvers.seekers import get_seeker
from resolvers.viewer import MembershipInfo, Viewer
from schema.context import Info, require_viewer, runtime_of
from schema.enums import Role
from schema.fields import field, mutation
from schema.ids import Node, pk_of, to_global_id

if TYPE_CHECKING:
    from schema.seekers import SeekerType


@strawberry.type(name="Organization")
class OrganizationType(Node):
    name: str
    coc_code: str | None = strawberry.field(default=None, description="The Continuum of Care it belongs to.")

    @classmethod
    def from_membership(cls, m: MembershipInfo) -> OrganizationType:
        return cls(id=to_global_id("Organization", m.organization_id), name=m.organization_name, coc_code=m.coc_code)


@strawberry.type(name="Team")
class TeamType:
    id: strawberry.ID


@strawberry.type(name="Person", description="A navigator or staff member, as others see them.")
class PersonType:
    id: strawberry.ID
    name: str

    @classmethod
    def from_user(cls, user: User | None) -> PersonType | None:
        return cls(id=to_global_id("Person", user.id), name=user.name) if user else None


@strawberry.type(name="Membership")
class MembershipType:
    organization: OrganizationType
    role: Role
    team: TeamType | None

    @classmethod
    def from_info(cls, m: MembershipInfo) -> MembershipType:
        return cls(
            organization=OrganizationType.from_membership(m),
            role=m.role,
            team=TeamType(id=to_global_id("Team", m.team_id)) if m.team_id else None,
        )


@strawberry.type(name="Viewer")
class ViewerType:
    model: strawberry.Private[Viewer]
    id: strawberry.ID
    email: str
    name: str
    role: Role

    @classmethod
    def from_viewer(cls, viewer: Viewer) -> ViewerType:
        # Only an email link's one-off action is taken without an account, and it never reaches the API.
        assert viewer.user_id is not None, "a signed-in viewer has an account"
        return cls(model=viewer, id=to_global_id("Person", viewer.user_id), email=viewer.email, name=viewer.name, role=viewer.role)

    @field(description="The organization the viewer acts for now.")
    def organization(self) -> OrganizationType | None:
        return OrganizationType.from_membership(self.model.acting) if self.model.acting else None

    @strawberry.field
    def memberships(self) -> list[MembershipType]:
        return [MembershipType.from_info(m) for m in self.model.memberships]

    @field(
        description=(
            "True when the viewer acts for a tracking-only site: referrals they make are recorded for their "
            "organization's tracking, and nothing is sent to the program or the person."
        )
    )
    async def tracking_only(self, info: Info) -> bool:
        return await acts_for_tracking_only_site(runtime_of(info), self.model)

    @field(description="The viewer's own seeker profile, if they have one.")
    async def seeker(self, info: Info) -> Annotated[SeekerType, strawberry.lazy("schema.seekers")] | None:
        from schema.seekers import SeekerType

        if self.model.seeker_id is None:
            return None
        return SeekerType.from_profile(await get_seeker(runtime_of(info), self.model, self.model.seeker_id))


@strawberry.type
class AccountQuery:
    @field(description="The signed-in user, or null when signed out.")
    def viewer(self, info: Info) -> ViewerType | None:
        if info.context.auth_error is not None:
            raise info.context.auth_error
        return ViewerType.from_viewer(info.context.viewer) if info.context.viewer else None


@strawberry.type
class AccountMutation:
    @mutation(description="Act for another of your organizations from now on.")
    async def switch_organization(self, info: Info, organization_id: strawberry.ID) -> ViewerType:
        viewer = require_viewer(info)
        switched = await switch_organization(
            runtime_of(info), viewer, organization_id=pk_of(organization_id, "Organization", field="organizationId")
        )
        info.context.set_viewer(switched)
        return ViewerType.from_viewer(switched)

    @mutation(
        description=(
            "Set a new password: at least 12 characters, not your email or name, not a common or easily "
            "guessed password. Your other sessions are signed out. BAD_USER_INPUT names the `field` and the `rule` broken."
        )
    )
    async def change_password(self, info: Info, current_password: str, new_password: str) -> bool:
        await change_password(runtime_of(info), require_viewer(info), current=current_password, new=new_password)
        return True

    @mutation(description="Sign out: this token is refused from now on and its live subscriptions close.")
    async def sign_out(self, info: Info) -> bool:
        await sign_out(runtime_of(info), require_viewer(info))
        return True
