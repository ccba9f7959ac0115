"""Coordinated Entry: who stands where towards a CE event, a vacancy, a priority list entry, an assessment.

CE events and vacancies are loaded with their program (`CE_EVENT_LOAD`, `VACANCY_LOAD`): the program's
organization and CoC are what the provider's and the CE managers' standings read. A CE manager acts
for one CoC, the one of the organization they act for; provider staff act for their organization's
programs. Priority list entries and assessments are for the CoC's CE managers alone.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import joinedload

from db.accounts import Role
from db.coordinated_entry import CeAssessment, CeEvent, PriorityListEntry, Vacancy
from db.events import OutboxEvent, SubjectType
from db.programs import Program
from resolvers.policy.tables import Condition, Rules, Standing, always, equals, markdown, same
from resolvers.viewer import Viewer

CE_EVENT_LOAD = (
    joinedload(CeEvent.program),
    joinedload(CeEvent.seeker),
    joinedload(CeEvent.vacancy).joinedload(Vacancy.program).joinedload(Program.organization),
)
VACANCY_LOAD = (joinedload(Vacancy.program).joinedload(Program.organization),)
ENTRY_LOAD = (joinedload(PriorityListEntry.seeker),)


def _programs_of(organization_id: int | None) -> Any:
    return select(Program.id).where(equals(Program.organization_id, organization_id))


def _programs_in(coc_id: int | None) -> Any:
    return select(Program.id).where(equals(Program.coc_id, coc_id))


# CE events -------------------------------------------------------------------------------------


class CeRelation(enum.Enum):
    CE_MANAGER = "CE_MANAGER"
    PROVIDER_STAFF = "PROVIDER_STAFF"
    PROVIDER_ADMIN = "PROVIDER_ADMIN"


class CeAction(enum.Enum):
    READ = "READ"
    ACKNOWLEDGE = "ACKNOWLEDGE"
    RESOLVE = "RESOLVE"
    RECORD_NOT_HOUSED = "RECORD_NOT_HOUSED"


class CeField(enum.Enum):
    SEEKER_NAME = "SEEKER_NAME"
    SEEKER_INITIALS = "SEEKER_INITIALS"


def _event_program_org(e: CeEvent) -> int | None:
    return e.program.organization_id if e.program is not None else None


def _provider(says: str, role: Role) -> Standing[CeEvent, None]:
    return Standing(
        says=says,
        roles=frozenset({role}),
        reads=("organization_id",),
        where=lambda v: CeEvent.program_id.in_(_programs_of(v.organization_id)),
        holds=lambda v, e, _: same(_event_program_org(e), v.organization_id),
    )


CE_EVENT_STANDINGS: dict[CeRelation, Standing[CeEvent, None]] = {
    CeRelation.CE_MANAGER: Standing(
        says="the event is in the CoC the viewer acts for",
        roles=frozenset({Role.CE_MANAGER}),
        reads=("coc_id",),
        where=lambda v: equals(CeEvent.coc_id, v.coc_id),
        holds=lambda v, e, _: same(e.coc_id, v.coc_id),
    ),
    CeRelation.PROVIDER_STAFF: _provider("it refers to a program of the viewer's organization", Role.PROGRAM_STAFF),
    CeRelation.PROVIDER_ADMIN: _provider("it refers to a program of the viewer's organization", Role.ADMIN),
}

_ALWAYS: Condition[Any, None] = always()
_EVERYONE = {rel: _ALWAYS for rel in CeRelation}
_PROVIDER = {CeRelation.PROVIDER_STAFF: _ALWAYS, CeRelation.PROVIDER_ADMIN: _ALWAYS}

CE_EVENT_RULES: Rules[CeEvent, None, CeRelation, CeAction, CeField] = Rules(
    resource="CE event",
    standings=CE_EVENT_STANDINGS,
    actions={
        CeAction.READ: dict(_EVERYONE),
        # The provider answers the referral: it says it has it, and what came of it (which also sets
        # the referral's status, a thing the CE managers do not do).
        CeAction.ACKNOWLEDGE: dict(_PROVIDER),
        CeAction.RESOLVE: dict(_PROVIDER),
        # Why the client was not housed is the provider's account of its own answer, like the result.
        CeAction.RECORD_NOT_HOUSED: dict(_PROVIDER),
    },
    fields={
        CeField.SEEKER_NAME: dict(_EVERYONE),
        CeField.SEEKER_INITIALS: dict(_EVERYONE),
    },
)


def ce_event_where(viewer: Viewer, action: CeAction = CeAction.READ) -> ColumnElement[bool]:
    return CE_EVENT_RULES.where(viewer, action)


def may_ce_event(viewer: Viewer, action: CeAction, event: CeEvent) -> bool:
    return CE_EVENT_RULES.may(viewer, action, event, None)


# Vacancies -------------------------------------------------------------------------------------


class VacancyRelation(enum.Enum):
    CE_MANAGER = "CE_MANAGER"
    PROVIDER_STAFF = "PROVIDER_STAFF"
    PROVIDER_ADMIN = "PROVIDER_ADMIN"


class VacancyAction(enum.Enum):
    READ = "READ"
    REFER = "REFER"


class VacancyField(enum.Enum):
    ELIGIBILITY_NOTES = "ELIGIBILITY_NOTES"


def _vacancy_provider(role: Role) -> Standing[Vacancy, None]:
    return Standing(
        says="it is at a program of the viewer's organization",
        roles=frozenset({role}),
        reads=("organization_id",),
        where=lambda v: Vacancy.program_id.in_(_programs_of(v.organization_id)),
        holds=lambda v, r, _: same(r.program.organization_id, v.organization_id),
    )


VACANCY_RULES: Rules[Vacancy, None, VacancyRelation, VacancyAction, VacancyField] = Rules(
    resource="Vacancy",
    standings={
        VacancyRelation.CE_MANAGER: Standing(
            says="it is at a program of the CoC the viewer acts for",
            roles=frozenset({Role.CE_MANAGER}),
            reads=("coc_id",),
            where=lambda v: Vacancy.program_id.in_(_programs_in(v.coc_id)),
            holds=lambda v, r, _: same(r.program.coc_id, v.coc_id),
        ),
        VacancyRelation.PROVIDER_STAFF: _vacancy_provider(Role.PROGRAM_STAFF),
        VacancyRelation.PROVIDER_ADMIN: _vacancy_provider(Role.ADMIN),
    },
    actions={
        VacancyAction.READ: {rel: _ALWAYS for rel in VacancyRelation},
        # Matching a client from the priority list to the opening is the CE managers' call.
        VacancyAction.REFER: {VacancyRelation.CE_MANAGER: _ALWAYS},
    },
    fields={VacancyField.ELIGIBILITY_NOTES: {rel: _ALWAYS for rel in VacancyRelation}},
)


def vacancy_where(viewer: Viewer, action: VacancyAction = VacancyAction.READ) -> ColumnElement[bool]:
    return VACANCY_RULES.where(viewer, action)


def may_vacancy(viewer: Viewer, action: VacancyAction, vacancy: Vacancy) -> bool:
    return VACANCY_RULES.may(viewer, action, vacancy, None)


# The priority list and assessments ---------------------------------------------------------------


class ListRelation(enum.Enum):
    CE_MANAGER = "CE_MANAGER"


class ListAction(enum.Enum):
    READ = "READ"
    REMOVE = "REMOVE"
    REFER = "REFER"


class ListField(enum.Enum):
    SEEKER_NAME = "SEEKER_NAME"
    SEEKER_INITIALS = "SEEKER_INITIALS"
    ELIGIBILITY = "ELIGIBILITY"


ENTRY_RULES: Rules[PriorityListEntry, None, ListRelation, ListAction, ListField] = Rules(
    resource="Priority list entry",
    standings={
        ListRelation.CE_MANAGER: Standing(
            says="the entry is on the list of the CoC the viewer acts for",
            roles=frozenset({Role.CE_MANAGER}),
            reads=("coc_id",),
            where=lambda v: equals(PriorityListEntry.coc_id, v.coc_id),
            holds=lambda v, r, _: same(r.coc_id, v.coc_id),
        ),
    },
    actions={action: {ListRelation.CE_MANAGER: _ALWAYS} for action in ListAction},
    fields={f: {ListRelation.CE_MANAGER: _ALWAYS} for f in ListField},
)


class AssessmentAction(enum.Enum):
    READ = "READ"


class AssessmentField(enum.Enum):
    QUESTIONS_AND_RESULTS = "QUESTIONS_AND_RESULTS"


ASSESSMENT_RULES: Rules[CeAssessment, None, ListRelation, AssessmentAction, AssessmentField] = Rules(
    resource="CE assessment",
    standings={
        ListRelation.CE_MANAGER: Standing(
            says="it was recorded for the CoC the viewer acts for",
            roles=frozenset({Role.CE_MANAGER}),
            reads=("coc_id",),
            where=lambda v: equals(CeAssessment.coc_id, v.coc_id),
            holds=lambda v, r, _: same(r.coc_id, v.coc_id),
        ),
    },
    actions={AssessmentAction.READ: {ListRelation.CE_MANAGER: _ALWAYS}},
    fields={AssessmentField.QUESTIONS_AND_RESULTS: {ListRelation.CE_MANAGER: _ALWAYS}},
)


def entry_where(viewer: Viewer, action: ListAction = ListAction.READ) -> ColumnElement[bool]:
    return ENTRY_RULES.where(viewer, action)


def may_entry(viewer: Viewer, action: ListAction, entry: PriorityListEntry) -> bool:
    return ENTRY_RULES.may(viewer, action, entry, None)


def may_assessment(viewer: Viewer, assessment: CeAssessment) -> bool:
    return ASSESSMENT_RULES.may(viewer, AssessmentAction.READ, assessment, None)


ALL_RULES: tuple[Rules[Any, Any, Any, Any, Any], ...] = (CE_EVENT_RULES, VACANCY_RULES, ENTRY_RULES, ASSESSMENT_RULES)



# What belongs to no single row ----------------------------------------------------------------


class CeCapability(enum.Enum):
    RECORD_ASSESSMENT = "RECORD_ASSESSMENT"
    MANAGE_PRIORITY_LIST = "MANAGE_PRIORITY_LIST"
    POST_VACANCY = "POST_VACANCY"


CAPABILITY_ROLES: dict[CeCapability, frozenset[Role]] = {
    CeCapability.RECORD_ASSESSMENT: frozenset({Role.CE_MANAGER}),
    CeCapability.MANAGE_PRIORITY_LIST: frozenset({Role.CE_MANAGER}),
    CeCapability.POST_VACANCY: frozenset({Role.PROGRAM_STAFF, Role.ADMIN}),
}
CAPABILITY_CONDITIONS = {
    "the CoC is the one the viewer acts for": (CeCapability.RECORD_ASSESSMENT, CeCapability.MANAGE_PRIORITY_LIST),
    "the program belongs to the organization the viewer acts for, and is a HUD housing project "
    "(it has a project type and a CoC)": (CeCapability.POST_VACANCY,),
}


def can(viewer: Viewer, capability: CeCapability, *, coc_code: str | None = None, program: Program | None = None) -> bool:
    if viewer.role not in CAPABILITY_ROLES[capability]:
        return False
    if capability is CeCapability.POST_VACANCY:
        return (
            program is not None
            and same(program.organization_id, viewer.organization_id)
            and program.hud_project_type is not None
            and program.coc_id is not None
        )
    return viewer.acting is not None and viewer.acting.coc_code is not None and viewer.acting.coc_code == coc_code


def capabilities_markdown() -> str:
    roles = list(Role)
    lines = ["#### Coordinated Entry capabilities: role x capability", ""]
    lines.append("| capability | " + " | ".join(r.name for r in roles) + " |")
    lines.append("|---" * (len(roles) + 1) + "|")
    for capability, allowed in CAPABILITY_ROLES.items():
        lines.append(f"| {capability.name} | " + " | ".join("yes" if r in allowed else "" for r in roles) + " |")
    lines += ["", "Conditions:", ""]
    lines += [f"- {says}: " + ", ".join(c.name for c in caps) for says, caps in CAPABILITY_CONDITIONS.items()]
    return "\n".join(lines) + "\n"


WALL_SUBJECTS = frozenset({SubjectType.CE_EVENT, SubjectType.VACANCY, SubjectType.PRIORITY_LIST})


def on_wall(viewer: Viewer, event: OutboxEvent) -> bool:
    """The CE wall's stream carries its CoC's CE events, vacancies and priority list changes, as kind and time only."""
    coc_id = event.change.get("cocId")
    return (
        viewer.role is Role.CE_MANAGER
        and event.subject_type in WALL_SUBJECTS
        and isinstance(coc_id, int)
        and same(coc_id, viewer.coc_id)
    )


def rules_markdown() -> str:
    return "\n".join([*(markdown(r) for r in ALL_RULES), capabilities_markdown()])
