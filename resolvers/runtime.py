"""What every resolver needs from the running application: settings, the database, the live hub."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from db.engine import Database
from db.settings import Settings

if TYPE_CHECKING:
    from resolvers.live import LiveHub


@dataclass
class Runtime:
    settings: Settings
    db: Database
    live: LiveHub

    @classmethod
    def create(cls, settings: Settings) -> "Runtime":
        from resolvers.live import LiveHub

        db = Database(settings.database_url, echo=settings.sql_echo)
        return cls(settings=settings, db=db, live=LiveHub(db, settings))

    async def start(self) -> None:
        await self.live.start()

    async def stop(self) -> None:
        await self.live.stop()
        await self.db.dispose()
