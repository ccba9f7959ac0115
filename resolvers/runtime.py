"""What every resolver needs from the running application: settings, the database, the live hub, the senders."""

from __future__ import annotations

from dataclasses import dataclass, field

from db.engine import Database
from db.leader import Leadership
from db.settings import Settings
from resolvers.live.hub import LiveHub
from resolvers.notify.delivery import DeliveryWorker
from resolvers.rate_limit import CostBuckets, rates_of
from resolvers.sessions import RecentTouches


@dataclass
class Runtime:
    settings: Settings
    db: Database
    live: LiveHub
    # Which process prunes the outbox and composes digests (db/leader.py); every process sends.
    leadership: Leadership
    # Sends notifications from this process unless NOTIFICATIONS_WORKER=0 (then `referloop worker` does).
    delivery: DeliveryWorker | None = None
    # What each caller may still spend (resolvers/rate_limit.py), in this process.
    rate_limits: CostBuckets = field(init=False)
    # Sign-in sessions this process has marked as used lately (resolvers/sessions.py).
    session_touches: RecentTouches = field(default_factory=RecentTouches)

    def __post_init__(self) -> None:
        self.rate_limits = CostBuckets(rates_of(self.settings))

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        db = Database(settings.database_url, echo=settings.sql_echo, statement_timeout=settings.statement_timeout_seconds)
        leadership = Leadership(db)
        return cls(settings=settings, db=db, live=LiveHub(db, settings, leadership=leadership), leadership=leadership)

    async def start(self) -> None:
        await self.leadership.start()
        await self.live.start()
        if self.settings.notifications_worker:
            self.delivery = DeliveryWorker(self.settings, self.db, leadership=self.leadership)
            await self.delivery.start()

    async def announce(self) -> None:
        """After a commit: every hub reads the new events; this process's sender looks for new messages."""
        await self.live.ring()
        if self.delivery is not None:
            self.delivery.ring()

    async def stop(self) -> None:
        if self.delivery is not None:
            await self.delivery.stop()
        await self.live.stop()
        await self.leadership.stop()
        await self.db.dispose()
