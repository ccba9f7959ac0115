"""`node(id)`: any object by its global id, under the same rules as its own query."""

from __future__ import annotations

import strawberry

from resolvers import coordinated_entry as ce
from resolvers.enrollments import get_enrollment
from resolvers.errors import NotFound
from resolvers.programs import get_program
from resolvers.referrals import get_referral
from resolvers.seekers import get_seeker
from resolvers.text import excerpt
from schema.context import Info, require_viewer, runtime_of
from schema.coordinated_entry import CeEventType, VacancyType
from schema.enrollments import EnrollmentType
from schema.ids import Node, parse_global_id
from schema.programs import ProgramType
from schema.referrals import ReferralType
from schema.seekers import SeekerType


@strawberry.type
class NodeQuery:
    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, pk = parse_global_id(id)
        runtime = runtime_of(info)
        if type_name == "Program":
            return ProgramType.from_model(await get_program(runtime, pk))
        viewer = require_viewer(info)
        if type_name == "Referral":
            return ReferralType.from_model(await get_referral(runtime, viewer, pk))
        if type_name == "Seeker":
            return SeekerType.from_profile(await get_seeker(runtime, viewer, pk))
        if type_name == "Enrollment":
            return EnrollmentType.from_model(await get_enrollment(runtime, viewer, pk))
        if type_name == "CeEvent":
            return CeEventType.of(await ce.get_ce_event(runtime, viewer, pk))
        if type_name == "Vacancy":
            return VacancyType.of(await ce.get_vacancy(runtime, viewer, pk))
        raise NotFound(f"No {excerpt(type_name)} can be fetched by id.")
