"""Cases shared across agencies: the household, the workers, and what each of them records.

Every record that holds a seeker's data names the organization that wrote it and the consent
scope it falls under; the policy lets it across to another organization's member only within a
consent and an agreement for that scope (`db.consent`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.accounts import Organization, User
from db.base import Base, enum_column, utcnow
from db.consent import Scope
from db.seekers import Seeker


class CaseStage(enum.Enum):
    OBTAIN_HOUSING = "OBTAIN_HOUSING"
    MOVED_IN = "MOVED_IN"
    STABILIZING = "STABILIZING"
    CLOSED = "CLOSED"


class ClosureReason(enum.Enum):
    # The household is no longer at imminent risk: the good ending.
    STABLY_HOUSED = "STABLY_HOUSED"
    HOUSED_ELSEWHERE = "HOUSED_ELSEWHERE"
    DECLINED_SERVICES = "DECLINED_SERVICES"
    LOST_CONTACT = "LOST_CONTACT"
    MOVED_AWAY = "MOVED_AWAY"
    TRANSFERRED = "TRANSFERRED"
    OTHER = "OTHER"


class CaseRole(enum.Enum):
    LEAD_CASE_MANAGER = "LEAD_CASE_MANAGER"
    HOUSING_CASE_MANAGER = "HOUSING_CASE_MANAGER"
    CHILD_WELFARE_CASEWORKER = "CHILD_WELFARE_CASEWORKER"
    LIAISON = "LIAISON"
    OTHER = "OTHER"


class GoalStatus(enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    MET = "MET"
    SET_ASIDE = "SET_ASIDE"


class ContactType(enum.Enum):
    HOME_VISIT = "HOME_VISIT"
    OFFICE_VISIT = "OFFICE_VISIT"
    PHONE = "PHONE"
    VIDEO = "VIDEO"
    COMMUNITY = "COMMUNITY"
    ACCOMPANIMENT = "ACCOMPANIMENT"


class Intensity(enum.Enum):
    """How much support the household needs right now; it rises and falls."""

    LIGHT = "LIGHT"
    MODERATE = "MODERATE"
    INTENSIVE = "INTENSIVE"


class AssistanceKind(enum.Enum):
    RENT = "RENT"
    SECURITY_DEPOSIT = "SECURITY_DEPOSIT"
    MOVE_IN_COSTS = "MOVE_IN_COSTS"
    UTILITIES = "UTILITIES"
    UTILITY_DEPOSIT = "UTILITY_DEPOSIT"
    FURNITURE = "FURNITURE"
    OTHER = "OTHER"


class RecordKind(enum.Enum):
    GOAL = "GOAL"
    CONTACT = "CONTACT"
    NOTE = "NOTE"
    CONFERENCE = "CONFERENCE"
    ASSISTANCE = "ASSISTANCE"
    LINK = "LINK"  # a referral, CE event or enrollment of the household, linked to the case


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    stage: Mapped[CaseStage] = mapped_column(enum_column(CaseStage), default=CaseStage.OBTAIN_HOUSING)
    opened_on: Mapped[date] = mapped_column()
    moved_in_on: Mapped[date | None] = mapped_column()
    stabilizing_on: Mapped[date | None] = mapped_column()
    closed_on: Mapped[date | None] = mapped_column()
    closure_reason: Mapped[ClosureReason | None] = mapped_column(enum_column(ClosureReason))
    # Rapid re-housing: the last day financial assistance is paid; case management may go on after.
    assistance_ends_on: Mapped[date | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead_organization: Mapped[Organization] = relationship(lazy="raise")
    household: Mapped[list[CaseSeeker]] = relationship(lazy="raise", order_by="CaseSeeker.id")
    members: Mapped[list[CaseMember]] = relationship(lazy="raise", order_by="CaseMember.id")


class CaseSeeker(Base):
    """One person of the case's household; exactly one is its head."""

    __tablename__ = "case_seekers"
    __table_args__ = (Index("ix_case_seekers_case_seeker", "case_id", "seeker_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seeker_id: Mapped[int] = mapped_column(ForeignKey("seekers.id"), index=True)
    is_head: Mapped[bool] = mapped_column(default=False)

    seeker: Mapped[Seeker] = relationship(lazy="raise")


class CaseMember(Base):
    """A worker on the case, from any organization, acting for that organization."""

    __tablename__ = "case_members"
    __table_args__ = (Index("ix_case_members_user_case", "user_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[CaseRole] = mapped_column(enum_column(CaseRole))
    added_on: Mapped[date] = mapped_column()
    removed_on: Mapped[date | None] = mapped_column()

    user: Mapped[User] = relationship(lazy="raise")
    organization: Mapped[Organization] = relationship(lazy="raise")


class CaseRecord(Base):
    """Every entry of a case's file: goals, contacts, notes, conferences, assistance, links.

    One table, because each is read under the same rule (who wrote it, under which scope) and the
    case page shows them together in time order; `details` holds what only one kind has.
    """

    __tablename__ = "case_records"
    __table_args__ = (Index("ix_case_records_case_kind", "case_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[RecordKind] = mapped_column(enum_column(RecordKind))
    scope: Mapped[Scope] = mapped_column(enum_column(Scope))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    on: Mapped[date] = mapped_column()
    body: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
