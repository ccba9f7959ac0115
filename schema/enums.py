"""The API's enums: the domain's own, exposed under the names the contract pins."""

from __future__ import annotations

import enum

import strawberry

from db.accounts import Role as _Role
from db.programs import ConnectMode as _ConnectMode
from db.programs import ProgramCategory as _ProgramCategory
from db.referrals import ChangeSource as _ChangeSource
from db.referrals import ReferralKind as _ReferralKind
from db.referrals import ReferralStatus as _ReferralStatus
from db.seekers import ContactPreference as _ContactPreference

Role = strawberry.enum(_Role, description="What a user does in the organization they act for.")
ConnectMode = strawberry.enum(_ConnectMode, description="What a program's connect button says.")
ProgramCategory = strawberry.enum(_ProgramCategory)
ReferralKind = strawberry.enum(_ReferralKind, description="LIVE reaches the program; LOGGED and TRACKING_ONLY do not.")
ReferralStatus = strawberry.enum(_ReferralStatus)
ContactPreference = strawberry.enum(_ContactPreference, description="How the seeker wants to be reached; NONE: don't reach out.")
ChangeSource = strawberry.enum(_ChangeSource, description="Where a status change was made.")


@strawberry.enum(description="How dashboards group statuses.")
class StatusGroup(enum.Enum):
    IN_PROGRESS = "IN_PROGRESS"
    GOT_HELP = "GOT_HELP"
    NEEDS_FURTHER_ACTION = "NEEDS_FURTHER_ACTION"


@strawberry.enum(description="What happened to a referral; RESYNC asks the client to refetch its page.")
class ReferralEventKind(enum.Enum):
    CREATED = "CREATED"
    STATUS_CHANGED = "STATUS_CHANGED"
    COMMENT_ADDED = "COMMENT_ADDED"
    RESYNC = "RESYNC"
