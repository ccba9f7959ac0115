"""Coordinated Entry (HUD HMIS 4.19 and 4.20): assessments, the priority list, vacancies, CE events.

Coded values are HUD's own integers (`db.hud` says which codes each list allows).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, utcnow
from db.programs import Program
from db.referrals import ReferralStatus
from db.seekers import Seeker

# 2.02.6 project type -> the 4.20.2 event a referral to one of its openings is.
EVENT_TYPE_FOR_PROJECT = {0: 10, 1: 10, 2: 11, 13: 13, 3: 14, 9: 15, 10: 15}
# 4.20.D referral result -> the status of the live referral that goes with the CE event.
STATUS_FOR_RESULT = {
    1: ReferralStatus.GOT_HELP,
    2: ReferralStatus.NO_LONGER_INTERESTED,
    3: ReferralStatus.NOT_ELIGIBLE,
}


class Vacancy(Base):
    """One opening (a unit or a bed) in a housing program, posted and filled by the provider's staff."""

    __tablename__ = "vacancies"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    # Bedrooms of a unit, or 1 for a bed.
    size: Mapped[int] = mapped_column(Integer, default=1)
    opened_on: Mapped[date] = mapped_column()
    eligibility_notes: Mapped[str] = mapped_column(Text, default="")
    # The priority (sub-)list the opening is for: INDIVIDUAL, FAMILY or YOUTH; none when any household fits.
    household_type: Mapped[str | None] = mapped_column(String(16))
    filled_on: Mapped[date | None] = mapped_column()
    filled_by_enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    program: Mapped[Program] = relationship(lazy="raise")


class CeAssessment(Base):
    """4.19 Coordinated Entry Assessment, with the CoC's locally defined questions and results."""

    __tablename__ = "ce_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    seeker_id: Mapped[int] = mapped_column(ForeignKey("seekers.id"), index=True)
    coc_id: Mapped[int] = mapped_column(ForeignKey("continuums_of_care.id"), index=True)
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"))
    assessment_date: Mapped[date] = mapped_column()
    location: Mapped[str] = mapped_column(String(250))
    assessment_type: Mapped[int] = mapped_column(Integer)  # 4.19.3
    assessment_level: Mapped[int] = mapped_column(Integer)  # 4.19.4
    prioritization_status: Mapped[int] = mapped_column(Integer)  # 4.19.7
    # [{"question", "answer", "group"?}] and [{"type", "result"}], as AssessmentQuestions/Results.
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    score: Mapped[float | None] = mapped_column(Float)
    days_homeless: Mapped[int | None] = mapped_column(Integer)
    # What the priority list filters on: "INDIVIDUAL", "FAMILY", "YOUTH".
    household_type: Mapped[str] = mapped_column(String(16), default="INDIVIDUAL")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    seeker: Mapped[Seeker] = relationship(lazy="raise")


class PriorityListEntry(Base):
    """A client placed on a CoC's priority list by an assessment; they leave when housed or removed."""

    __tablename__ = "priority_list_entries"
    __table_args__ = (Index("ix_priority_list_open", "coc_id", "left_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coc_id: Mapped[int] = mapped_column(ForeignKey("continuums_of_care.id"))
    seeker_id: Mapped[int] = mapped_column(ForeignKey("seekers.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("ce_assessments.id"))
    placed_on: Mapped[date] = mapped_column()
    score: Mapped[float | None] = mapped_column(Float)
    days_homeless: Mapped[int | None] = mapped_column(Integer)
    household_type: Mapped[str] = mapped_column(String(16), default="INDIVIDUAL")
    # Free text the eligibility filter matches, e.g. "veteran; chronic; family of 4".
    eligibility: Mapped[str] = mapped_column(Text, default="")
    left_on: Mapped[date | None] = mapped_column()
    # "HOUSED", or the reason given when someone was removed.
    left_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    seeker: Mapped[Seeker] = relationship(lazy="raise")
    assessment: Mapped[CeAssessment] = relationship(lazy="raise")


class CeEvent(Base):
    """4.20 Coordinated Entry Event. A referral to a housing opportunity is also a Referral."""

    __tablename__ = "ce_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seeker_id: Mapped[int] = mapped_column(ForeignKey("seekers.id"), index=True)
    coc_id: Mapped[int] = mapped_column(ForeignKey("continuums_of_care.id"), index=True)
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"))
    event_date: Mapped[date] = mapped_column()
    event_type: Mapped[int] = mapped_column(Integer)  # 4.20.2
    problem_solving_result: Mapped[int | None] = mapped_column(Integer)  # 4.20.A, for event 2 (1.7)
    case_management_after: Mapped[int | None] = mapped_column(Integer)  # 4.20.B, for event 5 (1.7)
    location: Mapped[str | None] = mapped_column(String(250))  # 4.20.C
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), unique=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id"), index=True)
    vacancy_id: Mapped[int | None] = mapped_column(ForeignKey("vacancies.id"))
    result: Mapped[int | None] = mapped_column(Integer)  # 4.20.D
    result_date: Mapped[date | None] = mapped_column()  # 4.20.E
    # The provider workflow, as ClientTrack users know it (local fields).
    acknowledged_on: Mapped[date | None] = mapped_column()
    provider_contact_name: Mapped[str | None] = mapped_column(String(200))
    provider_contact_phone: Mapped[str | None] = mapped_column(String(20))
    provider_contact_email: Mapped[str | None] = mapped_column(String(320))
    resulting_enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"))
    not_housed_reason: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    seeker: Mapped[Seeker] = relationship(lazy="raise")
    program: Mapped[Program | None] = relationship(lazy="raise")
    vacancy: Mapped[Vacancy | None] = relationship(lazy="raise")
