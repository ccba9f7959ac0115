"""Releases of information and data sharing agreements: what may cross from one organization to another.

A seeker's data leaves the organization that recorded it only under both: the seeker's consent (to
the viewer's organization, or to every party of an agreement) for that scope, and an agreement in
force between the two organizations that covers the scope. Scopes are stored one row each so that
both checks are plain SQL joins.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.accounts import Organization
from db.base import Base, enum_column, utcnow


class Scope(enum.Enum):
    """The kinds of a seeker's data a consent or an agreement lets across."""

    CONTACT = "CONTACT"
    REFERRALS = "REFERRALS"
    CASE_NOTES = "CASE_NOTES"
    CHILD_WELFARE = "CHILD_WELFARE"
    FINANCIAL_ASSISTANCE = "FINANCIAL_ASSISTANCE"


class GrantedBy(enum.Enum):
    SEEKER = "SEEKER"
    GUARDIAN = "GUARDIAN"


class CaptureMethod(enum.Enum):
    """How the release was obtained, as the form on file would say."""

    SIGNED_PAPER = "SIGNED_PAPER"
    SIGNED_ELECTRONICALLY = "SIGNED_ELECTRONICALLY"
    VERBAL_WITNESSED = "VERBAL_WITNESSED"


class DataSharingAgreement(Base):
    """An MOA between organizations: who shares which scopes, for what purpose, from when to when."""

    __tablename__ = "data_sharing_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column()
    ends_on: Mapped[date | None] = mapped_column()
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parties: Mapped[list[AgreementParty]] = relationship(lazy="raise", order_by="AgreementParty.id")
    scopes: Mapped[list[AgreementScope]] = relationship(lazy="raise", order_by="AgreementScope.id")


class AgreementParty(Base):
    __tablename__ = "agreement_parties"
    __table_args__ = (Index("ix_agreement_parties_org_agreement", "organization_id", "agreement_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("data_sharing_agreements.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))

    organization: Mapped[Organization] = relationship(lazy="raise")


class AgreementScope(Base):
    __tablename__ = "agreement_scopes"
    __table_args__ = (Index("ix_agreement_scopes_agreement_scope", "agreement_id", "scope", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("data_sharing_agreements.id"))
    scope: Mapped[Scope] = mapped_column(enum_column(Scope))


class Consent(Base):
    """A release of information: one seeker's data, to one organization or to an agreement's parties."""

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint(
            "(to_organization_id IS NULL) <> (to_agreement_id IS NULL)", name="one_recipient"
        ),
        Index("ix_consents_seeker_id", "seeker_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seeker_id: Mapped[int] = mapped_column(ForeignKey("seekers.id"))
    to_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    to_agreement_id: Mapped[int | None] = mapped_column(ForeignKey("data_sharing_agreements.id"))
    starts_on: Mapped[date] = mapped_column()
    ends_on: Mapped[date] = mapped_column()
    granted_by: Mapped[GrantedBy] = mapped_column(enum_column(GrantedBy))
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    guardian_relationship: Mapped[str | None] = mapped_column(String(100))
    captured_how: Mapped[CaptureMethod] = mapped_column(enum_column(CaptureMethod))
    captured_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    captured_by_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    witness_name: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    scopes: Mapped[list[ConsentScope]] = relationship(lazy="raise", order_by="ConsentScope.id")
    to_organization: Mapped[Organization | None] = relationship(lazy="raise", foreign_keys=[to_organization_id])
    to_agreement: Mapped[DataSharingAgreement | None] = relationship(lazy="raise")


class ConsentScope(Base):
    __tablename__ = "consent_scopes"
    __table_args__ = (Index("ix_consent_scopes_consent_scope", "consent_id", "scope", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id"))
    scope: Mapped[Scope] = mapped_column(enum_column(Scope))
