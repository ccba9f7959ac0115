"""Which open subscriptions may go on: their sign-in session still good, their account and acting membership unchanged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db.settings import Settings
from resolvers.sessions import live_sessions
from resolvers.viewer import Viewer, load_viewers


class Watched(Protocol):
    viewer: Viewer
    session_id: str | None


W = TypeVar("W", bound=Watched)


async def ended(session: AsyncSession, subscribers: Sequence[W], settings: Settings) -> list[W]:
    """The subscribers to close; the others get their viewer as it is now.

    One statement for all the sessions and a fixed few for all the accounts, whatever the number
    of subscribers. A stream closes when its session was signed out, idle too long or expired,
    when its account was disabled, or when the membership it acts in changed (switched, removed):
    the dashboard then reconnects as the user is now.
    """
    good = await live_sessions(session, {s.session_id for s in subscribers if s.session_id is not None}, settings)
    fresh = await load_viewers(session, {s.viewer.user_id for s in subscribers if s.viewer.user_id is not None})
    closing = []
    for subscriber in subscribers:
        user_id = subscriber.viewer.user_id
        viewer = fresh.get(user_id) if user_id is not None else None
        signed_out = subscriber.session_id is not None and subscriber.session_id not in good
        if viewer is None or signed_out or viewer.acting != subscriber.viewer.acting:
            closing.append(subscriber)
        else:
            subscriber.viewer = replace(viewer, operation=subscriber.viewer.operation, session_id=subscriber.session_id)
    return closing
