"""Seekers: the people in need, with how they want to be reached."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, enum_column, utcnow


class ContactPreference(enum.Enum):
    EMAIL = "EMAIL"
    TEXT = "TEXT"
    PHONE = "PHONE"
    NONE = "NONE"


class Seeker(Base):
    __tablename__ = "seekers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Set when the seeker has an account of their own; navigators create profiles without one.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(20))
    contact_preference: Mapped[ContactPreference] = mapped_column(enum_column(ContactPreference))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
