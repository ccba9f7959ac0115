"""Programs: the services that seekers are referred to."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.accounts import Organization
from db.base import Base, enum_column, utcnow


class ConnectMode(enum.Enum):
    """What the connect button says; EXTERNAL programs take contact elsewhere, so referrals are only logged."""

    REFER = "REFER"
    APPLY = "APPLY"
    SCHEDULE = "SCHEDULE"
    CONTACT = "CONTACT"
    EXTERNAL = "EXTERNAL"


class ProgramCategory(enum.Enum):
    FOOD = "FOOD"
    HOUSING = "HOUSING"
    HEALTH = "HEALTH"
    LEGAL = "LEGAL"
    EMPLOYMENT = "EMPLOYMENT"
    CHILD_CARE = "CHILD_CARE"
    TRANSPORTATION = "TRANSPORTATION"


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    connect_mode: Mapped[ConnectMode] = mapped_column(enum_column(ConnectMode))
    external_url: Mapped[str | None] = mapped_column(String(2000))
    contact_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"key", "label", "required", "choices"}]: the referrer answers these before a live referral.
    screener: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    eligibility: Mapped[str] = mapped_column(Text, default="")
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A housing program as HUD knows it: its project type (2.02.6) and the CoC it belongs to.
    hud_project_type: Mapped[int | None] = mapped_column(Integer)
    # 2.02.D, for residential projects: site-based single site (1), clustered (2), or tenant-based scattered (3).
    hud_housing_type: Mapped[int | None] = mapped_column(Integer)
    coc_id: Mapped[int | None] = mapped_column(ForeignKey("continuums_of_care.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship(lazy="raise")
    categories: Mapped[list[ProgramCategoryTag]] = relationship(
        cascade="all, delete-orphan", lazy="raise", order_by="ProgramCategoryTag.category"
    )
    service_areas: Mapped[list[ProgramServiceArea]] = relationship(
        cascade="all, delete-orphan", lazy="raise", order_by="ProgramServiceArea.postal_code"
    )

    @property
    def accepts_referrals(self) -> bool:
        return self.connect_mode is not ConnectMode.EXTERNAL and self.is_active


class ProgramCategoryTag(Base):
    __tablename__ = "program_categories"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[ProgramCategory] = mapped_column(enum_column(ProgramCategory), primary_key=True, index=True)


class ProgramServiceArea(Base):
    """A postal code the program serves; a program with none serves everywhere."""

    __tablename__ = "program_service_areas"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    postal_code: Mapped[str] = mapped_column(String(10), primary_key=True, index=True)
