"""Signing in and out, tokens, passwords, and choosing the organization a user acts for."""

from __future__ import annotations

import asyncio
import dataclasses
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import jwt
from sqlalchemy import func, select, update

from db.accounts import Membership, Organization, Role, Site, User
from db.sign_in import SignInSession
from resolvers import sessions, throttle
from resolvers.errors import BadInput, Conflict, NotFound, Unauthenticated
from resolvers.passwords import check_password, hash_password, verify_password
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer, load_viewer

TOKEN_ALGORITHM = "HS256"
NO_MATCH = "That email and password don't match an account."
# Sign-in transactions at once per process: a burst of sign-ins (which all count against the same
# address's row, so they take turns anyway) must never take the pool's connections from everyone else.
SIGN_IN_SLOTS = 4
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def _sign_in_slot() -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(SIGN_IN_SLOTS)
    async with slots:
        yield


def _token(runtime: Runtime, row: SignInSession) -> str:
    claims = {"sub": str(row.user_id), "sid": row.id, "iat": row.created_at, "exp": row.expires_at}
    return jwt.encode(claims, runtime.settings.secret_key, algorithm=TOKEN_ALGORITHM)


def claims_of(runtime: Runtime, token: str) -> tuple[int, str]:
    """The user id and session id a token names; UNAUTHENTICATED if it is forged, malformed or past its expiry."""
    try:
        claims = jwt.decode(
            token, runtime.settings.secret_key, algorithms=[TOKEN_ALGORITHM], options={"require": ["exp", "sub", "sid"]}
        )
        return int(claims["sub"]), str(claims["sid"])
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Your sign-in has expired. Please sign in again.") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthenticated("That sign-in token is not valid. Please sign in again.") from None


async def log_in(runtime: Runtime, *, email: str, password: str, address: str | None = None) -> str:
    """A token for valid credentials; the same error whether the email or the password is wrong.

    Throttled per account and per client address: RATE_LIMITED while either is locked out, the
    right password included.
    """
    keys = throttle.keys_for(runtime.settings, email=email, address=address)
    async with _sign_in_slot(), runtime.db.write() as session:
        refusal = await throttle.attempt(session, runtime.settings, keys)
        user = None if refusal else await session.scalar(
            select(User).where(func.lower(User.email) == email.strip().lower(), User.is_active.is_(True))
        )
    if refusal is not None:
        raise refusal
    # Checked with no transaction open: the hash takes a worker thread for ~80 ms.
    if not await verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthenticated(NO_MATCH)
    async with _sign_in_slot(), runtime.db.write() as session:
        await throttle.succeeded(session, keys)
        row = sessions.new_session(user.id, runtime.settings)
        session.add(row)
    return _token(runtime, row)


async def sign_out(runtime: Runtime, viewer: Viewer) -> None:
    """End the viewer's session: its token is refused from now on, and its open subscriptions close."""
    if viewer.session_id is None:
        return
    async with runtime.db.write() as session:
        await sessions.revoke(session, [viewer.session_id])
    runtime.live.recheck_soon()


async def viewer_for_token(runtime: Runtime, authorization: str | None) -> Viewer | None:
    """The viewer named by an `Authorization: Bearer` value; None when there is none.

    UNAUTHENTICATED for a token whose session was signed out, idle too long or past its expiry.
    """
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Send the token as `Authorization: Bearer <token>`.")
    user_id, session_id = claims_of(runtime, token.strip())
    return await viewer_for_session(runtime, user_id, session_id)


async def viewer_for_session(runtime: Runtime, user_id: int, session_id: str) -> Viewer:
    """The user as they are now, if their session is still good; counts as a use of the session."""
    async with runtime.db.read() as session:
        stale = await sessions.check_session(session, session_id, user_id, runtime.settings)
        viewer = await load_viewer(session, user_id)
    if viewer is None:
        raise Unauthenticated("This account no longer exists or has been disabled.")
    if stale and runtime.session_touches.claim(session_id, sessions.touch_interval(runtime.settings)):
        async with runtime.db.write() as session:
            await sessions.touch(session, session_id)
    return dataclasses.replace(viewer, session_id=session_id)


async def change_password(runtime: Runtime, viewer: Viewer, *, current: str, new: str) -> None:
    """Set a new password after checking the current one; the user's other sessions end."""
    if viewer.user_id is None:
        raise Unauthenticated("Please sign in first.")
    keys = throttle.keys_for(runtime.settings, email=viewer.email, address=None)
    async with _sign_in_slot(), runtime.db.write() as session:
        refusal = await throttle.attempt(session, runtime.settings, keys)
        stored = None if refusal else await session.scalar(select(User.password_hash).where(User.id == viewer.user_id))
    if refusal is not None:
        raise refusal
    if not await verify_password(stored, current):
        raise BadInput("That is not your current password.", field="currentPassword", rule="current")
    check_password(new, email=viewer.email, name=viewer.name, field="newPassword")
    if new == current:
        raise BadInput("Choose a password different from your current one.", field="newPassword", rule="unchanged")
    hashed = await hash_password(new)
    async with runtime.db.write() as session:
        await throttle.succeeded(session, keys)
        await session.execute(update(User).where(User.id == viewer.user_id).values(password_hash=hashed))
        await sessions.revoke_others(session, viewer.user_id, keep=viewer.session_id)
    runtime.live.recheck_soon()


async def set_password(runtime: Runtime, *, email: str, password: str) -> None:
    """Set a user's password as an operator (`referloop user set-password`), under the same rules."""
    async with runtime.db.read() as session:
        user = await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise NotFound(f"No account has the email {email}.")
    check_password(password, email=user.email, name=user.name)
    hashed = await hash_password(password)
    async with runtime.db.write() as session:
        await session.execute(update(User).where(User.id == user.id).values(password_hash=hashed))
        await sessions.revoke_others(session, user.id, keep=None)
    runtime.live.recheck_soon()


async def add_user(
    runtime: Runtime, *, email: str, name: str, password: str, organization_id: int | None = None, role: Role | None = None
) -> int:
    """A new account (`referloop user add`), its password under the same rules; with a membership if given."""
    email = email.strip()
    if "@" not in email or not name.strip():
        raise BadInput("Give an email address and a name.", field="email")
    check_password(password, email=email, name=name)
    hashed = await hash_password(password)
    async with runtime.db.write() as session:
        if await session.scalar(select(User.id).where(func.lower(User.email) == email.lower())) is not None:
            raise Conflict(f"An account with the email {email} exists already.")
        if organization_id is not None and await session.get(Organization, organization_id) is None:
            raise NotFound(f"No organization has the id {organization_id}.")
        user = User(email=email, name=name.strip(), password_hash=hashed, acting_organization_id=organization_id)
        session.add(user)
        await session.flush()
        if organization_id is not None:
            session.add(Membership(user_id=user.id, organization_id=organization_id, role=role or Role.NAVIGATOR))
        return user.id


async def switch_organization(runtime: Runtime, viewer: Viewer, *, organization_id: int) -> Viewer:
    """Make one of the user's memberships the acting one; the user's open subscriptions reopen as it."""
    user_id = viewer.user_id
    if user_id is None:  # someone acting through an email link: no account, so no memberships
        raise NotFound("You are not a member of that organization.")
    async with runtime.db.write() as session:
        member = await session.scalar(
            select(Membership.id).where(Membership.user_id == user_id, Membership.organization_id == organization_id)
        )
        if member is None:
            raise NotFound("You are not a member of that organization.")
        await session.execute(update(User).where(User.id == user_id).values(acting_organization_id=organization_id))
        switched = await load_viewer(session, user_id)
    assert switched is not None
    runtime.live.recheck_soon()
    return dataclasses.replace(switched, session_id=viewer.session_id)


async def acts_for_tracking_only_site(runtime: Runtime, viewer: Viewer) -> bool:
    """True when the viewer acts for a tracking-only site: what they refer is only recorded, nothing is sent."""
    if viewer.acting is None or viewer.acting.site_id is None:
        return False
    async with runtime.db.read() as session:
        site = await session.get(Site, viewer.acting.site_id)
    return bool(site and site.tracking_only)
