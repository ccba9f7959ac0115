"""Coordinated Entry's policy in its two forms agrees: the SQL that lists CE rows and the check on a loaded one.

`resolvers.policy.coordinated_entry` writes each standing twice, as SQL (`ce_event_where`,
`vacancy_where`, `entry_where`, and the rules' `where`, `field_where`, `related_where`) and in
Python (`may_ce_event`, `may_vacancy`, `may_entry`, `may_assessment`, `visible_fields`,
`relations`). Hypothesis builds small random worlds: CoCs; organizations with and without a CoC;
programs of several HUD project types (and none), in their organization's CoC, in another or in
none; open and filled vacancies; assessments on several CoCs, some of which placed the client on
the priority list, open or left; CE events with and without a program or vacancy, waiting,
acknowledged or resolved. Viewers are of every role, acting for real organizations and CoCs, for
ids that exist nowhere, or for none. Each example loads the rows as the resolvers do (`CE_EVENT_LOAD`,
`VACANCY_LOAD`, `ENTRY_LOAD`) and asks both forms about every row, action, field and standing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import ColumnElement, select

from db.accounts import ContinuumOfCare, Organization, Role
from db.coordinated_entry import EVENT_TYPE_FOR_PROJECT, CeAssessment, CeEvent, PriorityListEntry, Vacancy
from db.engine import Database
from db.programs import ConnectMode, Program
from db.seekers import ContactPreference, Seeker
from resolvers.policy import coordinated_entry as ce
from resolvers.policy.tables import Rules
from resolvers.viewer import MembershipInfo, Viewer
from tests.policy_worlds import (
    MISSING,
    PROPERTY_SETTINGS,
    disagreements,
    empty_tables,
    index_or,
    nobodies,
    pick,
    selected_of,
)

# 2.02.6: emergency shelter (0, 1), transitional (2), PSH (3), street outreach (4), services only
# (6), PH (9, 10), rapid re-housing (13), Coordinated Entry itself (14); None: not a HUD project.
PROJECT_TYPES = [None, 0, 1, 2, 3, 4, 6, 9, 10, 13, 14]
DAY = date(2025, 3, 1)


class EventState(enum.Enum):
    WAITING = "WAITING"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"


@dataclass(frozen=True)
class ProgramSpec:
    organization: int
    project_type: int | None
    coc: int | None


@dataclass(frozen=True)
class VacancySpec:
    program: int
    filled: bool


@dataclass(frozen=True)
class AssessmentSpec:
    seeker: int
    coc: int
    listed: bool  # it placed the client on the CoC's priority list
    left: bool  # who has since left it (housed or removed)


@dataclass(frozen=True)
class EventSpec:
    seeker: int
    coc: int
    program: int | None
    vacancy: int | None
    state: EventState
    result: int  # 4.20.D, when resolved


@dataclass(frozen=True)
class ViewerSpec:
    """Indexes into the world's rows; MISSING for an id that exists nowhere, None for none."""

    role: Role
    user: int | None  # None or MISSING: no CE standing reads the user
    seeker: int | None
    acting: tuple[int | None, int | None] | None  # organization, CoC


@dataclass(frozen=True)
class World:
    cocs: int
    organizations: list[int | None]  # each one's CoC
    programs: list[ProgramSpec]
    seekers: int
    vacancies: list[VacancySpec]
    assessments: list[AssessmentSpec]
    events: list[EventSpec]
    viewers: list[ViewerSpec]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    cocs = draw(st.integers(1, 3))
    organizations = draw(st.lists(index_or(cocs, None), min_size=2, max_size=4))
    n_orgs = len(organizations)
    programs = []
    for _ in range(draw(st.integers(1, 5))):
        org = draw(st.integers(0, n_orgs - 1))
        # In its organization's CoC (which may be none), in none, or in any one.
        coc = draw(st.sampled_from([organizations[org], organizations[org], None, *range(cocs)]))
        programs.append(ProgramSpec(org, draw(st.sampled_from(PROJECT_TYPES)), coc))
    seekers = draw(st.integers(1, 3))
    opening = st.builds(VacancySpec, program=st.integers(0, len(programs) - 1), filled=st.booleans())
    vacancies = draw(st.lists(opening, min_size=1, max_size=5))
    assessments = draw(
        st.lists(
            st.builds(
                AssessmentSpec,
                seeker=st.integers(0, seekers - 1),
                coc=st.integers(0, cocs - 1),
                listed=st.integers(0, 3).map(bool),
                left=st.booleans(),
            ),
            min_size=1,
            max_size=5,
        )
    )
    events = []
    for _ in range(draw(st.integers(1, 6))):
        # No program (an assessment or problem-solving event), a program alone, or a vacancy's.
        kind = draw(st.integers(0, 2))
        program: int | None = None
        vacancy: int | None = None
        if kind == 2 and vacancies:
            vacancy = draw(st.integers(0, len(vacancies) - 1))
            program = vacancies[vacancy].program
        elif kind:
            program = draw(st.integers(0, len(programs) - 1))
        # The program's CoC, as createCeReferral records it, unless it has none or another is drawn.
        coc = programs[program].coc if program is not None else None
        if coc is None or not draw(st.integers(0, 3)):
            coc = draw(st.integers(0, cocs - 1))
        events.append(
            EventSpec(
                seeker=draw(st.integers(0, seekers - 1)),
                coc=coc,
                program=program,
                vacancy=vacancy,
                state=draw(st.sampled_from(EventState)),
                result=draw(st.integers(1, 3)),
            )
        )
    acting = st.one_of(st.none(), st.tuples(index_or(n_orgs, None, MISSING), index_or(cocs, None, MISSING)))
    anywhere = st.builds(
        ViewerSpec,
        role=st.sampled_from(Role),
        user=st.sampled_from([None, MISSING]),
        seeker=index_or(seekers, None, MISSING),
        acting=acting,
    )
    viewers = draw(st.lists(anywhere, min_size=1, max_size=3))
    # Random viewers rarely stand anywhere; most are built from one row's own parties (a CE manager
    # of its CoC, staff of its program's organization), each part kept or replaced.
    sides = _sides(organizations, programs, vacancies, assessments, events)
    for _ in range(draw(st.integers(0, 6)) if sides else 0):
        side = draw(st.sampled_from(sides))

        def keep(value: Any, other: st.SearchStrategy[Any]) -> Any:
            return value if draw(st.integers(0, 3)) else draw(other)

        viewers.append(
            ViewerSpec(
                role=draw(st.sampled_from(Role)),
                user=draw(st.sampled_from([None, MISSING])),
                seeker=draw(index_or(seekers, None, MISSING)),
                acting=keep(
                    (keep(side[0], index_or(n_orgs, None, MISSING)), keep(side[1], index_or(cocs, None, MISSING))),
                    acting,
                ),
            )
        )
    return World(cocs, organizations, programs, seekers, vacancies, assessments, events, viewers)


def _ce_side(coc: int, organizations: list[int | None]) -> tuple[int, int]:
    """Acting for an organization of the CoC (the first one, else any) with the CoC as its own."""
    return (next((i for i, c in enumerate(organizations) if c == coc), 0), coc)


def _sides(
    organizations: list[int | None],
    programs: list[ProgramSpec],
    vacancies: list[VacancySpec],
    assessments: list[AssessmentSpec],
    events: list[EventSpec],
) -> list[tuple[int, int | None]]:
    """(organization, CoC) pairs a viewer acting for which stands towards some row."""

    def provider(program: int) -> tuple[int, int | None]:
        org = programs[program].organization
        return (org, organizations[org])

    sides: list[tuple[int, int | None]] = []
    for e in events:
        sides.append(_ce_side(e.coc, organizations))
        if e.program is not None:
            sides.append(provider(e.program))
    for v in vacancies:
        sides.append(provider(v.program))
        coc = programs[v.program].coc
        if coc is not None:
            sides.append(_ce_side(coc, organizations))
    sides += [_ce_side(a.coc, organizations) for a in assessments]
    return sides


def _parties(world: World) -> list[ViewerSpec]:
    """Every role on both sides of the first few rows, so that every standing is met in most examples."""
    sides = _sides(world.organizations, world.programs, world.vacancies[:3], world.assessments[:3], world.events[:3])
    return [ViewerSpec(role, None, None, side) for side in dict.fromkeys(sides) for role in Role]


@dataclass
class Ids:
    cocs: list[int]
    organizations: list[int]
    seekers: list[int]


async def _insert(db: Database, world: World) -> Ids:
    async with db.write() as s:
        cocs = [ContinuumOfCare(code=f"PT-{i}", name=f"CoC {i}") for i in range(world.cocs)]
        s.add_all(cocs)
        await s.flush()
        orgs = [
            Organization(name=f"Org {i}", coc_id=cocs[c].id if c is not None else None)
            for i, c in enumerate(world.organizations)
        ]
        seekers = [
            Seeker(first_name=f"Seeker{i}", last_name="Test", contact_preference=ContactPreference.NONE)
            for i in range(world.seekers)
        ]
        s.add_all([*orgs, *seekers])
        await s.flush()
        programs = [
            Program(
                organization_id=orgs[p.organization].id,
                name=f"Program {i}",
                connect_mode=ConnectMode.APPLY,
                hud_project_type=p.project_type,
                coc_id=cocs[p.coc].id if p.coc is not None else None,
            )
            for i, p in enumerate(world.programs)
        ]
        s.add_all(programs)
        await s.flush()
        vacancies = [
            Vacancy(
                program_id=programs[v.program].id,
                description=f"Unit {i}",
                opened_on=DAY,
                eligibility_notes="veterans first",
                filled_on=DAY if v.filled else None,
            )
            for i, v in enumerate(world.vacancies)
        ]
        assessments = [
            CeAssessment(
                seeker_id=seekers[a.seeker].id,
                coc_id=cocs[a.coc].id,
                assessment_date=DAY,
                location="Office",
                assessment_type=2,
                assessment_level=1,
                prioritization_status=1 if a.listed else 2,
                score=float(i),
            )
            for i, a in enumerate(world.assessments)
        ]
        s.add_all([*vacancies, *assessments])
        await s.flush()
        s.add_all(
            [
                PriorityListEntry(
                    coc_id=row.coc_id,
                    seeker_id=row.seeker_id,
                    assessment_id=row.id,
                    placed_on=DAY,
                    score=row.score,
                    eligibility="veteran; chronic",
                    left_on=DAY if a.left else None,
                    left_reason="HOUSED" if a.left else None,
                )
                for a, row in zip(world.assessments, assessments)
                if a.listed
            ]
        )
        for e in world.events:
            program = world.programs[e.program] if e.program is not None else None
            acknowledged = e.state is not EventState.WAITING
            resolved = e.state is EventState.RESOLVED
            s.add(
                CeEvent(
                    seeker_id=seekers[e.seeker].id,
                    coc_id=cocs[e.coc].id,
                    event_date=DAY,
                    event_type=_event_type(program),
                    program_id=programs[e.program].id if e.program is not None else None,
                    vacancy_id=vacancies[e.vacancy].id if e.vacancy is not None else None,
                    acknowledged_on=DAY if acknowledged else None,
                    provider_contact_name="Pat Provider" if acknowledged else None,
                    result=e.result if resolved else None,
                    result_date=DAY if resolved else None,
                    not_housed_reason="declined" if resolved and e.result != 1 else None,
                )
            )
        await s.flush()
        return Ids(cocs=[c.id for c in cocs], organizations=[o.id for o in orgs], seekers=[x.id for x in seekers])


def _event_type(program: ProgramSpec | None) -> int:
    """4.20.2: a referral to an opening of the project's type, else to non-continuum services (8);
    problem solving (2) when there is no program."""
    if program is None:
        return 2
    return EVENT_TYPE_FOR_PROJECT.get(program.project_type, 8) if program.project_type is not None else 8


def _viewer(spec: ViewerSpec, ids: Ids) -> Viewer:
    acting = None
    if spec.acting is not None:
        org, coc = spec.acting
        acting = MembershipInfo(
            organization_id=pick(ids.organizations, org),  # type: ignore[arg-type]
            organization_name="Acting org",
            coc_id=pick(ids.cocs, coc),
            coc_code=None,
            role=spec.role,
            team_id=None,
            site_id=None,
        )
    return Viewer(
        user_id=spec.user,
        email="viewer@property.example",
        name="Viewer",
        role=spec.role,
        seeker_id=pick(ids.seekers, spec.seeker),
        acting=acting,
        memberships=(acting,) if acting else (),
    )


def _strangers() -> list[Viewer]:
    """Viewers of every role acting for an organization and a CoC that exist nowhere."""
    elsewhere = MembershipInfo(
        organization_id=MISSING,
        organization_name="Elsewhere",
        coc_id=MISSING,
        coc_code="XX-000",
        role=Role.ADMIN,
        team_id=MISSING,
        site_id=None,
    )
    return [Viewer(user_id=MISSING, email="", name="", role=role, seeker_id=MISSING, acting=elsewhere) for role in Role]


@dataclass(frozen=True)
class Resource:
    """One CE resource as the resolvers ask about it: its module-level SQL and check, and its rules."""

    name: str
    model: Any
    rules: Rules[Any, None, Any, Any, Any]
    actions: type[enum.Enum]
    fields: type[enum.Enum]
    relations: type[enum.Enum]
    where: Callable[[Viewer, Any], ColumnElement[bool]]
    read_where: Callable[[Viewer], ColumnElement[bool]]
    may: Callable[[Viewer, Any, Any], bool]


RESOURCES = (
    Resource("CE event", CeEvent, ce.CE_EVENT_RULES, ce.CeAction, ce.CeField, ce.CeRelation,
             ce.ce_event_where, ce.ce_event_where, ce.may_ce_event),
    Resource("Vacancy", Vacancy, ce.VACANCY_RULES, ce.VacancyAction, ce.VacancyField, ce.VacancyRelation,
             ce.vacancy_where, ce.vacancy_where, ce.may_vacancy),
    Resource("Priority list entry", PriorityListEntry, ce.ENTRY_RULES, ce.ListAction, ce.ListField, ce.ListRelation,
             ce.entry_where, ce.entry_where, ce.may_entry),
    Resource("CE assessment", CeAssessment, ce.ASSESSMENT_RULES, ce.AssessmentAction, ce.AssessmentField,
             ce.ListRelation, ce.ASSESSMENT_RULES.where, lambda v: ce.ASSESSMENT_RULES.where(v, ce.AssessmentAction.READ),
             lambda v, _action, row: ce.may_assessment(v, row)),
)


def _questions(resource: Resource, viewer: Viewer) -> dict[Any, Any]:
    rules = resource.rules
    return {
        **{("action", a): resource.where(viewer, a) for a in resource.actions},
        **{("field", f): rules.field_where(viewer, f) for f in resource.fields},
        **{("relation", r): rules.related_where(viewer, [r]) for r in resource.relations},
        ("read", None): resource.read_where(viewer),
    }


def _answers(resource: Resource, viewer: Viewer, rows: list[Any]) -> dict[Any, set[int]]:
    rules = resource.rules
    answers: dict[Any, set[int]] = {}
    for a in resource.actions:
        answers[("action", a)] = {r.id for r in rows if resource.may(viewer, a, r)}
    for f in resource.fields:
        answers[("field", f)] = {r.id for r in rows if f in rules.visible_fields(viewer, r, None)}
    for rel in resource.relations:
        answers[("relation", rel)] = {r.id for r in rows if rel in rules.relations(viewer, r, None)}
    answers[("read", None)] = answers[("action", resource.actions["READ"])]
    return answers


async def _load(db: Database) -> dict[str, list[Any]]:
    """Every CE row, loaded as the resolvers load it (a check that reads more fails under lazy='raise')."""
    loads: dict[str, tuple[Any, tuple[Any, ...]]] = {
        "CE event": (CeEvent, ce.CE_EVENT_LOAD),
        "Vacancy": (Vacancy, ce.VACANCY_LOAD),
        "Priority list entry": (PriorityListEntry, ce.ENTRY_LOAD),
        "CE assessment": (CeAssessment, ()),  # its standing reads its own column only
    }
    rows: dict[str, list[Any]] = {}
    async with db.read() as s:
        for name, (model, options) in loads.items():
            rows[name] = list((await s.scalars(select(model).options(*options))).unique())
    return rows


@PROPERTY_SETTINGS
@given(world=worlds())
async def test_sql_and_in_memory_ce_policy_agree(db: Database, world: World) -> None:
    await empty_tables(db)
    ids = await _insert(db, world)
    viewers = list(dict.fromkeys(_viewer(spec, ids) for spec in [*world.viewers, *_parties(world)]))
    outsiders = [*nobodies(), *_strangers()]
    rows = await _load(db)

    problems: list[str] = []
    for viewer in [*viewers, *outsiders]:
        # Every resource's questions in one round trip, keyed by the resource's name first.
        questions = {(r.name, *key): (r.model, where) for r in RESOURCES for key, where in _questions(r, viewer).items()}
        sql = await selected_of(db, questions)
        for r in RESOURCES:
            mine = {(kind, key): found for (name, kind, key), found in sql.items() if name == r.name}
            problems += disagreements(viewer, mine, _answers(r, viewer, rows[r.name]), r.name)
    for viewer in outsiders:
        # Independently of both forms: a viewer with no ids, or ids nobody has, stands nowhere.
        for resource in RESOURCES:
            assert not any(resource.rules.relations(viewer, r, None) for r in rows[resource.name]), viewer
    assert not problems, "\n".join(problems)
