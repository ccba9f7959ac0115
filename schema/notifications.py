"""Notification settings: which kinds of email a person mutes, and a program's hourly digest."""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from db.events import EventKind as _EventKind
from resolvers.notifications import (
    muted_email_events,
    program_hourly_digest,
    set_program_hourly_digest,
    update_muted_email_events,
)
from schema.context import Info, require_viewer, runtime_of
from schema.fields import field, mutation
from schema.ids import pk_of

# strawberry.enum registers the GraphQL definition on the domain class and returns that same class.
strawberry.enum(_EventKind, name="NotificationEvent", description="A kind of change that notifications tell people about.")
NotificationEvent: TypeAlias = _EventKind


@strawberry.type(name="NotificationSettings")
class NotificationSettingsType:
    muted_email_events: list[NotificationEvent] = strawberry.field(
        description="Kinds of change the viewer gets no email about."
    )


@strawberry.type(name="ProgramNotificationSettings")
class ProgramNotificationSettingsType:
    program_id: strawberry.ID
    hourly_digest: bool = strawberry.field(
        description="New referrals arrive as at most one email an hour listing them, instead of one email each."
    )


@strawberry.input
class UpdateNotificationSettingsInput:
    muted_email_events: list[NotificationEvent]


@strawberry.input
class UpdateProgramNotificationSettingsInput:
    program_id: strawberry.ID
    hourly_digest: bool


@strawberry.type
class NotificationQuery:
    @field(description="The signed-in viewer's notification settings.")
    async def notification_settings(self, info: Info) -> NotificationSettingsType:
        viewer = require_viewer(info)
        return NotificationSettingsType(muted_email_events=await muted_email_events(runtime_of(info), viewer))

    @field(description="How one of the acting organization's programs is notified.")
    async def program_notification_settings(self, info: Info, program_id: strawberry.ID) -> ProgramNotificationSettingsType:
        viewer = require_viewer(info)
        pk = pk_of(program_id, "Program", field="programId")
        digest = await program_hourly_digest(runtime_of(info), viewer, program_id=pk)
        return ProgramNotificationSettingsType(program_id=program_id, hourly_digest=digest)


@strawberry.type
class NotificationMutation:
    @mutation(description="Choose the kinds of change to get no email about (replaces the list).")
    async def update_notification_settings(
        self, info: Info, input: UpdateNotificationSettingsInput
    ) -> NotificationSettingsType:
        viewer = require_viewer(info)
        muted = await update_muted_email_events(runtime_of(info), viewer, muted=input.muted_email_events)
        return NotificationSettingsType(muted_email_events=muted)

    @mutation(description="Turn a program's hourly digest of new referrals on or off (its staff only).")
    async def update_program_notification_settings(
        self, info: Info, input: UpdateProgramNotificationSettingsInput
    ) -> ProgramNotificationSettingsType:
        viewer = require_viewer(info)
        pk = pk_of(input.program_id, "Program", field="programId")
        digest = await set_program_hourly_digest(runtime_of(info), viewer, program_id=pk, hourly_digest=input.hourly_digest)
        return ProgramNotificationSettingsType(program_id=input.program_id, hourly_digest=digest)
