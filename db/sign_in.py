"""Signed-in sessions (what a token stands for) and the sign-in failure counters that throttle guessing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow


class SignInSession(Base):
    """One sign-in: a token names it by `sid`; revoked on sign-out, idle after a while without a request."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped at most once a minute by the requests made with it, for the idle timeout.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SignInThrottle(Base):
    """Recent failed sign-ins for one key ("account:<email>" or "address:<ip>"), and the lockout they earned."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # Failures are counted from the first one in the window; older ones are forgotten.
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
