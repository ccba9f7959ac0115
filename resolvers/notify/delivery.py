"""The delivery worker: sends what the notification outbox holds, each message once.

One round: claim due rows in a short transaction (PENDING and due, or SENDING with an expired lease),
send them, then record each outcome. A claim is a lease: status SENDING, `lease_until` and the
worker's id, with `attempts` counted at the claim, so a message that crashes its worker still runs out
of attempts. Outcomes are written only while the lease is still this worker's.

Delivery is at least once, with duplicates confined to one narrow window: a worker that dies after
the SMTP server accepted a message but before it recorded SENT. Its lease then expires and the
message goes again with the same Message-ID (and the same Idempotency-Key towards the SMS provider,
and the same file name in the local folders), so receivers can drop the copy. Every other crash
(before the claim, between the claim and the send, during the send) sends exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.events import EventKind
from db.notifications import Channel, DigestEntry, Notification, NotificationStatus, RecipientKind
from db.settings import Settings
from db.engine import Database
from db.leader import Leadership
from resolvers.notify.channels import Email, Mailer, SendError, SmsProvider, mailer_for, sms_for
from resolvers.notify.messages import render

log = logging.getLogger(__name__)

BATCH = 50
# Messages of a batch go out over this many connections at once, each recorded as soon as it is sent.
LANES = 4
MAX_BACKOFF_SECONDS = 6 * 3600.0


@dataclass(frozen=True)
class RoundResult:
    claimed: int
    sent: int
    retried: int
    failed: int


def backoff_seconds(settings: Settings, attempts: int) -> float:
    """Wait after the n-th failed attempt: base, 2x base, 4x base... capped."""
    return float(min(settings.notification_retry_seconds * (2 ** max(0, attempts - 1)), MAX_BACKOFF_SECONDS))


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Notification.status == NotificationStatus.PENDING, Notification.next_attempt_at <= now),
        and_(Notification.status == NotificationStatus.SENDING, Notification.lease_until < now),
    )


async def claim(session: AsyncSession, *, worker_id: str, lease_seconds: float, limit: int = BATCH) -> list[Notification]:
    """Lease up to `limit` due notifications to this worker, oldest first."""
    now = utcnow()
    candidates = select(Notification.id).where(_due(now)).order_by(Notification.next_attempt_at, Notification.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list((await session.scalars(candidates)).all())
    if not ids:
        return []
    await session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), _due(now))
        .values(
            status=NotificationStatus.SENDING,
            lease_until=now + timedelta(seconds=lease_seconds),
            claimed_by=worker_id,
            attempts=Notification.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    rows = await session.scalars(
        select(Notification)
        .where(Notification.id.in_(ids), Notification.claimed_by == worker_id, Notification.status == NotificationStatus.SENDING)
        .order_by(Notification.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def compose_digests(session: AsyncSession, *, interval_seconds: float) -> int:
    """Turn waiting digest entries into one notification per program address, at most one per interval."""
    now = utcnow()
    waiting = (
        await session.execute(
            select(DigestEntry.program_id, DigestEntry.address, func.min(DigestEntry.id))
            .where(DigestEntry.notification_id.is_(None))
            .group_by(DigestEntry.program_id, DigestEntry.address)
        )
    ).all()
    made = 0
    for program_id, address, first_id in waiting:
        last = await session.scalar(
            select(func.max(Notification.created_at))
            .join(DigestEntry, DigestEntry.notification_id == Notification.id)
            .where(DigestEntry.program_id == program_id, DigestEntry.address == address)
        )
        if last is not None and (now - last).total_seconds() < interval_seconds:
            continue
        entries = (
            await session.scalars(
                select(DigestEntry).where(
                    DigestEntry.program_id == program_id, DigestEntry.address == address, DigestEntry.notification_id.is_(None)
                ).order_by(DigestEntry.id)
            )
        ).all()
        notification = Notification(
            idempotency_key=f"digest:{program_id}:{address}:{first_id}",
            referral_id=None,
            event_seq=None,
            event=EventKind.CREATED,
            template="digest_program",
            recipient_kind=RecipientKind.PROGRAM,
            address=address,
            channel=Channel.EMAIL,
            context={"program_id": program_id, "referral_ids": [e.referral_id for e in entries]},
            status=NotificationStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(notification)
        await session.flush()
        for entry in entries:
            entry.notification_id = notification.id
        made += 1
    return made


class DeliveryWorker:
    """Claims, sends and records; one per process that sends (the web app's, or `referloop worker`)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        mailer: Mailer | None = None,
        sms: SmsProvider | None = None,
        worker_id: str | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self.settings = settings
        # Claims are leases, safe in every process; only the leader composes digests (none: this one does).
        self.leadership = leadership
        self.db = db
        self.mailers = [mailer] if mailer else [mailer_for(settings) for _ in range(LANES)]
        self.sms = sms or sms_for(settings)
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_digest_check = 0.0

    def ring(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run_forever(), name=f"referloop-delivery-{self.worker_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            # wait() rather than await: the task's own cancellation is expected, but a cancellation
            # of whoever is stopping us (a server shutting down) must still reach them.
            await asyncio.wait([self._task])
            self._task = None
        for mailer in self.mailers:
            await mailer.close()
        await self.sms.close()

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                leads = self.leadership is None or self.leadership.is_leader
                if leads and loop.time() - self._last_digest_check >= min(60.0, self.settings.digest_interval_seconds / 4):
                    self._last_digest_check = loop.time()
                    async with self.db.write() as session:
                        await compose_digests(session, interval_seconds=self.settings.digest_interval_seconds)
                while (await self.run_once()).claimed:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a failed round is tried again on the next poll
                log.exception("notification delivery round failed")
            # asyncio.timeout, not wait_for, which can swallow a cancellation on Python 3.11 (as in the hub).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.notification_poll_seconds):
                    await self._wake.wait()
            self._wake.clear()

    async def run_once(self) -> RoundResult:
        """Claim one batch, send it, record the outcomes."""
        async with self.db.write() as session:
            claimed = await claim(session, worker_id=self.worker_id, lease_seconds=self.settings.notification_lease_seconds)
        queue = list(reversed(claimed))
        outcomes: list[NotificationStatus] = []

        async def lane(mailer: Mailer) -> None:
            while queue:
                outcomes.append(await self._deliver(queue.pop(), mailer))
            await mailer.close()

        if claimed:
            await asyncio.gather(*(lane(m) for m in self.mailers))
        return RoundResult(
            claimed=len(claimed),
            sent=outcomes.count(NotificationStatus.SENT),
            retried=outcomes.count(NotificationStatus.PENDING),
            failed=outcomes.count(NotificationStatus.FAILED),
        )

    async def _deliver(self, notification: Notification, mailer: Mailer) -> NotificationStatus:
        try:
            async with self.db.read() as session:
                message = await render(session, self.settings, notification)
            if message is None:
                raise SendError("what this message was about no longer exists", permanent=True)
            if isinstance(message, Email):
                provider_id = await mailer.send(message)
            else:
                provider_id = await self.sms.send(message)
        except SendError as error:
            return await self._failed(notification, str(error), permanent=error.permanent)
        except Exception as error:  # noqa: BLE001 - a bug in rendering must not stop the other messages
            log.exception("could not send notification %s", notification.id)
            return await self._failed(notification, f"{type(error).__name__}: {error}", permanent=False)
        await self._record(notification, status=NotificationStatus.SENT, sent_at=utcnow(), provider_id=provider_id, last_error=None)
        return NotificationStatus.SENT

    async def _failed(self, notification: Notification, reason: str, *, permanent: bool) -> NotificationStatus:
        if permanent or notification.attempts >= self.settings.notification_max_attempts:
            suffix = "" if permanent else f" (gave up after {notification.attempts} attempts)"
            await self._record(notification, status=NotificationStatus.FAILED, last_error=reason + suffix)
            return NotificationStatus.FAILED
        wait = backoff_seconds(self.settings, notification.attempts)
        await self._record(
            notification,
            status=NotificationStatus.PENDING,
            next_attempt_at=utcnow() + timedelta(seconds=wait),
            last_error=reason,
        )
        return NotificationStatus.PENDING

    async def _record(self, notification: Notification, *, status: NotificationStatus, **values: object) -> None:
        async with self.db.write() as session:
            # An UPDATE without RETURNING gives a CursorResult; Session.execute is typed as the base Result.
            result = cast(
                "CursorResult[Any]",
                await session.execute(
                    update(Notification)
                    .where(
                        Notification.id == notification.id,
                        Notification.status == NotificationStatus.SENDING,
                        Notification.claimed_by == self.worker_id,
                    )
                    .values(status=status, lease_until=None, **values)
                    .execution_options(synchronize_session=False)
                ),
            )
        if result.rowcount != 1:
            log.warning("notification %s: lease lost before recording %s", notification.id, status.name)
