"""Notifications: the outbox of emails and texts, who muted what, hourly digests, used email links."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, enum_column, utcnow
from db.events import EventKind


class Channel(enum.Enum):
    EMAIL = "EMAIL"
    SMS = "SMS"


class RecipientKind(enum.Enum):
    SEEKER = "SEEKER"
    NAVIGATOR = "NAVIGATOR"
    PROGRAM = "PROGRAM"


class NotificationStatus(enum.Enum):
    PENDING = "PENDING"
    # Claimed by a worker until `lease_until`; a worker that dies leaves it to be claimed again.
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    # Planned but deliberately not sent (the recipient muted this kind of email); kept for the record.
    SUPPRESSED = "SUPPRESSED"


class Notification(Base):
    """One message to one address on one channel, written in the transaction of the change it tells."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "<event seq>:<recipient kind>:<address>:<channel>" (or "digest:..."): a second plan of the same
    # event for the same person and channel cannot insert, and SMTP's Message-ID is derived from it.
    idempotency_key: Mapped[str] = mapped_column(String(400), unique=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    event: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    template: Mapped[str] = mapped_column(String(64))
    recipient_kind: Mapped[RecipientKind] = mapped_column(enum_column(RecipientKind))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(320))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    # What the message says that may change later (the status it moved to, the comment, who did it).
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[NotificationStatus] = mapped_column(enum_column(NotificationStatus), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class NotificationSetting(Base):
    """A user's choice to get no email for one kind of event (absent row: emails are on)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[EventKind] = mapped_column(enum_column(EventKind), primary_key=True)
    email_muted: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProgramNotificationSetting(Base):
    """A program with many referrals may take one email an hour listing the new ones instead of one each."""

    __tablename__ = "program_notification_settings"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    hourly_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestEntry(Base):
    """A new referral waiting for a program address's next digest; `notification_id` once it is in one."""

    __tablename__ = "notification_digest_entries"
    __table_args__ = (Index("ix_notification_digest_entries_waiting", "notification_id", "program_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320))
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsedLink(Base):
    """An email link that has been confirmed once; its token id can never act again."""

    __tablename__ = "notification_used_links"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
