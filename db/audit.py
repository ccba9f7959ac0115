"""The audit log: an append-only record of every read and write of a seeker's personal data.

One row says who (the user, or the address of someone acting through an email link without an
account), acting as which membership (organization and role), touched which seeker's data, which
kinds of it (scopes), how (READ, WRITE, PUSH), through which operation, when, and about what
(e.g. REFERRAL 12). Rows are only ever inserted: the database itself refuses UPDATE and DELETE (a
trigger on PostgreSQL, which also refuses TRUNCATE; BEFORE triggers on SQLite). The DDL lives here
once, for the migration (0005) and for `metadata.create_all` alike.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import DDL, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from db.accounts import Role
from db.base import Base, enum_column, utcnow


class Scope(enum.Enum):
    """A kind of personal data about a seeker."""

    NAME = "NAME"
    CONTACT = "CONTACT"
    SCREENER_ANSWERS = "SCREENER_ANSWERS"
    COMMENTS = "COMMENTS"
    HISTORY = "HISTORY"
    HMIS_ELEMENTS = "HMIS_ELEMENTS"
    # That the person was referred, where to, and how it stands.
    REFERRALS = "REFERRALS"
    # Enrollments in programs (HMIS Enrollment.csv), exits and move-in dates.
    ENROLLMENTS = "ENROLLMENTS"
    # Coordinated Entry: assessments (4.19), the priority list, CE events (4.20).
    CE_ASSESSMENT = "CE_ASSESSMENT"
    CASE_NOTES = "CASE_NOTES"
    CHILD_WELFARE = "CHILD_WELFARE"
    FINANCIAL_ASSISTANCE = "FINANCIAL_ASSISTANCE"
    # Releases of information: that they exist, to whom, for what.
    CONSENT = "CONSENT"


class AuditAction(enum.Enum):
    READ = "READ"
    WRITE = "WRITE"
    # An event pushed live to one subscriber.
    PUSH = "PUSH"


class AuditSubject(enum.Enum):
    """What the row is about, beside the seeker."""

    SEEKER = "SEEKER"
    REFERRAL = "REFERRAL"
    ENROLLMENT = "ENROLLMENT"
    CE_ASSESSMENT = "CE_ASSESSMENT"
    PRIORITY_LIST = "PRIORITY_LIST"
    CE_EVENT = "CE_EVENT"
    EXPORT = "EXPORT"
    CASE = "CASE"
    CONSENT = "CONSENT"


def join_scopes(scopes: Iterable[Scope]) -> str:
    """The stored form: names, sorted, comma-joined ("COMMENTS,NAME")."""
    return ",".join(sorted({s.name for s in scopes}))


def split_scopes(stored: str) -> list[Scope]:
    return [Scope[name] for name in stored.split(",") if name]


OPERATION_LENGTH = 200


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_seeker_at", "seeker_id", "at"),
        Index("ix_audit_log_organization_at", "acting_organization_id", "at"),
        # Rows are never deleted, so ids are never reused anyway; this keeps SQLite from doing it either.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # No foreign keys: the log outlives the rows it names, and must never block their removal.
    user_id: Mapped[int | None] = mapped_column(Integer)
    # Who, where there is no account: the address an email link was sent to ("cli" for an operator).
    actor_email: Mapped[str | None] = mapped_column(String(320))
    acting_organization_id: Mapped[int | None] = mapped_column(Integer)
    acting_role: Mapped[Role | None] = mapped_column(enum_column(Role))
    seeker_id: Mapped[int] = mapped_column(Integer)
    scopes: Mapped[str] = mapped_column(String(400))
    action: Mapped[AuditAction] = mapped_column(enum_column(AuditAction))
    # "query InboundReferrals.inboundReferrals", "email-link", "export", "cli", "push referralChanged"...
    operation: Mapped[str] = mapped_column(String(OPERATION_LENGTH))
    subject_type: Mapped[AuditSubject | None] = mapped_column(enum_column(AuditSubject))
    subject_id: Mapped[int | None] = mapped_column(Integer)


REFUSAL = "audit_log is append-only"

POSTGRES_DDL = (
    f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
""",
    """
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
""",
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log",
    "DROP FUNCTION IF EXISTS audit_log_append_only()",
)
SQLITE_DDL = (
    f"""
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, '{REFUSAL}: UPDATE refused'); END
""",
    f"""
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, '{REFUSAL}: DELETE refused'); END
""",
)
SQLITE_DROP = ("DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete")


def append_only_ddl(dialect: str) -> tuple[str, ...]:
    """The statements that make audit_log append-only on `dialect` (none for others)."""
    return {"postgresql": POSTGRES_DDL, "sqlite": SQLITE_DDL}.get(dialect, ())


def drop_append_only_ddl(dialect: str) -> tuple[str, ...]:
    return {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(dialect, ())


# Tables made by `metadata.create_all` (rather than the migrations) get the same triggers.
for _dialect, _statements in (("postgresql", POSTGRES_DDL), ("sqlite", SQLITE_DDL)):
    for _statement in _statements:
        # DDL() formats its text with `%`: the plpgsql RAISE's placeholder is doubled for it.
        _ddl = DDL(_statement.replace("%", "%%"))  # type: ignore[no-untyped-call]  # SQLAlchemy leaves DDL.__init__ unannotated
        event.listen(AuditEntry.__table__, "after_create", _ddl.execute_if(dialect=_dialect))
