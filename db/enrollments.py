"""Enrollments: a client (with their household) in a program, from entry through move-in to exit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, utcnow
from db.programs import Program
from db.seekers import Seeker


class Household(Base):
    """Several seekers enrolled together; HMIS's HouseholdID."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enrollment(Base):
    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    seeker_id: Mapped[int] = mapped_column(ForeignKey("seekers.id"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    entry_date: Mapped[date] = mapped_column()
    relationship_to_hoh: Mapped[int] = mapped_column(Integer)  # 3.15.1
    prior_living_situation: Mapped[int | None] = mapped_column(Integer)  # 3.917
    enrollment_coc: Mapped[str | None] = mapped_column(String(6))  # a CoC code, e.g. CA-600
    disabling_condition: Mapped[int] = mapped_column(Integer, default=99)  # 1.8
    move_in_date: Mapped[date | None] = mapped_column()
    exit_date: Mapped[date | None] = mapped_column()
    destination: Mapped[int | None] = mapped_column(Integer)  # 3.12
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    seeker: Mapped[Seeker] = relationship(lazy="raise")
    program: Mapped[Program] = relationship(lazy="raise")
