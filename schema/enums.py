"""The API's enums: the domain's own, exposed under the names the contract pins."""

from __future__ import annotations

import enum
from typing import TypeAlias

import strawberry

from db.accounts import Role as _Role
from db.programs import ConnectMode as _ConnectMode
from db.programs import ProgramCategory as _ProgramCategory
from db.referrals import ChangeSource as _ChangeSource
from db.referrals import ReferralKind as _ReferralKind
from db.referrals import ReferralStatus as _ReferralStatus
from db.seekers import ContactPreference as _ContactPreference

# strawberry.enum registers the GraphQL definition (name, description) on the domain class itself and
# returns that same class: each name below is an alias of the domain enum, usable in annotations.
strawberry.enum(_Role, description="What a user does in the organization they act for.")
strawberry.enum(_ConnectMode, description="What a program's connect button says.")
strawberry.enum(_ProgramCategory)
strawberry.enum(_ReferralKind, description="LIVE reaches the program; LOGGED and TRACKING_ONLY do not.")
strawberry.enum(_ReferralStatus)
strawberry.enum(_ContactPreference, description="How the seeker wants to be reached; NONE: don't reach out.")
strawberry.enum(_ChangeSource, description="Where a status change was made.")

Role: TypeAlias = _Role
ConnectMode: TypeAlias = _ConnectMode
ProgramCategory: TypeAlias = _ProgramCategory
ReferralKind: TypeAlias = _ReferralKind
ReferralStatus: TypeAlias = _ReferralStatus
ContactPreference: TypeAlias = _ContactPreference
ChangeSource: TypeAlias = _ChangeSource


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
