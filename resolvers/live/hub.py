"""Live updates: the hub that turns committed outbox events into per-subscriber deliveries.

The outbox is the ledger; the bus (resolvers/live/doorbell.py) is only a doorbell that says "read the outbox".
One hub per process reads each new event once, with its referral, and offers it to every
subscriber that may see it. A doorbell lost to a crash or a bus outage is covered by polling,
which is also what publishes events a crashed process committed but never announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from db.base import utcnow
from db.engine import Database
from db.leader import Leadership
from db.events import OutboxEvent, SubjectType
from db.idempotency import prune_expired_keys
from db.referrals import REFERRAL_LOAD, Referral
from db.settings import Settings
from resolvers import audit
from resolvers.errors import RateLimited, Unauthenticated
from resolvers.live import access
from resolvers.live.doorbell import doorbell_for
from resolvers.live.mailbox import Mailbox
from resolvers.live.outbox import events_after, latest_seq, oldest_seq, prune_events
from resolvers.policy import audience
from resolvers.policy import referrals as referral_policy
from resolvers.viewer import Viewer, load_viewers

log = logging.getLogger(__name__)

RESYNC = "RESYNC"
# Internal only: the subscriber's account was disabled or removed; its stream ends.
REVOKED = "REVOKED"
BATCH = 500
PRUNE_EVERY_SECONDS = 3600
# Pushes whose audit rows could not be written are retried on the next round, up to this many.
MAX_PENDING_PUSHES = 100_000
# Fresh referrals kept for the dispatch (LiveHub.committed); past this the oldest are read again instead.
FRESH_KEPT = 256


@dataclass(frozen=True)
class Delivery:
    """One event as pushed: what happened, and the referral as it is now; neither for RESYNC ("refetch your page").

    An event about another subject (a CE event, a vacancy, the priority list) has its event and no referral.
    """

    seq: int
    kind: str
    at: datetime
    referral: Referral | None
    event: OutboxEvent | None = None
    # Whatever the API layer builds from this delivery once and shares between subscribers.
    shared: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


# Whether a subscriber is offered an event about a subject other than a referral (the policy says).
OtherSubjects = Callable[[Viewer, OutboxEvent], bool]


class Sink(Protocol):
    """A socket's subscription that takes rendered frames straight from the hub, with no generator per event.

    Sinks with equal keys render every delivery to the same payload: the hub renders it once for all of them.
    """

    @property
    def key(self) -> Hashable: ...

    def render(self, delivery: Delivery) -> str | Awaitable[str]:
        """The delivery as this subscription's payload, encoded."""

    def send(self, payload: str) -> bool:
        """Queue the payload on the socket; False if the socket's queue is full for this subscription."""

    def send_always(self, payload: str) -> None:
        """Queue the payload even past the bound (RESYNC, the only frame left after dropping the backlog)."""

    def discard(self) -> None:
        """Drop what is queued for this subscription and not written yet."""

    def revoke(self, error: Unauthenticated) -> None:
        """End the subscription with `error`: the hub holds it alone by now (see HandedOver)."""


class HandedOver(BaseException):
    """Raised by referral_changes once the hub sends a subscription's events to its sink itself.

    The generator, and the task that ran it, then end: an idle subscription is its Subscriber and
    its sink, not a suspended chain of coroutines. Whoever ran the operation catches this and keeps
    `end`, which ends the subscription when the client completes it or the socket closes
    (web/graphql.py). A BaseException, so that no layer between (graphql-core, strawberry) takes it
    for an error to report.
    """

    def __init__(self, end: Callable[[], None]) -> None:
        super().__init__()
        self.end = end


def access_changed() -> Unauthenticated:
    """How a subscription ends when its viewer's access has changed (REVOKED)."""
    return Unauthenticated("Your access has changed since this page opened. Please sign in again.")


class _Key:
    """A tuple hashed once: the hub looks it up for every subscriber and event."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: tuple[object, ...]) -> None:
        self.value = value
        self._hash = hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, _Key) and self._hash == other._hash and self.value == other.value)


class Subscriber:
    """One subscription's view of the stream, with a bounded queue so it can never hold up the rest."""

    def __init__(
        self,
        viewer: Viewer,
        *,
        program_id: int | None,
        queue_size: int,
        action: referral_policy.Action,
        others: OtherSubjects | None = None,
        operation: str = "",
    ) -> None:
        self.program_id = program_id
        # READ for the dashboards' stream; SHOW_ON_WALL for the wall's summary stream.
        self.action = action
        self.viewer = viewer
        # The sign-in session it was opened under: it closes when that session ends.
        self.session_id = viewer.session_id
        # The subscription as the audit log names it ("subscription Inbound.referralChanged").
        self.operation = operation
        self.others = others
        self.queue: Mailbox[Delivery] = Mailbox(queue_size)
        self.resyncs = 0
        # Set once the subscription has caught up: the hub then renders and sends its events itself,
        # and the queue only carries REVOKED. `last` is the newest sequence number it was sent.
        self.sink: Sink | None = None
        self.last = 0

    @property
    def viewer(self) -> Viewer:
        return self._viewer

    @viewer.setter
    def viewer(self, viewer: Viewer) -> None:
        self._viewer = viewer
        # Viewers with equal audiences get the same answer from every rule (resolvers/policy):
        # subscribers with equal keys want the same referral events.
        self.audience_key = _Key(audience(viewer))
        self.wants_key = _Key((self.audience_key, self.program_id, self.action))

    def wants(self, referral: Referral) -> bool:
        if self.program_id is not None and referral.program_id != self.program_id:
            return False
        return referral_policy.may(self.viewer, self.action, referral)

    def wants_delivery(self, delivery: Delivery) -> bool:
        if delivery.referral is not None:
            return self.wants(delivery.referral)
        return self.others is not None and delivery.event is not None and self.others(self.viewer, delivery.event)

    def detach(self) -> Sink | None:
        """Take the sink off (the hub sends it nothing more), with what its socket has not written yet."""
        sink, self.sink = self.sink, None
        if sink is not None:
            sink.discard()
        return sink

    def revoke(self) -> None:
        sink = self.detach()
        if sink is not None:
            sink.revoke(access_changed())
            return
        self.queue.clear()
        self.queue.put_nowait(Delivery(seq=0, kind=REVOKED, at=utcnow(), referral=None))

    def offer(self, delivery: Delivery) -> bool:
        """Queue the delivery; False if the subscriber was too far behind and is told to refetch instead."""
        try:
            self.queue.put_nowait(delivery)
            return True
        except asyncio.QueueFull:
            # Too far behind to catch up event by event: drop the backlog and tell it to refetch.
            self.queue.clear()
            self.resyncs += 1
            self.queue.put_nowait(Delivery(seq=delivery.seq, kind=RESYNC, at=utcnow(), referral=None))
            return False

    @property
    def audited(self) -> bool:
        """Whether what it is pushed shows a seeker's data: the wall's stream shows initials only."""
        return self.action is referral_policy.Action.READ


def push_touches(offered: Sequence[tuple[Subscriber, Delivery]]) -> list[audit.Push]:
    """The audit rows of referral events pushed to subscribers; the scopes asked once per audience and event."""
    touches: dict[tuple[object, ...], audit.Touch] = {}
    pushes = []
    for subscriber, delivery in offered:
        referral = delivery.referral
        if referral is None or not subscriber.audited:
            continue
        viewer = subscriber.viewer
        key = (subscriber.audience_key, delivery.seq)
        touch = touches.get(key)
        if touch is None:
            touch = touches[key] = audit.referral_touch(viewer, referral)
        pushes.append(audit.Push(viewer=viewer, operation=subscriber.operation, touch=touch))
    return pushes


def delivery_of(event: OutboxEvent, referral: Referral) -> Delivery:
    return Delivery(seq=event.seq, kind=event.kind.name, at=event.at, referral=referral, event=event)


async def _with_referrals(
    db: Database, events: Sequence[OutboxEvent], fresh: Mapping[int, Referral] | None = None
) -> list[Delivery]:
    """Each referral event with its referral, loaded once for the whole batch; other subjects' events as they are.

    A referral that `fresh` holds as of its newest event in the batch is taken from there, not read.
    """
    newest = {e.subject_id: e.seq for e in events if e.subject_type is SubjectType.REFERRAL}
    referrals: dict[int, Referral] = {}
    for referral_id, seq in newest.items():
        known = fresh.get(seq) if fresh is not None else None
        if known is not None and known.id == referral_id:
            referrals[referral_id] = known
    if missing := newest.keys() - referrals.keys():
        async with db.read() as session:
            rows = await session.scalars(select(Referral).where(Referral.id.in_(missing)).options(*REFERRAL_LOAD))
            referrals.update((r.id, r) for r in rows.unique())
    return [
        delivery_of(e, referrals[e.subject_id])
        if e.subject_type is SubjectType.REFERRAL
        else Delivery(seq=e.seq, kind=e.kind.name, at=e.at, referral=None, event=e)
        for e in events
        if e.subject_type is not SubjectType.REFERRAL or e.subject_id in referrals
    ]


class LiveHub:
    def __init__(self, db: Database, settings: Settings, *, leadership: Leadership | None = None) -> None:
        self.db = db
        self.settings = settings
        # The newest event this process's hub has dispatched (not the database's newest: see committed_seq).
        self.last_seq = 0
        self.doorbell = doorbell_for(settings.broadcast_url)
        # Only the leader prunes the outbox; without one (a single process), this hub does.
        self.leadership = leadership
        self._subscribers: set[Subscriber] = set()
        # Live subscriptions per user, for the cap: counted as they come and go, since counting
        # them over every subscriber made each new one cost as much as all before it.
        self._per_user: Counter[int] = Counter()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._last_prune = 0.0
        self._last_refresh = 0.0
        self._pushes: list[audit.Push] = []
        # This process's own changes' referrals as their transactions left them, by event number
        # (see committed); dropped once dispatched.
        self._fresh: dict[int, Referral] = {}

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        await self.doorbell.connect()
        async with self.db.read() as session:
            self.last_seq = await latest_seq(session)
        listening = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._listen(listening), name="referloop-live-listen"),
            asyncio.create_task(self._dispatch_forever(), name="referloop-live-dispatch"),
        ]
        await listening.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # As in DeliveryWorker.stop: only the tasks' own cancellation is swallowed.
            await asyncio.wait(self._tasks)
        self._tasks = []
        await self.doorbell.disconnect()

    async def ring(self) -> None:
        """Say that new events are committed; every process's hub then reads the outbox."""
        try:
            await self.doorbell.ring()
        except Exception:  # noqa: BLE001 - the relay's polling delivers what the doorbell could not
            log.exception("could not publish to the event bus; relying on polling")
            self._wake.set()

    def register(
        self,
        viewer: Viewer,
        *,
        program_id: int | None,
        action: referral_policy.Action,
        others: OtherSubjects | None = None,
        operation: str = "",
    ) -> tuple[Subscriber, int]:
        """A new subscriber, and the last sequence number dispatched before it joined; RATE_LIMITED past the user's cap."""
        user_id = viewer.user_id
        if user_id is not None and self._per_user[user_id] >= self.settings.max_subscriptions_per_user:
            raise RateLimited(
                f"You have {self.settings.max_subscriptions_per_user} live subscriptions open already; "
                "close some pages or tabs and try again."
            )
        subscriber = Subscriber(
            viewer,
            program_id=program_id,
            queue_size=self.settings.subscriber_queue_size,
            action=action,
            others=others,
            operation=operation,
        )
        self._subscribers.add(subscriber)
        if user_id is not None:
            self._per_user[user_id] += 1
        return subscriber, self.last_seq

    def end(self, subscriber: Subscriber) -> None:
        """The subscription is over: out of the hub, with what its socket has not written yet dropped."""
        self.unregister(subscriber)
        subscriber.detach()

    def unregister(self, subscriber: Subscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)
            user_id = subscriber.viewer.user_id
            if user_id is not None:
                self._per_user[user_id] -= 1
                if self._per_user[user_id] <= 0:
                    del self._per_user[user_id]

    def committed(self, referral: Referral, seqs: Sequence[int]) -> None:
        """`referral` as the committed transaction that recorded events `seqs` left it (loaded as REFERRAL_LOAD loads)."""
        for seq in seqs:
            if seq > self.last_seq:  # else dispatched already, from the database
                self._fresh[seq] = referral
        while len(self._fresh) > FRESH_KEPT:
            del self._fresh[next(iter(self._fresh))]

    def recheck_soon(self) -> None:
        """Check every subscriber's session and access on the next round (after a sign-out or a switch here)."""
        self._last_refresh = float("-inf")
        self._wake.set()

    async def _listen(self, listening: asyncio.Event) -> None:
        # The doorbell reconnects by itself and rings once each time it is back (resolvers/live/doorbell.py).
        await self.doorbell.listen(self._wake.set, listening)

    async def _dispatch_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that arrives
            # as the doorbell rings, and stop() would then wait on this loop forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.relay_interval_seconds):
                    await self._wake.wait()
            self._wake.clear()
            try:
                if loop.time() - self._last_refresh > self.settings.viewer_refresh_seconds:
                    self._last_refresh = loop.time()
                    await self._refresh_viewers()
                await self._dispatch_new()
                leads = self.leadership is None or self.leadership.is_leader
                if leads and loop.time() - self._last_prune > PRUNE_EVERY_SECONDS:
                    self._last_prune = loop.time()
                    async with self.db.write() as session:
                        await prune_events(session, retention_days=self.settings.outbox_retention_days)
                        await prune_expired_keys(session)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a failed round is retried on the next doorbell or poll
                log.exception("live dispatch failed")

    async def _refresh_viewers(self) -> None:
        """Close the streams whose session ended or whose access changed (resolvers/live/access.py)."""
        subscribers = list(self._subscribers)
        if not subscribers:
            return
        async with self.db.read() as session:
            for subscriber in await access.ended(session, subscribers, self.settings):
                subscriber.revoke()

    async def _dispatch_new(self) -> None:
        # Half a queue per round, then a pause, so a consumer that keeps up is never overrun by a burst.
        batch = max(1, min(BATCH, self.settings.subscriber_queue_size // 2))
        while True:
            async with self.db.read() as session:
                events = await events_after(session, self.last_seq, limit=batch)
            if not events:
                return
            await self._dispatch(events)
            if len(events) < batch:
                return
            await asyncio.sleep(0)

    async def _dispatch(self, events: Sequence[OutboxEvent]) -> None:
        """One batch to every subscriber that may see it; what it held (sinks, referrals) goes when it returns."""
        deliveries = await _with_referrals(self.db, events, self._fresh)
        for event in events:
            self._fresh.pop(event.seq, None)
        # No await from here until last_seq is set: a subscriber registering meanwhile sees either
        # all of this batch live or none of it (and then replays it).
        offered: list[tuple[Subscriber, Delivery]] = []
        to_sinks: list[tuple[Subscriber, Sink, Delivery]] = []
        for delivery in deliveries:
            referral = delivery.referral
            # Authorized for each event as it is pushed, once per audience rather than once per socket.
            decided: dict[_Key, bool] = {}
            for subscriber in self._subscribers:
                if referral is not None:
                    wanted = decided.get(subscriber.wants_key)
                    if wanted is None:
                        wanted = decided[subscriber.wants_key] = subscriber.wants(referral)
                else:
                    wanted = subscriber.wants_delivery(delivery)
                if not wanted:
                    continue
                sink = subscriber.sink
                if sink is not None:
                    to_sinks.append((subscriber, sink, delivery))
                elif subscriber.offer(delivery):
                    offered.append((subscriber, delivery))
        self.last_seq = events[-1].seq
        if to_sinks:
            offered += await _send_to_sinks(to_sinks)
            await asyncio.sleep(0)  # the sockets' writers start on what was queued before the audit's work
        # Then the audit of the whole fan-out: one short transaction, while the sockets send.
        await self.record_pushes(push_touches(offered))

    async def record_pushes(self, pushes: list[audit.Push]) -> None:
        """Write the pushes' audit rows; if the database refuses now, they wait for the next round."""
        # Taken before the await: a replay may record at the same time as the dispatcher.
        pending, self._pushes = self._pushes + pushes, []
        if not pending:
            return
        try:
            await audit.record_pushes(self.db, pending)
        except Exception:  # noqa: BLE001 - the rows are kept and written with the next fan-out
            log.exception("could not record %d pushes in the audit log; retrying with the next round", len(pending))
            self._pushes = (pending + self._pushes)[-MAX_PENDING_PUSHES:]

    def attach(self, subscriber: Subscriber, sink: Sink, last: int) -> None:
        """From now on the hub sends the subscriber's events to the sink (its queue must be empty)."""
        subscriber.last = last
        subscriber.sink = sink

    async def replay(self, subscriber: Subscriber, *, after_seq: int, upto: int) -> AsyncIterator[Delivery]:
        """What the subscriber missed in (after_seq, upto], or one RESYNC if that is out of the window."""
        async with self.db.read() as session:
            oldest = await oldest_seq(session)
        if oldest is not None and after_seq < oldest - 1:
            yield Delivery(seq=upto, kind=RESYNC, at=utcnow(), referral=None)
            return
        cursor = after_seq
        while cursor < upto:
            async with self.db.read() as session:
                events = await events_after(session, cursor, upto=upto, limit=BATCH)
            if not events:
                return
            replayed = []
            for delivery in await _with_referrals(self.db, events):
                if subscriber.wants_delivery(delivery):
                    replayed.append((subscriber, delivery))
            # Recorded before they are handed out: a replay is a push too.
            await self.record_pushes(push_touches(replayed))
            for _, delivery in replayed:
                yield delivery
            cursor = events[-1].seq


async def _send_to_sinks(to_sinks: Sequence[tuple[Subscriber, Sink, Delivery]]) -> list[tuple[Subscriber, Delivery]]:
    """Render each delivery once per sink key and queue it on every socket, in order; the pushes made.

    A subscription whose socket queue is full has its backlog dropped and is told to refetch (RESYNC),
    as a queued subscriber is; a revoked or closed one (no sink any more) is skipped.
    """
    payloads: dict[tuple[int, str, Hashable], str] = {}
    sent: list[tuple[Subscriber, Delivery]] = []

    async def payload_of(sink: Sink, delivery: Delivery) -> str:
        key = (delivery.seq, delivery.kind, sink.key)
        payload = payloads.get(key)
        if payload is None:
            rendered = sink.render(delivery)
            payload = payloads[key] = await rendered if inspect.isawaitable(rendered) else rendered
        return payload

    for subscriber, sink, delivery in to_sinks:
        payload = payloads.get((delivery.seq, delivery.kind, sink.key))
        if payload is None:
            payload = await payload_of(sink, delivery)
        # Rendering may have awaited: the subscription may have ended or been revoked meanwhile.
        if subscriber.sink is not sink or delivery.seq <= subscriber.last:
            continue
        if sink.send(payload):
            subscriber.last = delivery.seq
            sent.append((subscriber, delivery))
            continue
        sink.discard()
        subscriber.resyncs += 1
        resync = Delivery(seq=delivery.seq, kind=RESYNC, at=utcnow(), referral=None)
        resync_payload = await payload_of(sink, resync)
        if subscriber.sink is sink:
            sink.send_always(resync_payload)
            subscriber.last = delivery.seq
    return sent


async def referral_changes(
    hub: LiveHub,
    viewer: Viewer,
    *,
    after_seq: int | None,
    program_id: int | None = None,
    action: referral_policy.Action = referral_policy.Action.READ,
    others: OtherSubjects | None = None,
    operation: str = "",
    sink: Sink | None = None,
) -> AsyncGenerator[Delivery, None]:
    """Replay what the viewer missed after `after_seq`, then stream, each event once and in order.

    Events about other subjects than referrals come only to a subscriber with `others`, as it says.
    With a `sink`, once the replay and whatever queued up meanwhile are yielded, the hub sends the
    live events to the sink itself and this generator raises HandedOver: the subscription lives on
    in the hub, and the sink is told if it is revoked.
    """
    subscriber, joined_at = hub.register(viewer, program_id=program_id, action=action, others=others, operation=operation)
    handed_over = False
    try:
        last = joined_at if after_seq is None else max(joined_at, after_seq)
        if after_seq is not None:
            async for delivery in hub.replay(subscriber, after_seq=after_seq, upto=joined_at):
                yield delivery
        while True:
            if sink is not None and subscriber.queue.empty():
                # No await between the check and this: nothing offered to the queue can be left behind.
                hub.attach(subscriber, sink, last)
                handed_over = True
                raise HandedOver(lambda: hub.end(subscriber))
            delivery = await subscriber.queue.get()
            if delivery.kind == REVOKED:
                raise access_changed()
            if delivery.kind != RESYNC and delivery.seq <= last:
                continue
            last = max(last, delivery.seq)
            yield delivery
    finally:
        if not handed_over:
            hub.end(subscriber)
