"""The transactional outbox: one row per referral change, numbered in commit order."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, enum_column, utcnow


class EventKind(enum.Enum):
    CREATED = "CREATED"
    STATUS_CHANGED = "STATUS_CHANGED"
    COMMENT_ADDED = "COMMENT_ADDED"


class ReferralEvent(Base):
    __tablename__ = "referral_events"
    # Never reuse a number after old events are pruned: clients resume from the last one they saw.
    __table_args__ = {"sqlite_autoincrement": True}

    # BigInteger on PostgreSQL; SQLite only autoincrements a plain INTEGER primary key.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
