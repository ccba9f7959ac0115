"""Who is told what about a referral, planned in the transaction of the change; and who muted what.

The rules (DESIGN.md §2):
- A new live referral: the seeker on their channel, and the program at every contact address.
  A new logged referral: the seeker only. Tracking-only: nobody.
- A status change: the seeker on their channel and the navigator by email.
- A comment: the other parties (the seeker, the navigator, and for a live referral the program).
- Never the person who made the change. Nobody at all when the seeker chose NONE ("don't reach out").
- The seeker's channel: EMAIL sends email, TEXT sends a text, never both. PHONE means a person calls:
  nothing automated goes to the seeker, while the program and navigator are still told.
Planning writes rows; the delivery worker (resolvers/delivery.py) sends them after commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.accounts import Role, User
from db.base import utcnow
from db.events import EventKind
from db.notifications import (
    Channel,
    DigestEntry,
    Notification,
    NotificationSetting,
    NotificationStatus,
    ProgramNotificationSetting,
    RecipientKind,
)
from db.programs import Program
from db.referrals import Comment, Referral, ReferralKind, StatusChange
from db.seekers import ContactPreference, Seeker
from resolvers.errors import Forbidden, NotFound
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer

# Callbacks of the delivery workers in this process, rung after a transaction that planned messages
# commits; a worker in another process finds them by polling.
_doorbells: set[Callable[[], None]] = set()
COMMENT_EXCERPT = 500


def add_doorbell(ring: Callable[[], None]) -> None:
    _doorbells.add(ring)


def remove_doorbell(ring: Callable[[], None]) -> None:
    _doorbells.discard(ring)


def _ring_after_commit(session: AsyncSession) -> None:
    sync = session.sync_session
    if sync.info.get("referloop_notifications_bell"):
        return
    sync.info["referloop_notifications_bell"] = True

    def rang(_session: Any) -> None:
        sync.info.pop("referloop_notifications_bell", None)
        for ring in list(_doorbells):
            ring()

    event.listen(sync, "after_commit", rang, once=True)
    event.listen(sync, "after_rollback", lambda _s: sync.info.pop("referloop_notifications_bell", None), once=True)


@dataclass(frozen=True)
class Recipient:
    kind: RecipientKind
    address: str
    channel: Channel
    user_id: int | None = None


def seeker_channel(preference: ContactPreference, *, email: str | None, phone: str | None) -> Channel | None:
    """The one automated channel for the seeker, or None (PHONE: a person calls; NONE: don't reach out)."""
    if preference is ContactPreference.EMAIL and email:
        return Channel.EMAIL
    if preference is ContactPreference.TEXT and phone:
        return Channel.SMS
    return None


def _is_seeker(actor: Viewer, referral: Referral) -> bool:
    return actor.role is Role.SEEKER and actor.seeker_id == referral.seeker_id


def _is_program_side(actor: Viewer, referral: Referral) -> bool:
    return actor.role in (Role.PROGRAM_STAFF, Role.ADMIN) and actor.organization_id == referral.program_organization_id


async def _recipients(
    session: AsyncSession, referral: Referral, event_kind: EventKind, actor: Viewer
) -> list[Recipient]:
    if referral.kind is ReferralKind.TRACKING_ONLY or referral.contact_preference is ContactPreference.NONE:
        return []
    seeker = await session.get(Seeker, referral.seeker_id)
    program = await session.get(Program, referral.program_id)
    assert seeker is not None and program is not None
    recipients: list[Recipient] = []

    if not _is_seeker(actor, referral):
        channel = seeker_channel(referral.contact_preference, email=seeker.email, phone=seeker.phone)
        if channel is not None:
            address = seeker.email if channel is Channel.EMAIL else seeker.phone
            assert address is not None
            recipients.append(Recipient(RecipientKind.SEEKER, address, channel, seeker.user_id))

    tell_navigator = event_kind in (EventKind.STATUS_CHANGED, EventKind.COMMENT_ADDED)
    if tell_navigator and referral.navigator_id is not None and referral.navigator_id != actor.user_id:
        navigator = await session.get(User, referral.navigator_id)
        if navigator is not None and navigator.is_active:
            recipients.append(Recipient(RecipientKind.NAVIGATOR, navigator.email, Channel.EMAIL, navigator.id))

    tell_program = event_kind in (EventKind.CREATED, EventKind.COMMENT_ADDED)
    if tell_program and referral.kind is ReferralKind.LIVE and not _is_program_side(actor, referral):
        users = await _users_by_email(session, program.contact_emails)
        for address in dict.fromkeys(a.strip().lower() for a in program.contact_emails if a.strip()):
            if address == actor.email.lower():
                continue
            recipients.append(Recipient(RecipientKind.PROGRAM, address, Channel.EMAIL, users.get(address)))
    return recipients


async def _users_by_email(session: AsyncSession, addresses: Iterable[str]) -> dict[str, int]:
    wanted = {a.strip().lower() for a in addresses if a.strip()}
    if not wanted:
        return {}
    rows = await session.execute(select(func.lower(User.email), User.id).where(func.lower(User.email).in_(wanted)))
    return {email: user_id for email, user_id in rows.all()}


async def _muted_users(session: AsyncSession, user_ids: set[int], event_kind: EventKind) -> set[int]:
    if not user_ids:
        return set()
    rows = await session.scalars(
        select(NotificationSetting.user_id).where(
            NotificationSetting.user_id.in_(user_ids),
            NotificationSetting.event == event_kind,
            NotificationSetting.email_muted.is_(True),
        )
    )
    return set(rows.all())


async def _what_happened(session: AsyncSession, referral: Referral, event_kind: EventKind, actor: Viewer) -> dict[str, Any]:
    """The part of the message fixed at the moment of the change."""
    context: dict[str, Any] = {"actor": actor.name, "actor_role": actor.role.name}
    if event_kind is EventKind.STATUS_CHANGED:
        change = await session.scalar(
            select(StatusChange).where(StatusChange.referral_id == referral.id).order_by(StatusChange.id.desc()).limit(1)
        )
        assert change is not None
        context.update(
            status=change.to_status.name,
            previous=change.from_status.name if change.from_status else None,
            note=change.note,
            source=change.source.name,
        )
    elif event_kind is EventKind.COMMENT_ADDED:
        comment = await session.scalar(
            select(Comment).where(Comment.referral_id == referral.id).order_by(Comment.id.desc()).limit(1)
        )
        assert comment is not None
        body = comment.body
        context["comment"] = body if len(body) <= COMMENT_EXCERPT else body[: COMMENT_EXCERPT - 1] + "…"
    return context


def template_for(event_kind: EventKind, recipient: RecipientKind) -> str:
    return f"{event_kind.name.lower()}_{recipient.name.lower()}"


async def plan_notifications(
    session: AsyncSession, *, referral: Referral, event_kind: EventKind, event_seq: int, actor: Viewer
) -> int:
    """Write the messages a change calls for, in the change's own transaction; returns how many will go."""
    recipients = await _recipients(session, referral, event_kind, actor)
    if not recipients:
        return 0
    muted = await _muted_users(session, {r.user_id for r in recipients if r.user_id and r.channel is Channel.EMAIL}, event_kind)
    digest = (
        event_kind is EventKind.CREATED
        and bool(await session.scalar(
            select(ProgramNotificationSetting.hourly_digest).where(ProgramNotificationSetting.program_id == referral.program_id)
        ))
    )
    context = await _what_happened(session, referral, event_kind, actor)
    now = utcnow()
    planned = 0
    for r in recipients:
        is_muted = r.channel is Channel.EMAIL and r.user_id in muted
        if digest and r.kind is RecipientKind.PROGRAM and not is_muted:
            session.add(DigestEntry(program_id=referral.program_id, address=r.address, referral_id=referral.id, created_at=now))
            planned += 1
            continue
        session.add(
            Notification(
                # The change's own event number makes each message's key: one message per change and address.
                idempotency_key=f"{event_seq}:{r.kind.name}:{r.address}:{r.channel.name}",
                referral_id=referral.id,
                event_seq=event_seq,
                event=event_kind,
                template=template_for(event_kind, r.kind),
                recipient_kind=r.kind,
                recipient_user_id=r.user_id,
                address=r.address,
                channel=r.channel,
                context=context,
                status=NotificationStatus.SUPPRESSED if is_muted else NotificationStatus.PENDING,
                last_error="muted by the recipient" if is_muted else None,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        planned += 0 if is_muted else 1
    await session.flush()
    if planned:
        _ring_after_commit(session)
    return planned


# Settings -----------------------------------------------------------------------------------------


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
    if viewer.role not in (Role.PROGRAM_STAFF, Role.ADMIN) or viewer.organization_id != program.organization_id:
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

