"""Organizations, the people who work in them, and how they are grouped."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, enum_column, utcnow


class Role(enum.Enum):
    SEEKER = "SEEKER"
    NAVIGATOR = "NAVIGATOR"
    PROGRAM_STAFF = "PROGRAM_STAFF"
    CE_MANAGER = "CE_MANAGER"
    ADMIN = "ADMIN"


class ContinuumOfCare(Base):
    """A HUD Continuum of Care: the planning body that runs Coordinated Entry for an area."""

    __tablename__ = "continuums_of_care"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # How the priority list is ordered: keys of PriorityListEntry, most significant first.
    priority_rule: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["score", "days_homeless", "placed_on"])


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    coc_id: Mapped[int | None] = mapped_column(ForeignKey("continuums_of_care.id"), index=True)
    # What kind of agency it is, for an agreement's "families known to both" (resolvers/policy/families.py):
    # a public child welfare agency; a housing provider (also: any organization running a HOUSING
    # program or a HUD project, whatever this says).
    child_welfare: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    housing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    coc: Mapped[ContinuumOfCare | None] = relationship(lazy="raise")


class Team(Base):
    """A group of navigators who share their referrals ("Team Navigation")."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))


class Site(Base):
    """Where a navigator refers from; a tracking-only site records referrals without sending them."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    tracking_only: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    acting_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="raise")


class Membership(Base):
    """A user's role in one organization; a user acts in one membership at a time."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))

    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")
    organization: Mapped[Organization] = relationship(lazy="raise")
    team: Mapped[Team | None] = relationship(lazy="raise")
    site: Mapped[Site | None] = relationship(lazy="raise")
