"""Notification settings: which kinds of email a person mutes, and a program's hourly digest."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.events import EventKind
from db.notifications import NotificationSetting, ProgramNotificationSetting
from db.programs import Program
from resolvers.errors import Forbidden, NotFound
from resolvers.policy import capabilities
from resolvers.policy.capabilities import Capability
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer


async def muted_email_events(runtime: Runtime, viewer: Viewer) -> list[EventKind]:
    async with runtime.db.read() as session:
        rows = await session.scalars(
            select(NotificationSetting.event).where(
                NotificationSetting.user_id == viewer.user_id, NotificationSetting.email_muted.is_(True)
            )
        )
        return sorted(rows.all(), key=lambda e: list(EventKind).index(e))


async def update_muted_email_events(runtime: Runtime, viewer: Viewer, *, muted: Iterable[EventKind]) -> list[EventKind]:
    """Replace the viewer's muted kinds of email with `muted`."""
    chosen = set(muted)
    async with runtime.db.write() as session:
        await session.execute(delete(NotificationSetting).where(NotificationSetting.user_id == viewer.user_id))
        now = utcnow()
        for kind in chosen:
            session.add(NotificationSetting(user_id=viewer.user_id, event=kind, email_muted=True, updated_at=now))
    return sorted(chosen, key=lambda e: list(EventKind).index(e))


async def _manageable_program(session: AsyncSession, viewer: Viewer, program_id: int) -> Program:
    program = await session.get(Program, program_id)
    if program is None:
        raise NotFound("No program with that id.")
    if not capabilities.can(viewer, Capability.MANAGE_PROGRAM, program=program):
        raise Forbidden("Only the program's own staff can change how it is notified.")
    return program


async def program_hourly_digest(runtime: Runtime, viewer: Viewer, *, program_id: int) -> bool:
    async with runtime.db.read() as session:
        await _manageable_program(session, viewer, program_id)
        setting = await session.get(ProgramNotificationSetting, program_id)
        return bool(setting and setting.hourly_digest)


async def set_program_hourly_digest(runtime: Runtime, viewer: Viewer, *, program_id: int, hourly_digest: bool) -> bool:
    """With the digest on, the program's addresses get at most one email an hour listing new referrals."""
    async with runtime.db.write() as session:
        await _manageable_program(session, viewer, program_id)
        setting = await session.get(ProgramNotificationSetting, program_id)
        if setting is None:
            session.add(ProgramNotificationSetting(program_id=program_id, hourly_digest=hourly_digest, updated_at=utcnow()))
        else:
            setting.hourly_digest = hourly_digest
            setting.updated_at = utcnow()
    return hourly_digest

