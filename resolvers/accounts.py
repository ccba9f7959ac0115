"""Signing in, tokens, and choosing the organization a user acts for."""

from __future__ import annotations

from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update

from db.accounts import Membership, Site, User
from db.base import utcnow
from resolvers.errors import NotFound, Unauthenticated
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer, load_viewer

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown email as slow as one with a wrong password.
_DUMMY_HASH = _hasher.hash("referloop-timing-equaliser")
TOKEN_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def issue_token(runtime: Runtime, user_id: int) -> str:
    now = utcnow()
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(seconds=runtime.settings.token_ttl_seconds)}
    return jwt.encode(claims, runtime.settings.secret_key, algorithm=TOKEN_ALGORITHM)


def user_id_from_token(runtime: Runtime, token: str) -> int:
    try:
        claims = jwt.decode(token, runtime.settings.secret_key, algorithms=[TOKEN_ALGORITHM], options={"require": ["exp", "sub"]})
        return int(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("Your sign-in has expired. Please sign in again.") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthenticated("That sign-in token is not valid. Please sign in again.") from None


async def log_in(runtime: Runtime, *, email: str, password: str) -> str:
    """A token for valid credentials; the same error whether the email or the password is wrong."""
    async with runtime.db.read() as session:
        user = await session.scalar(
            select(User).where(func.lower(User.email) == email.strip().lower(), User.is_active.is_(True))
        )
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("That email and password don't match an account.") from None
    if user is None or not user.password_hash:
        raise Unauthenticated("That email and password don't match an account.")
    return issue_token(runtime, user.id)


async def viewer_for_token(runtime: Runtime, authorization: str | None) -> Viewer | None:
    """The viewer named by an `Authorization: Bearer` value; None when there is none."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Send the token as `Authorization: Bearer <token>`.")
    user_id = user_id_from_token(runtime, token.strip())
    async with runtime.db.read() as session:
        viewer = await load_viewer(session, user_id)
    if viewer is None:
        raise Unauthenticated("This account no longer exists or has been disabled.")
    return viewer


async def switch_organization(runtime: Runtime, viewer: Viewer, *, organization_id: int) -> Viewer:
    """Make one of the user's memberships the acting one."""
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
    return switched


async def acts_for_tracking_only_site(runtime: Runtime, viewer: Viewer) -> bool:
    """True when the viewer acts for a tracking-only site: what they refer is only recorded, nothing is sent."""
    if viewer.acting is None or viewer.acting.site_id is None:
        return False
    async with runtime.db.read() as session:
        site = await session.get(Site, viewer.acting.site_id)
    return bool(site and site.tracking_only)
