"""Every model, imported once so that metadata is complete for Alembic and create_all."""

from db.accounts import ContinuumOfCare, Membership, Organization, Role, Site, Team, User
from db.audit import AuditAction, AuditEntry, AuditSubject, Scope
from db.base import Base
from db.cases import Case, CaseMember, CaseRecord, CaseSeeker
from db.consent import AgreementParty, AgreementScope, Consent, ConsentScope, DataSharingAgreement
from db.coordinated_entry import CeAssessment, CeEvent, PriorityListEntry, Vacancy
from db.enrollments import Enrollment, Household
from db.events import EventKind, OutboxEvent, SubjectType
from db.idempotency import IdempotencyKey
from db.notifications import (
    Channel,
    DigestEntry,
    Notification,
    NotificationSetting,
    NotificationStatus,
    ProgramNotificationSetting,
    RecipientKind,
    UsedLink,
)
from db.programs import ConnectMode, Program, ProgramCategory, ProgramCategoryTag, ProgramServiceArea
from db.referrals import ChangeSource, Comment, Referral, ReferralKind, ReferralStatus, StatusChange
from db.seekers import ContactPreference, Seeker
from db.sign_in import SignInSession, SignInThrottle

__all__ = [
    "AgreementParty",
    "AgreementScope",
    "AuditAction",
    "AuditEntry",
    "AuditSubject",
    "Scope",
    "Base",
    "Case",
    "CaseMember",
    "CaseRecord",
    "CaseSeeker",
    "Consent",
    "ConsentScope",
    "DataSharingAgreement",
    "CeAssessment",
    "CeEvent",
    "Enrollment",
    "Household",
    "IdempotencyKey",
    "PriorityListEntry",
    "Vacancy",
    "Channel",
    "ChangeSource",
    "Comment",
    "ConnectMode",
    "ContactPreference",
    "ContinuumOfCare",
    "DigestEntry",
    "EventKind",
    "Membership",
    "Notification",
    "NotificationSetting",
    "NotificationStatus",
    "Organization",
    "Program",
    "ProgramCategory",
    "ProgramCategoryTag",
    "ProgramNotificationSetting",
    "ProgramServiceArea",
    "Referral",
    "RecipientKind",
    "OutboxEvent",
    "SubjectType",
    "ReferralKind",
    "ReferralStatus",
    "Role",
    "Seeker",
    "SignInSession",
    "SignInThrottle",
    "Site",
    "StatusChange",
    "Team",
    "UsedLink",
    "User",
]
