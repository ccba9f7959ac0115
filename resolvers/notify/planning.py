"""Who is told what about a referral, planned in the transaction of the change; and who muted what.

The rules:
- A new live referral: the seeker on their channel, and the program at every contact address.
  A new logged referral: the seeker only. Tracking-only: nobody.
- A status change: the seeker on their channel and the navigator by email.
- A comment: the other parties (the seeker, the navigator, and for a live referral the program).
- Never the person who made the change. Nobody at all when the seeker chose NONE ("don't reach out").
- The seeker's channel: EMAIL sends email, TEXT sends a text, never both. PHONE means a person calls:
  nothing automated goes to the seeker, while the program and navigator are still told.
Planning writes rows; the delivery worker (resolvers/notify/delivery.py) sends them after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.accounts import User
from db.base import utcnow
from db.events import EventKind, OutboxEvent
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
from db.referrals import Referral, ReferralKind
from db.seekers import ContactPreference, Seeker
from resolvers.policy import referrals as policy
from resolvers.viewer import Viewer

COMMENT_EXCERPT = 500


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


async def _recipients(
    session: AsyncSession, referral: Referral, event_kind: EventKind, actor: Viewer
) -> list[Recipient]:
    if referral.kind is ReferralKind.TRACKING_ONLY or referral.contact_preference is ContactPreference.NONE:
        return []
    seeker = await session.get(Seeker, referral.seeker_id)
    program = await session.get(Program, referral.program_id)
    assert seeker is not None and program is not None
    recipients: list[Recipient] = []
    acting_as = policy.sides(actor, referral)

    if policy.Side.SEEKER not in acting_as:
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
    if tell_program and referral.kind is ReferralKind.LIVE and policy.Side.PROGRAM not in acting_as:
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


def _what_happened(event: OutboxEvent, actor: Viewer) -> dict[str, Any]:
    """The part of the message fixed at the moment of the change, taken from the change's own event."""
    change = event.change
    context: dict[str, Any] = {
        "actor": actor.name,
        "actor_role": actor.role.name,
        "source": event.source.name,
        "version": change.get("version"),
    }
    if event.kind is EventKind.STATUS_CHANGED:
        context.update(status=change["to"], previous=change.get("from"), note=change.get("note"))
    elif event.kind is EventKind.COMMENT_ADDED:
        body = str(change["comment"])
        context["comment"] = body if len(body) <= COMMENT_EXCERPT else body[: COMMENT_EXCERPT - 1] + "…"
    return context


def template_for(event_kind: EventKind, recipient: RecipientKind) -> str:
    return f"{event_kind.name.lower()}_{recipient.name.lower()}"


async def plan_notifications(session: AsyncSession, *, referral: Referral, event: OutboxEvent, actor: Viewer) -> int:
    """Write the messages a change calls for, in the change's own transaction; returns how many will go."""
    event_kind, event_seq = event.kind, event.seq
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
    context = _what_happened(event, actor)
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
    return planned
