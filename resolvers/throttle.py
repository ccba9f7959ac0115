"""Sign-in throttling: failures counted per account and per client address, in the database, with lockouts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.settings import Settings
from db.sign_in import SignInThrottle
from resolvers.errors import RateLimited


@dataclass(frozen=True)
class Key:
    key: str
    limit: int
    refusal: str


def keys_for(settings: Settings, *, email: str, address: str | None) -> list[Key]:
    """The account's key (by email, whether or not it has an account, so neither answer tells) and the address's."""
    keys = [Key(f"account:{email.strip().lower()[:320]}", settings.sign_in_account_failures, "for this account")]
    if address:
        keys.append(Key(f"address:{address[:64]}", settings.sign_in_address_failures, "from your network address"))
    return keys


async def _ensure_rows(session: AsyncSession, keys: list[str]) -> None:
    """Create missing counters without racing a concurrent sign-in for the same key."""
    rows = [{"key": k, "failures": 0, "window_started_at": utcnow(), "locked_until": None} for k in keys]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(insert(SignInThrottle).values(rows).on_conflict_do_nothing(index_elements=["key"]))


async def attempt(session: AsyncSession, settings: Settings, keys: list[Key]) -> RateLimited | None:
    """Count this attempt as a failure until it succeeds; the refusal to raise (once this commits) while a key is locked.

    Counting before the password is checked means that attempts in flight at the same time count
    too: a burst of guesses gets no more tries than the same guesses one after another. The refusal
    is returned, not raised, so that the lockout it may have just set is committed.
    """
    await _ensure_rows(session, [k.key for k in keys])
    rows = {
        row.key: row
        for row in await session.scalars(
            select(SignInThrottle).where(SignInThrottle.key.in_([k.key for k in keys])).with_for_update()
        )
    }
    now = utcnow()
    window = timedelta(seconds=settings.sign_in_window_seconds)
    refused: tuple[float, Key] | None = None
    for key in keys:
        row = rows[key.key]
        if (row.locked_until is not None and row.locked_until <= now) or row.window_started_at <= now - window:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        if row.locked_until is None and row.failures >= key.limit:
            row.locked_until = now + timedelta(seconds=settings.sign_in_lockout_seconds)
        if row.locked_until is not None:
            wait = (row.locked_until - now).total_seconds()
            if refused is None or wait > refused[0]:
                refused = (wait, key)
    if refused is not None:
        wait, key = refused
        minutes = max(1, math.ceil(wait / 60))
        return RateLimited(
            f"Too many failed sign-ins {key.refusal}. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            retry_after=max(1, math.ceil(wait)),
        )
    for key in keys:
        rows[key.key].failures += 1
    return None


async def succeeded(session: AsyncSession, keys: list[Key]) -> None:
    """The password was right: the account starts afresh; the address gets back the try it was charged."""
    account, *others = keys
    await session.execute(delete(SignInThrottle).where(SignInThrottle.key == account.key))
    for key in others:
        await session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key == key.key, SignInThrottle.failures > 0)
            .values(failures=SignInThrottle.failures - 1)
        )
