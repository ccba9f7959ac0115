"""Programs: the services that seekers are referred to."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship, selectinload

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
    # Where, how to call and when: shaped as Open Referral HSDS 3.0 shapes them (a program is an
    # HSDS service), so the directory can be exchanged as HSDS.
    locations: Mapped[list[Location]] = relationship(cascade="all, delete-orphan", lazy="raise", order_by="Location.id")
    phones: Mapped[list[Phone]] = relationship(cascade="all, delete-orphan", lazy="raise", order_by="Phone.id")
    schedules: Mapped[list[Schedule]] = relationship(cascade="all, delete-orphan", lazy="raise", order_by="Schedule.id")
    languages: Mapped[list[Language]] = relationship(
        cascade="all, delete-orphan", lazy="raise", order_by="Language.id", primaryjoin="Language.program_id == Program.id"
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


class Location(Base):
    """HSDS `location`: where a program is delivered (here, per program: HSDS's service_at_location)."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    location_type: Mapped[str] = mapped_column(String(16), default="physical")  # physical, postal, virtual
    name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    transportation: Mapped[str | None] = mapped_column(Text)

    addresses: Mapped[list[Address]] = relationship(cascade="all, delete-orphan", lazy="raise", order_by="Address.id")


class Address(Base):
    """HSDS `address`."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), index=True)
    attention: Mapped[str | None] = mapped_column(String(200))
    address_1: Mapped[str] = mapped_column(String(200))
    address_2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    state_province: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2), default="US")  # ISO 3166-1 alpha-2
    address_type: Mapped[str] = mapped_column(String(16), default="physical")  # physical, postal, virtual


class Phone(Base):
    """HSDS `phone`: a number to call about the program."""

    __tablename__ = "phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    extension: Mapped[str | None] = mapped_column(String(16))
    type: Mapped[str | None] = mapped_column(String(16))  # text, voice, fax, cell, video, pager, textphone
    description: Mapped[str | None] = mapped_column(Text)

    languages: Mapped[list[Language]] = relationship(
        cascade="all, delete-orphan", lazy="raise", order_by="Language.id", primaryjoin="Language.phone_id == Phone.id"
    )


class Schedule(Base):
    """HSDS `schedule`: when the program is open, as a weekly rule (byday, opens_at, closes_at) or in words."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    freq: Mapped[str | None] = mapped_column(String(8))  # WEEKLY, MONTHLY (iCal)
    byday: Mapped[str | None] = mapped_column(String(40))  # iCal days, comma-separated: MO,TU,WE
    opens_at: Mapped[str | None] = mapped_column(String(8))  # HH:MM, local time
    closes_at: Mapped[str | None] = mapped_column(String(8))
    description: Mapped[str | None] = mapped_column(Text)


class Language(Base):
    """HSDS `language`: one the program (service_id) or one of its phones (phone_id) works in."""

    __tablename__ = "languages"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(16))  # ISO 639


# What a program card shows beyond the program's row: load it with every program a page shows, in
# four statements however many programs (a location's addresses and a phone's languages joined in).
DETAILS_LOAD = (
    selectinload(Program.locations).joinedload(Location.addresses),
    selectinload(Program.phones).joinedload(Phone.languages),
    selectinload(Program.schedules),
    selectinload(Program.languages),
)
