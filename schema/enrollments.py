"""Enrollments: a household in a program from entry through move-in to exit, with HUD's codes."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from db import hud
from db.enrollments import Enrollment
from resolvers.enrollments import (
    NewEnrollment,
    NewMember,
    create_enrollment,
    exit_enrollment,
    list_enrollments,
    record_move_in,
)
from resolvers.pagination import clamp_first
from schema.connections import Connection
from schema.context import Info, loaders_of, require_viewer, runtime_of
from schema.fields import field, mutation
from schema.idempotency import IdempotentInput, once_of
from schema.ids import Node, pk_of, to_global_id
from schema.programs import ProgramType
from schema.seekers import SeekerType


@strawberry.type(name="Enrollment")
class EnrollmentType(Node):
    model: strawberry.Private[Enrollment]

    @classmethod
    def from_model(cls, enrollment: Enrollment) -> EnrollmentType:
        return cls(id=to_global_id("Enrollment", enrollment.id), model=enrollment)

    @field(description="The person enrolled, as the viewer may see them.")
    async def seeker(self, info: Info) -> SeekerType:
        return SeekerType.from_profile(await loaders_of(info).profile(require_viewer(info), self.model.seeker))

    @strawberry.field
    def program(self) -> ProgramType:
        return ProgramType.from_model(self.model.program)

    @field(description="HMIS HouseholdID: everyone enrolled together shares it.")
    def household_id(self) -> strawberry.ID:
        return to_global_id("Household", self.model.household_id)

    @field(description="Everyone in the household's enrollments, this one included.")
    async def household(self, info: Info) -> list[EnrollmentType]:
        members = await loaders_of(info).household(require_viewer(info), self.model)
        return [EnrollmentType.from_model(m) for m in members]

    @strawberry.field
    def entry_date(self) -> date:
        return self.model.entry_date

    @field(name="relationshipToHoH", description="3.15.1 Relationship to head of household (1 is the head).")
    def relationship_to_hoh(self) -> int:
        return self.model.relationship_to_hoh

    @field(description="3.917 Prior living situation (HUD code).")
    def prior_living_situation(self) -> int | None:
        return self.model.prior_living_situation

    @field(description="1.8 Disabling condition (0 no, 1 yes, 8, 9, 99).")
    def disabling_condition(self) -> int:
        return self.model.disabling_condition

    @field(description="The CoC code the household is enrolled in, e.g. CA-600.")
    def enrollment_coc(self) -> str | None:
        return self.model.enrollment_coc

    @field(description="3.20 Housing move-in date; housing programs only.")
    def move_in_date(self) -> date | None:
        return self.model.move_in_date

    @strawberry.field
    def exit_date(self) -> date | None:
        return self.model.exit_date

    @field(description="3.12 Destination at exit (HUD code).")
    def destination(self) -> int | None:
        return self.model.destination

    @field(description="3.12's label for the destination.")
    def destination_label(self) -> str | None:
        return hud.label(hud.DESTINATION, self.model.destination)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.model.created_at


@strawberry.input
class EnrollmentMemberInput:
    seeker_id: strawberry.ID
    relationship_to_hoh: int = strawberry.field(
        name="relationshipToHoH", description="3.15.1; exactly one member is 1 (head of household)."
    )
    prior_living_situation: int | None = strawberry.field(default=None, description="3.917; 99 when not given.")
    disabling_condition: int | None = strawberry.field(default=None, description="1.8; 99 when not given.")


@strawberry.input
class CreateEnrollmentInput(IdempotentInput):
    program_id: strawberry.ID
    entry_date: date
    members: list[EnrollmentMemberInput]
    enrollment_coc: str | None = strawberry.field(default=None, description="Defaults to the program's CoC.")


@strawberry.input
class RecordMoveInInput:
    enrollment_id: strawberry.ID
    move_in_date: date


@strawberry.input
class ExitEnrollmentInput:
    enrollment_id: strawberry.ID
    exit_date: date
    destination: int = strawberry.field(description="3.12 Destination (HUD code).")


@strawberry.type
class EnrollmentQuery:
    @field(description="Enrollments you may read (your organization's programs, or your CoC's), newest first.")
    async def enrollments(
        self,
        info: Info,
        program_id: strawberry.ID | None = None,
        seeker_id: strawberry.ID | None = None,
        open: bool | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[EnrollmentType]:
        page = await list_enrollments(
            runtime_of(info),
            require_viewer(info),
            program_id=pk_of(program_id, "Program", field="programId") if program_id else None,
            seeker_id=pk_of(seeker_id, "Seeker", field="seekerId") if seeker_id else None,
            open=open,
            first=clamp_first(first, 20),
            after=after,
        )
        return Connection.of(page, EnrollmentType.from_model)


@strawberry.type
class EnrollmentMutation:
    @mutation(description="Enroll a household in a program of your organization; answers the head's enrollment.")
    async def create_enrollment(self, info: Info, input: CreateEnrollmentInput) -> EnrollmentType:
        new = NewEnrollment(
            program_id=pk_of(input.program_id, "Program", field="programId"),
            entry_date=input.entry_date,
            members=[
                NewMember(
                    seeker_id=pk_of(m.seeker_id, "Seeker", field="seekerId"),
                    relationship_to_hoh=m.relationship_to_hoh,
                    prior_living_situation=m.prior_living_situation,
                    disabling_condition=m.disabling_condition,
                )
                for m in input.members
            ],
            enrollment_coc=input.enrollment_coc,
        )
        return EnrollmentType.from_model(await create_enrollment(runtime_of(info), require_viewer(info), new, request=once_of(info, input)))

    @mutation(description="Record the day the household moved into housing (housing programs only).")
    async def record_move_in(self, info: Info, input: RecordMoveInInput) -> EnrollmentType:
        enrollment = await record_move_in(
            runtime_of(info),
            require_viewer(info),
            enrollment_id=pk_of(input.enrollment_id, "Enrollment", field="enrollmentId"),
            move_in_date=input.move_in_date,
        )
        return EnrollmentType.from_model(enrollment)

    @mutation(description="Record a person's exit from the program and where they went.")
    async def exit_enrollment(self, info: Info, input: ExitEnrollmentInput) -> EnrollmentType:
        enrollment = await exit_enrollment(
            runtime_of(info),
            require_viewer(info),
            enrollment_id=pk_of(input.enrollment_id, "Enrollment", field="enrollmentId"),
            exit_date=input.exit_date,
            destination=input.destination,
        )
        return EnrollmentType.from_model(enrollment)
