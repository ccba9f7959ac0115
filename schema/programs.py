"""Programs and the directory search."""

from __future__ import annotations

import strawberry

from db.programs import Address, Language, Location, Phone, Program, Schedule
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


HSDS = "Shaped as Open Referral HSDS 3.0 shapes it"


@strawberry.type(name="Address", description=f"{HSDS} (`address`).")
class AddressType:
    model: strawberry.Private[Address]

    @strawberry.field
    def attention(self) -> str | None:
        return self.model.attention

    @field(description="HSDS `address_1`.")
    def address1(self) -> str:
        return self.model.address_1

    @field(description="HSDS `address_2`.")
    def address2(self) -> str | None:
        return self.model.address_2

    @strawberry.field
    def city(self) -> str:
        return self.model.city

    @strawberry.field
    def region(self) -> str | None:
        return self.model.region

    @strawberry.field
    def state_province(self) -> str:
        return self.model.state_province

    @strawberry.field
    def postal_code(self) -> str:
        return self.model.postal_code

    @field(description="ISO 3166-1 alpha-2.")
    def country(self) -> str:
        return self.model.country

    @field(description="physical, postal or virtual.")
    def address_type(self) -> str:
        return self.model.address_type


@strawberry.type(name="Location", description=f"{HSDS} (`location`): where the program is delivered.")
class LocationType:
    model: strawberry.Private[Location]

    @field(description="physical, postal or virtual.")
    def location_type(self) -> str:
        return self.model.location_type

    @strawberry.field
    def name(self) -> str | None:
        return self.model.name

    @strawberry.field
    def description(self) -> str | None:
        return self.model.description

    @strawberry.field
    def transportation(self) -> str | None:
        return self.model.transportation

    @strawberry.field
    def addresses(self) -> list[AddressType]:
        return [AddressType(model=a) for a in self.model.addresses]

    @field(description="The physical address, else the first one.")
    def address(self) -> AddressType | None:
        ordered = sorted(self.model.addresses, key=lambda a: a.address_type != "physical")
        return AddressType(model=ordered[0]) if ordered else None


@strawberry.type(name="Phone", description=f"{HSDS} (`phone`).")
class PhoneType:
    model: strawberry.Private[Phone]

    @strawberry.field
    def number(self) -> str:
        return self.model.number

    @strawberry.field
    def extension(self) -> str | None:
        return self.model.extension

    @field(description="text, voice, fax, cell, video, pager or textphone.")
    def type(self) -> str | None:
        return self.model.type

    @strawberry.field
    def description(self) -> str | None:
        return self.model.description

    @field(description="The languages spoken on this line, by name.")
    def languages(self) -> list[str]:
        return [language.name for language in self.model.languages]


@strawberry.type(name="Schedule", description=f"{HSDS} (`schedule`): a weekly rule, or a description.")
class ScheduleType:
    model: strawberry.Private[Schedule]

    @field(description="iCal FREQ: WEEKLY, MONTHLY.")
    def freq(self) -> str | None:
        return self.model.freq

    @field(description="HSDS `byday`: iCal days, comma-separated (MO,TU,WE).")
    def by_day(self) -> str | None:
        return self.model.byday

    @field(description="HSDS `opens_at`: HH:MM, local time.")
    def opens_at(self) -> str | None:
        return self.model.opens_at

    @field(description="HSDS `closes_at`: HH:MM, local time.")
    def closes_at(self) -> str | None:
        return self.model.closes_at

    @strawberry.field
    def description(self) -> str | None:
        return self.model.description


def _language_names(languages: list[Language]) -> list[str]:
    return [language.name for language in languages]


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

    @field(description=f"{HSDS}: where the program is delivered.")
    def locations(self) -> list[LocationType]:
        return [LocationType(model=location) for location in self.model.locations]

    @field(description=f"{HSDS}: numbers to call about the program.")
    def phones(self) -> list[PhoneType]:
        return [PhoneType(model=phone) for phone in self.model.phones]

    @field(description=f"{HSDS}: when the program is open.")
    def schedules(self) -> list[ScheduleType]:
        return [ScheduleType(model=schedule) for schedule in self.model.schedules]

    @field(description="The languages the program works in, by name (HSDS `language`).")
    def languages(self) -> list[str]:
        return _language_names(self.model.languages)

    @field(description="Questions the referrer answers before a live referral is sent.")
    def screener(self) -> list[ScreenerQuestionType]:
        return [
            ScreenerQuestionType(
                key=q["key"], label=q["label"], required=bool(q.get("required")), choices=list(q.get("choices") or [])
            )
            for q in self.model.screener
        ]


@strawberry.type
class ProgramConnection(Connection[ProgramType]):
    total_count: int = strawberry.field(description="How many programs match, on every page.")


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
    ) -> ProgramConnection:
        found = await search_programs(
            runtime_of(info),
            search=search,
            category=category,
            postal_code=postal_code,
            first=clamp_first(first, 20),
            after=after,
        )
        return ProgramConnection.of(found.page, ProgramType.from_model, total_count=found.total_count)

    @strawberry.field
    async def program(self, info: Info, id: strawberry.ID) -> ProgramType:
        return ProgramType.from_model(await get_program(runtime_of(info), pk_of(id, "Program", field="id")))
