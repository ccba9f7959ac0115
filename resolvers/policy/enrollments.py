"""Enrollments: who may enroll a household in a program, record its move-in and exit, and read them.

A program's own organization runs its enrollments (staff and admins); the CoC's CE managers read
the enrollments in the CoC's programs, and export them (`capabilities.EXPORT_HMIS`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, func, select

from db.accounts import Organization, Role
from db.enrollments import Enrollment
from db.programs import Program
from resolvers.policy.tables import Condition, Rules, Standing, always, same
from resolvers.viewer import Viewer


class Relation(enum.Enum):
    PROVIDER = "PROVIDER"
    CE_MANAGER = "CE_MANAGER"


class Action(enum.Enum):
    READ = "READ"
    ENROLL = "ENROLL"
    MOVE_IN = "MOVE_IN"
    EXIT = "EXIT"


class Field(enum.Enum):
    HOUSEHOLD = "HOUSEHOLD"


@dataclass(frozen=True)
class ProgramFacts:
    """What the standings read beyond the enrollment: its program's organization and CoC."""

    organization_id: int
    coc_id: int | None


def program_facts(program: Program, organization: Organization) -> ProgramFacts:
    """A program belongs to its own CoC, or else to its organization's."""
    return ProgramFacts(organization_id=program.organization_id, coc_id=program.coc_id or organization.coc_id)


def programs_in_coc(coc_id: int) -> ColumnElement[bool]:
    """SQL: the programs of a CoC (their own CoC, or else their organization's)."""
    return Program.id.in_(
        select(Program.id)
        .join(Organization, Organization.id == Program.organization_id)
        .where(func.coalesce(Program.coc_id, Organization.coc_id) == coc_id)
    )


def _provider_where(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.organization_id is None:
        return false()
    return Enrollment.program_id.in_(select(Program.id).where(Program.organization_id == viewer.organization_id))


def _ce_where(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.coc_id is None:
        return false()
    return Enrollment.program_id.in_(select(Program.id).where(programs_in_coc(viewer.coc_id)))


STANDINGS: dict[Relation, Standing[Enrollment, ProgramFacts]] = {
    Relation.PROVIDER: Standing(
        says="the program belongs to the viewer's organization",
        roles=frozenset({Role.PROGRAM_STAFF, Role.ADMIN}),
        reads=("organization_id",),
        where=_provider_where,
        holds=lambda v, _e, p: same(p.organization_id, v.organization_id),
    ),
    Relation.CE_MANAGER: Standing(
        says="the program is in the viewer's CoC",
        roles=frozenset({Role.CE_MANAGER}),
        reads=("coc_id",),
        where=_ce_where,
        holds=lambda v, _e, p: same(p.coc_id, v.coc_id),
    ),
}

ALWAYS: Condition[Enrollment, ProgramFacts] = always()
_PROVIDER = {Relation.PROVIDER: ALWAYS}
_BOTH = {Relation.PROVIDER: ALWAYS, Relation.CE_MANAGER: ALWAYS}

RULES: Rules[Enrollment, ProgramFacts, Relation, Action, Field] = Rules(
    resource="Enrollment",
    standings=STANDINGS,
    actions={Action.READ: _BOTH, Action.ENROLL: _PROVIDER, Action.MOVE_IN: _PROVIDER, Action.EXIT: _PROVIDER},
    fields={Field.HOUSEHOLD: _BOTH},
)


def where(viewer: Viewer, action: Action = Action.READ) -> ColumnElement[bool]:
    return RULES.where(viewer, action)


def may(viewer: Viewer, action: Action, enrollment: Enrollment, facts: ProgramFacts) -> bool:
    return RULES.may(viewer, action, enrollment, facts)
