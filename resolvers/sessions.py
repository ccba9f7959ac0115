"""Signed-in sessions: created at sign-in, ended by sign-out, by the idle timeout or by the token's expiry."""

from __future__ import annotations

import secrets
import time
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.settings import Settings
from db.sign_in import SignInSession
from resolvers.errors import Unauthenticated

# A request bumps its session's last use at most this often, so reads stay reads.
TOUCH_EVERY_SECONDS = 60.0


class RecentTouches:
    """The sessions this process has bumped lately: a bump already made or under way is not made again.

    A dashboard reconnecting its tabs, or a thousand sockets of one account opening at once, all
    find the session's last use stale at the same moment; without this each would write the same
    row, one write transaction after another.
    """

    # Past this many, those older than the touch interval are forgotten (a bounded map).
    LIMIT = 10_000

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def claim(self, session_id: str, interval: float) -> bool:
        """True when this caller should bump `session_id` now; then nobody else here will for `interval` seconds."""
        now = time.monotonic()
        last = self._at.get(session_id)
        if last is not None and now - last < interval:
            return False
        if len(self._at) >= self.LIMIT:
            self._at = {k: t for k, t in self._at.items() if now - t < interval}
        self._at[session_id] = now
        return True


def touch_interval(settings: Settings) -> float:
    """How often a session's last use is bumped: a minute, or a tenth of a short idle timeout."""
    return min(TOUCH_EVERY_SECONDS, settings.session_idle_seconds / 10)


def new_session(user_id: int, settings: Settings) -> SignInSession:
    now = utcnow()
    return SignInSession(
        id=secrets.token_urlsafe(24),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=settings.token_ttl_seconds),
        revoked_at=None,
    )


def why_ended(row: SignInSession | None, settings: Settings, now: datetime) -> str | None:
    """Why a session may no longer be used, in words for the person; None while it is good."""
    if row is None or row.revoked_at is not None:
        return "You have signed out. Please sign in again."
    if row.expires_at <= now:
        return "Your sign-in has expired. Please sign in again."
    if row.last_seen_at <= now - timedelta(seconds=settings.session_idle_seconds):
        minutes = max(1, settings.session_idle_seconds // 60)
        return f"You were signed out after {minutes} minutes without activity. Please sign in again."
    return None


async def check_session(session: AsyncSession, session_id: str, user_id: int, settings: Settings) -> bool:
    """Raise UNAUTHENTICATED if the session has ended; True when its last use is stale enough to bump."""
    row = await session.get(SignInSession, session_id)
    now = utcnow()
    reason = why_ended(row if row is None or row.user_id == user_id else None, settings, now)
    if reason is not None:
        raise Unauthenticated(reason)
    assert row is not None
    return row.last_seen_at <= now - timedelta(seconds=touch_interval(settings))


async def touch(session: AsyncSession, session_id: str) -> None:
    await session.execute(update(SignInSession).where(SignInSession.id == session_id).values(last_seen_at=utcnow()))


async def revoke(session: AsyncSession, session_ids: Collection[str]) -> None:
    await session.execute(
        update(SignInSession)
        .where(SignInSession.id.in_(session_ids), SignInSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_others(session: AsyncSession, user_id: int, *, keep: str | None) -> None:
    """End every session of the user but `keep` (after a password change)."""
    query = update(SignInSession).where(SignInSession.user_id == user_id, SignInSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(SignInSession.id != keep)
    await session.execute(query.values(revoked_at=utcnow()))


async def live_sessions(session: AsyncSession, session_ids: Collection[str], settings: Settings) -> set[str]:
    """Which of these sessions may still be used: one statement for all of them."""
    if not session_ids:
        return set()
    now = utcnow()
    rows = await session.scalars(
        select(SignInSession.id).where(
            SignInSession.id.in_(session_ids),
            SignInSession.revoked_at.is_(None),
            SignInSession.expires_at > now,
            SignInSession.last_seen_at > now - timedelta(seconds=settings.session_idle_seconds),
        )
    )
    return set(rows)
