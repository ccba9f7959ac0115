"""Seekers: the people in need, with how they want to be reached."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
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
    # HMIS universal data elements, each with HUD's "doesn't know / prefers not to answer / data not
    # collected" codes (99 until asked).
    name_data_quality: Mapped[int] = mapped_column(Integer, default=99)  # 3.01.5
    dob: Mapped[date | None] = mapped_column()
    dob_data_quality: Mapped[int] = mapped_column(Integer, default=99)  # 3.03.2
    # Client.csv's race and ethnicity columns that apply, e.g. ["Asian", "HispanicLatinaeo"].
    races: Mapped[list[str]] = mapped_column(JSON, default=list)
    race_none: Mapped[int | None] = mapped_column(Integer)  # 1.6, when no race is given
    # Client.csv's gender columns that apply, e.g. ["Woman"].
    genders: Mapped[list[str]] = mapped_column(JSON, default=list)
    gender_none: Mapped[int | None] = mapped_column(Integer)  # 1.6
    veteran_status: Mapped[int] = mapped_column(Integer, default=99)  # 1.8
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
