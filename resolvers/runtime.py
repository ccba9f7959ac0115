"""What every resolver needs from the running application: settings, the database, the live hub."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from db.engine import Database
from db.settings import Settings

if TYPE_CHECKING:
    from resolvers.delivery import DeliveryWorker
    from resolvers.live import LiveHub


@dataclass
class Runtime:
    settings: Settings
    db: Database
    live: LiveHub
    # Sends notifications from this process unless NOTIFICATIONS_WORKER=0 (then `referloop worker` does).
    delivery: DeliveryWorker | None = None

    @classmethod
    def create(cls, settings: Settings) -> "Runtime":
        from resolvers.live import LiveHub

        db = Database(settings.database_url, echo=settings.sql_echo)
        return cls(settings=settings, db=db, live=LiveHub(db, settings))

    async def start(self) -> None:
        await self.live.start()
        if self.settings.notifications_worker:
            from resolvers.delivery import DeliveryWorker

            self.delivery = DeliveryWorker(self)
            await self.delivery.start()

    async def stop(self) -> None:
        if self.delivery is not None:
            await self.delivery.stop()
        await self.live.stop()
        await self.db.dispose()
