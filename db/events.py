"""The transactional outbox: one row per change of any subject, numbered in commit order.

The table is `outbox_events`, so that HMIS's own "Event" (a CE event, element 4.20) keeps its name.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.accounts import User
from db.base import Base, enum_column, utcnow
from db.referrals import ChangeSource, ReferralStatus


class EventKind(enum.Enum):
    CREATED = "CREATED"
    STATUS_CHANGED = "STATUS_CHANGED"
    COMMENT_ADDED = "COMMENT_ADDED"


class SubjectType(enum.Enum):
    """What an event is about; later domains (CE events, cases, consents) add theirs."""

    REFERRAL = "REFERRAL"
    CE_EVENT = "CE_EVENT"
    VACANCY = "VACANCY"
    PRIORITY_LIST = "PRIORITY_LIST"
    ENROLLMENT = "ENROLLMENT"
    # A change to a person's HMIS elements (subject: the seeker profile).
    SEEKER = "SEEKER"
    # An HMIS CSV export was downloaded (subject: the CoC).
    EXPORT = "EXPORT"
    # A shared case changed: its stage, household, members or a record of its file (subject: the case).
    CASE = "CASE"
    # A release of information was granted or revoked (subject: the consent; change names the seeker).
    CONSENT = "CONSENT"
    AGREEMENT = "AGREEMENT"


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    # Never reuse a number after old events are pruned: clients resume from the last one they saw.
    __table_args__ = (Index("ix_outbox_events_subject", "subject_type", "subject_id"), {"sqlite_autoincrement": True})

    # BigInteger on PostgreSQL; SQLite only autoincrements a plain INTEGER primary key.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subject_type: Mapped[SubjectType] = mapped_column(enum_column(SubjectType))
    subject_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    # Who made the change, and as which membership; none for a seeker without an account or the system.
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_organization_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[ChangeSource] = mapped_column(enum_column(ChangeSource))
    # The change itself, as data: {"from", "to", "note", "comment", "version"} as the kind calls for.
    change: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship(lazy="raise")

    def statuses(self) -> tuple[ReferralStatus | None, ReferralStatus | None]:
        """The statuses this change moved its referral from and to; none for what a comment did."""
        moved = [self.change.get(key) for key in ("from", "to")]
        return (ReferralStatus[moved[0]] if moved[0] else None, ReferralStatus[moved[1]] if moved[1] else None)
