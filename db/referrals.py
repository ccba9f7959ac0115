"""Referrals, their status history and comments."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship, selectinload

from db.accounts import Organization, Site, User
from db.base import Base, enum_column, utcnow
from db.programs import DETAILS_LOAD, Program
from db.seekers import ContactPreference, Seeker


class ReferralKind(enum.Enum):
    LIVE = "LIVE"
    LOGGED = "LOGGED"
    TRACKING_ONLY = "TRACKING_ONLY"


class ReferralStatus(enum.Enum):
    NOT_UPDATED = "NOT_UPDATED"
    NEEDS_CLIENT_ACTION = "NEEDS_CLIENT_ACTION"
    PENDING = "PENDING"
    REFERRED_ELSEWHERE = "REFERRED_ELSEWHERE"
    ELIGIBLE = "ELIGIBLE"
    GOT_HELP = "GOT_HELP"
    COULDNT_GET_HELP = "COULDNT_GET_HELP"
    COULDNT_CONTACT = "COULDNT_CONTACT"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    NO_CAPACITY = "NO_CAPACITY"
    NO_LONGER_INTERESTED = "NO_LONGER_INTERESTED"


# How dashboards group statuses; anything in neither group needs further action.
IN_PROGRESS = frozenset(
    {
        ReferralStatus.NOT_UPDATED,
        ReferralStatus.NEEDS_CLIENT_ACTION,
        ReferralStatus.PENDING,
        ReferralStatus.REFERRED_ELSEWHERE,
        ReferralStatus.ELIGIBLE,
    }
)
GOT_HELP = frozenset({ReferralStatus.GOT_HELP})


class ChangeSource(enum.Enum):
    """Where a change was made, so the history can say "updated from email"."""

    DASHBOARD = "DASHBOARD"
    EMAIL = "EMAIL"
    API = "API"
    SYSTEM = "SYSTEM"


def kind_for(program: Program, site: Site | None) -> ReferralKind:
    """Tracking-only sites send nothing; external programs take contact elsewhere; the rest are live."""
    if site is not None and site.tracking_only:
        return ReferralKind.TRACKING_ONLY
    if not program.accepts_referrals:
        return ReferralKind.LOGGED
    return ReferralKind.LIVE


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_program_created", "program_id", "created_at", "id"),
        Index("ix_referrals_navigator_created", "navigator_id", "created_at", "id"),
        Index("ix_referrals_team_created", "team_id", "created_at", "id"),
        Index("ix_referrals_seeker_created", "seeker_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReferralKind] = mapped_column(enum_column(ReferralKind))
    status: Mapped[ReferralStatus] = mapped_column(enum_column(ReferralStatus), default=ReferralStatus.NOT_UPDATED)
    version: Mapped[int] = mapped_column(Integer, default=1)
    seeker_id: Mapped[int] = mapped_column(ForeignKey("seekers.id"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    # Denormalized from the program so that visibility filters need no join.
    program_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    navigator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    navigator_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    contact_preference: Mapped[ContactPreference] = mapped_column(enum_column(ContactPreference))
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column()
    screener_answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    seeker: Mapped[Seeker] = relationship(lazy="raise")
    program: Mapped[Program] = relationship(lazy="raise")
    program_organization: Mapped[Organization] = relationship(lazy="raise", foreign_keys=[program_organization_id])
    navigator: Mapped[User | None] = relationship(lazy="raise")
    site: Mapped[Site | None] = relationship(lazy="raise")
    history: Mapped[list[StatusChange]] = relationship(
        lazy="raise", order_by="StatusChange.id", back_populates="referral"
    )
    comments: Mapped[list[Comment]] = relationship(lazy="raise", order_by="Comment.id", back_populates="referral")


class StatusChange(Base):
    __tablename__ = "referral_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[ReferralStatus | None] = mapped_column(enum_column(ReferralStatus))
    to_status: Mapped[ReferralStatus] = mapped_column(enum_column(ReferralStatus))
    note: Mapped[str | None] = mapped_column(Text)
    changed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[ChangeSource] = mapped_column(enum_column(ChangeSource))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="history", lazy="raise")
    changed_by: Mapped[User | None] = relationship(lazy="raise")


class Comment(Base):
    __tablename__ = "referral_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="comments", lazy="raise")
    author: Mapped[User | None] = relationship(lazy="raise")


# Everything a dashboard shows of a referral, and every fact the policy reads of one, in a fixed
# handful of statements however long the page.
REFERRAL_LOAD = (
    joinedload(Referral.seeker),
    joinedload(Referral.program).options(
        joinedload(Program.organization), selectinload(Program.categories), selectinload(Program.service_areas), *DETAILS_LOAD
    ),
    joinedload(Referral.program_organization),
    joinedload(Referral.navigator),
    selectinload(Referral.comments).joinedload(Comment.author),
    selectinload(Referral.history).joinedload(StatusChange.changed_by),
)
# REFERRAL_LOAD for a referral whose program's details are loaded already (in the same session).
REFERRAL_RELOAD = (
    joinedload(Referral.seeker),
    joinedload(Referral.program).joinedload(Program.organization),
    joinedload(Referral.program_organization),
    joinedload(Referral.navigator),
    selectinload(Referral.comments).joinedload(Comment.author),
    selectinload(Referral.history).joinedload(StatusChange.changed_by),
)
# What REFERRAL_LOAD loads of the program beyond its row and organization.
PROGRAM_DETAILS = frozenset({"categories", "service_areas", "locations", "phones", "schedules", "languages"})
# Every referral list is newest first.
REFERRAL_ORDER = (Referral.created_at, Referral.id)
