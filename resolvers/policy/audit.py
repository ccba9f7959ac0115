"""The audit trail: who may read which entries of the log of personal-data access, and what of them.

An organization's admin, acting for it, reads what its members did while acting for it (about
any seeker); the entries of other organizations stay with them, even about the same people. A
seeker reads every entry about themself ("who looked at my record"): the organization, the role,
when, which scopes and which operation, but not the name or address of the person who acted:
that is the staff member's personal data, not the seeker's.
"""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement

from db.accounts import Role
from db.audit import AuditEntry
from resolvers.policy.tables import Condition, Rules, Standing, always, equals, markdown, same
from resolvers.viewer import Viewer


class Relation(enum.Enum):
    SUBJECT = "SUBJECT"
    ORGANIZATION_ADMIN = "ORGANIZATION_ADMIN"


class Action(enum.Enum):
    READ = "READ"


class Field(enum.Enum):
    # The organization acted for and the role: what a seeker is told about who looked.
    ORGANIZATION = "ORGANIZATION"
    # The person who acted (their account, or the address an email link went to).
    ACTOR = "ACTOR"
    # Whose record it was.
    SEEKER = "SEEKER"


STANDINGS: dict[Relation, Standing[AuditEntry, None]] = {
    Relation.SUBJECT: Standing(
        says="the entry is about the viewer's own record",
        roles=frozenset({Role.SEEKER}),
        reads=("seeker_id",),
        where=lambda v: equals(AuditEntry.seeker_id, v.seeker_id),
        holds=lambda v, e, _: same(e.seeker_id, v.seeker_id),
    ),
    Relation.ORGANIZATION_ADMIN: Standing(
        says="a member acted for the organization the admin acts for",
        roles=frozenset({Role.ADMIN}),
        reads=("organization_id",),
        where=lambda v: equals(AuditEntry.acting_organization_id, v.organization_id),
        holds=lambda v, e, _: same(e.acting_organization_id, v.organization_id),
    ),
}

ALWAYS: Condition[AuditEntry, None] = always()
_BOTH = {rel: ALWAYS for rel in Relation}

RULES: Rules[AuditEntry, None, Relation, Action, Field] = Rules(
    resource="Audit trail entry",
    standings=STANDINGS,
    actions={Action.READ: _BOTH},
    fields={Field.ORGANIZATION: _BOTH, Field.ACTOR: {Relation.ORGANIZATION_ADMIN: ALWAYS}, Field.SEEKER: _BOTH},
)

# Who may ask for a trail at all; everyone else is refused (FORBIDDEN), not shown an empty one.
READERS = frozenset(role for standing in STANDINGS.values() for role in standing.roles)
CONDITIONS = (
    "a seeker needs a profile of their own, and may narrow the trail to it only",
    "an admin reads the organization they act for only",
    "reading the trail is not itself recorded: it holds ids, scopes and operations, no record's content",
)


def may_read_trail(viewer: Viewer) -> bool:
    if viewer.role not in READERS:
        return False
    if viewer.role is Role.SEEKER:
        return viewer.seeker_id is not None
    return viewer.organization_id is not None


def where(viewer: Viewer) -> ColumnElement[bool]:
    return RULES.where(viewer, Action.READ)


def visible_fields(viewer: Viewer, entry: AuditEntry) -> frozenset[Field]:
    return RULES.visible_fields(viewer, entry, None)


def rules_markdown() -> str:
    lines = ["", "Conditions:", "", *(f"- {says}" for says in CONDITIONS)]
    return markdown(RULES) + "\n".join(lines) + "\n"
