"""The signed tokens behind email links: which notification, which status, which version of the referral."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt

from db.base import utcnow
from db.notifications import Notification
from db.referrals import ReferralStatus
from db.settings import Settings

AUDIENCE = "rl:link"
ALGORITHM = "HS256"


class BadToken(Exception):
    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True)
class LinkClaims:
    token_id: str
    referral_id: int
    notification_id: int
    status: ReferralStatus
    # The referral's version when the message was written; None for links issued before versions.
    version: int | None


def _key(settings: Settings) -> str:
    # A key of its own, so a sign-in token can never pass as a link nor a link as a sign-in.
    return f"{settings.secret_key}:email-links"


def issue_link(settings: Settings, *, notification: Notification, status: ReferralStatus, version: int) -> str:
    """A link for the recipient of `notification`; it names the notification, never the address itself."""
    claims = {
        "aud": AUDIENCE,
        "r": notification.referral_id,
        "s": status.name,
        "n": notification.id,
        "v": version,
        "jti": secrets.token_urlsafe(12),
        "exp": utcnow() + timedelta(seconds=settings.link_ttl_seconds),
    }
    return jwt.encode(claims, _key(settings), algorithm=ALGORITHM)


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/r/{token}"


def read_token(settings: Settings, token: str) -> LinkClaims:
    try:
        claims = jwt.decode(
            token, _key(settings), algorithms=[ALGORITHM], audience=AUDIENCE, options={"require": ["exp", "jti", "aud"]}
        )
    except jwt.ExpiredSignatureError:
        raise BadToken(expired=True) from None
    except jwt.InvalidTokenError:
        raise BadToken(expired=False) from None
    try:
        version = claims.get("v")
        return LinkClaims(
            token_id=str(claims["jti"]),
            referral_id=int(claims["r"]),
            notification_id=int(claims["n"]),
            status=ReferralStatus[str(claims["s"])],
            version=int(version) if version is not None else None,
        )
    except (KeyError, ValueError, TypeError):
        raise BadToken(expired=False) from None
