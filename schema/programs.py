"""Programs and the directory search."""

from __future__ import annotations

import strawberry

from db.programs import Program
from resolvers.pagination import clamp_first
from resolvers.programs import get_program, search_programs
from schema.accounts import OrganizationType
from schema.connections import Connection
from schema.context import Info, runtime_of
from schema.enums import ConnectMode, ProgramCategory
from schema.fields import field
from schema.ids import Node, pk_of, to_global_id


@strawberry.type(name="ScreenerQuestion")
class ScreenerQuestionType:
    key: str
    label: str
    required: bool
    choices: list[str] = strawberry.field(description="The allowed answers; empty for free text.")


@strawberry.type(name="Program")
class ProgramType(Node):
    model: strawberry.Private[Program]

    @classmethod
    def from_model(cls, program: Program) -> ProgramType:
        return cls(id=to_global_id("Program", program.id), model=program)

    @strawberry.field
    def name(self) -> str:
        return self.model.name

    @strawberry.field
    def description(self) -> str:
        return self.model.description

    @strawberry.field
    def connect_mode(self) -> ConnectMode:
        return self.model.connect_mode

    @field(description="False for programs that take contact elsewhere: referrals to them are logged.")
    def accepts_referrals(self) -> bool:
        return self.model.accepts_referrals

    @strawberry.field
    def organization(self) -> OrganizationType:
        org = self.model.organization
        return OrganizationType(id=to_global_id("Organization", org.id), name=org.name)

    @strawberry.field
    def categories(self) -> list[ProgramCategory]:
        return [tag.category for tag in self.model.categories]

    @field(description="Where to apply for programs that take contact elsewhere.")
    def external_url(self) -> str | None:
        return self.model.external_url

    @strawberry.field
    def eligibility(self) -> str:
        return self.model.eligibility

    @strawberry.field
    def min_age(self) -> int | None:
        return self.model.min_age

    @strawberry.field
    def max_age(self) -> int | None:
        return self.model.max_age

    @field(description="ZIP codes served; empty means everywhere.")
    def service_postal_codes(self) -> list[str]:
        return [area.postal_code for area in self.model.service_areas]

    @field(description="Questions the referrer answers before a live referral is sent.")
    def screener(self) -> list[ScreenerQuestionType]:
        return [
            ScreenerQuestionType(
                key=q["key"], label=q["label"], required=bool(q.get("required")), choices=list(q.get("choices") or [])
            )
            for q in self.model.screener
        ]


@strawberry.type
class ProgramQuery:
    @field(description="Search the program directory by text, category and ZIP code.")
    async def programs(
        self,
        info: Info,
        search: str | None = None,
        category: ProgramCategory | None = None,
        postal_code: str | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[ProgramType]:
        page = await search_programs(
            runtime_of(info),
            search=search,
            category=category,
            postal_code=postal_code,
            first=clamp_first(first, 20),
            after=after,
        )
        return Connection.of(page, ProgramType.from_model)

    @strawberry.field
    async def program(self, info: Info, id: strawberry.ID) -> ProgramType:
        return ProgramType.from_model(await get_program(runtime_of(info), pk_of(id, "Program", field="id")))
