"""The policy's two forms agree: the SQL that lists rows and the check on a loaded row can never drift.

Every standing, action, field and settable status of `resolvers.policy` is written twice, once as
SQL (`where`, `field_where`, `status_where`) and once in Python (`may`, `visible_fields`,
`settable_statuses`). Hypothesis builds small random worlds (CoCs, organizations with and without a
CoC, teams, housing and other programs, live and external, seekers, users, referrals of every kind,
status, contact preference and consent, with and without a referrer) and random viewers of every
role, with ids that exist, ids that do not, and None; each example then asks both forms about every
row and requires the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from db.accounts import ContinuumOfCare, Organization, Role, Team, User
from db.engine import Database
from db.programs import ConnectMode, Program, ProgramCategory, ProgramCategoryTag
from db.referrals import REFERRAL_LOAD, Referral, ReferralKind, ReferralStatus
from db.seekers import ContactPreference, Seeker
from resolvers.policy import referrals as referral_policy
from resolvers.policy import seekers as seeker_policy
from resolvers.viewer import MembershipInfo, Viewer
from tests.policy_worlds import (
    MISSING,
    PROPERTY_SETTINGS,
    disagreements,
    empty_tables,
    index_or,
    nobodies,
    pick,
    selected,
)


@dataclass(frozen=True)
class ReferrerSpec:
    """Who made a referral; every part may be missing (a self-referral has none of them)."""

    user: int | None
    organization: int | None
    team: int | None


@dataclass(frozen=True)
class ReferralSpec:
    seeker: int
    program: int
    kind: ReferralKind
    status: ReferralStatus
    contact_preference: ContactPreference
    consent: bool
    referrer: ReferrerSpec | None


@dataclass(frozen=True)
class ProgramSpec:
    organization: int
    housing: bool
    also_food: bool
    mode: ConnectMode
    active: bool


@dataclass(frozen=True)
class ViewerSpec:
    """Indexes into the world's rows; MISSING for an id that exists nowhere, None for none."""

    role: Role
    user: int | None
    seeker: int | None
    acting: tuple[int | None, int | None, int | None] | None  # organization, CoC, team


@dataclass(frozen=True)
class World:
    cocs: int
    organizations: list[int | None]  # each one's CoC
    teams: list[int]  # each one's organization
    programs: list[ProgramSpec]
    users: int
    seekers: list[int | None]  # each one's creator
    referrals: list[ReferralSpec]
    viewers: list[ViewerSpec]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    cocs = draw(st.integers(1, 3))
    organizations = draw(st.lists(index_or(cocs, None), min_size=2, max_size=5))
    n_orgs = len(organizations)
    teams = draw(st.lists(st.integers(0, n_orgs - 1), max_size=3))
    programs = draw(
        st.lists(
            st.builds(
                ProgramSpec,
                organization=st.integers(0, n_orgs - 1),
                housing=st.booleans(),
                also_food=st.booleans(),
                mode=st.sampled_from([ConnectMode.REFER, ConnectMode.APPLY, ConnectMode.EXTERNAL]),
                active=st.booleans(),
            ),
            min_size=1,
            max_size=5,
        )
    )
    users = draw(st.integers(1, 5))
    seekers = draw(st.lists(index_or(users, None), min_size=1, max_size=5))
    referrer = st.builds(
        ReferrerSpec,
        user=index_or(users, None),
        organization=index_or(n_orgs, None),
        team=index_or(len(teams), None),
    )
    referrals = draw(
        st.lists(
            st.builds(
                ReferralSpec,
                seeker=st.integers(0, len(seekers) - 1),
                program=st.integers(0, len(programs) - 1),
                kind=st.sampled_from(ReferralKind),
                status=st.sampled_from(ReferralStatus),
                contact_preference=st.sampled_from(ContactPreference),
                consent=st.booleans(),
                # A self-referral (no referrer at all) one time in three.
                referrer=st.integers(0, 2).flatmap(lambda k: referrer if k else st.none()),
            ),
            min_size=1,
            max_size=12,
        )
    )
    acting = st.one_of(
        st.none(),
        st.tuples(index_or(n_orgs, None, MISSING), index_or(cocs, None, MISSING), index_or(len(teams), None, MISSING)),
    )
    anywhere = st.builds(
        ViewerSpec,
        role=st.sampled_from(Role),
        user=index_or(users, None, MISSING),
        seeker=index_or(len(seekers), None, MISSING),
        acting=acting,
    )
    viewers = draw(st.lists(anywhere, min_size=1, max_size=3))
    # Random viewers rarely stand anywhere; most are built from one referral's own parties (its
    # seeker, its referrer, its program's organization and CoC), each part kept or replaced.
    for _ in range(draw(st.integers(0, 6)) if referrals else 0):
        r = referrals[draw(st.integers(0, len(referrals) - 1))]
        who = r.referrer or ReferrerSpec(None, None, None)
        program_org = programs[r.program].organization
        role = draw(st.sampled_from(Role))
        sides = {Role.NAVIGATOR: [who.organization], Role.ADMIN: [who.organization, program_org]}
        org = draw(st.sampled_from([o for o in sides.get(role, [program_org]) if o is not None] or [program_org]))
        coc = organizations[org]

        def keep(value: Any, other: st.SearchStrategy[Any]) -> Any:
            return value if draw(st.integers(0, 3)) else draw(other)

        viewers.append(
            ViewerSpec(
                role=role,
                user=keep(who.user, index_or(users, None, MISSING)),
                seeker=keep(r.seeker, index_or(len(seekers), None, MISSING)),
                acting=keep(
                    (org, coc, keep(who.team, index_or(len(teams), None, MISSING))),
                    acting,
                ),
            )
        )
    return World(cocs, organizations, teams, programs, users, seekers, referrals, viewers)


@dataclass
class Ids:
    cocs: list[int]
    organizations: list[int]
    teams: list[int]
    users: list[int]
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
        s.add_all(orgs)
        await s.flush()
        teams = [Team(organization_id=orgs[o].id, name=f"Team {i}") for i, o in enumerate(world.teams)]
        users = [User(email=f"user{i}@property.example", name=f"User {i}") for i in range(world.users)]
        s.add_all([*teams, *users])
        await s.flush()
        programs = []
        for i, p in enumerate(world.programs):
            program = Program(
                organization_id=orgs[p.organization].id, name=f"Program {i}", connect_mode=p.mode, is_active=p.active
            )
            categories = [ProgramCategory.HOUSING] if p.housing else []
            if p.also_food or not categories:
                categories.append(ProgramCategory.FOOD)
            program.categories = [ProgramCategoryTag(category=c) for c in categories]
            programs.append(program)
        seekers = [
            Seeker(
                first_name=f"Seeker{i}",
                last_name="Test",
                email=f"seeker{i}@example.com",
                contact_preference=ContactPreference.EMAIL,
                created_by_user_id=users[c].id if c is not None else None,
            )
            for i, c in enumerate(world.seekers)
        ]
        s.add_all([*programs, *seekers])
        await s.flush()
        for r in world.referrals:
            program = programs[r.program]
            who = r.referrer
            s.add(
                Referral(
                    kind=r.kind,
                    status=r.status,
                    seeker_id=seekers[r.seeker].id,
                    program_id=program.id,
                    program_organization_id=program.organization_id,
                    navigator_id=users[who.user].id if who and who.user is not None else None,
                    navigator_organization_id=orgs[who.organization].id if who and who.organization is not None else None,
                    team_id=teams[who.team].id if who and who.team is not None else None,
                    contact_preference=r.contact_preference,
                    consent=r.consent,
                )
            )
        await s.flush()
        return Ids(
            cocs=[c.id for c in cocs],
            organizations=[o.id for o in orgs],
            teams=[t.id for t in teams],
            users=[u.id for u in users],
            seekers=[x.id for x in seekers],
        )


def _viewer(spec: ViewerSpec, ids: Ids) -> Viewer:
    acting = None
    if spec.acting is not None:
        org, coc, team = spec.acting
        acting = MembershipInfo(
            organization_id=pick(ids.organizations, org),  # type: ignore[arg-type]
            organization_name="Acting org",
            coc_id=pick(ids.cocs, coc),
            coc_code=None,
            role=spec.role,
            team_id=pick(ids.teams, team),
            site_id=None,
        )
    return Viewer(
        user_id=pick(ids.users, spec.user),
        email="viewer@property.example",
        name="Viewer",
        role=spec.role,
        seeker_id=pick(ids.seekers, spec.seeker),
        acting=acting,
        memberships=(acting,) if acting else (),
    )


def _parties(world: World) -> list[ViewerSpec]:
    """Exactly the parties of the first few referrals, so that every standing is met in most examples."""
    specs = []
    for r in world.referrals[:3]:
        who = r.referrer or ReferrerSpec(None, None, None)
        program_org = world.programs[r.program].organization
        specs.append(ViewerSpec(Role.SEEKER, None, r.seeker, None))
        if who.organization is not None:
            referrer_side = (who.organization, world.organizations[who.organization], who.team)
            specs.append(ViewerSpec(Role.NAVIGATOR, who.user, None, referrer_side))
            specs.append(ViewerSpec(Role.ADMIN, who.user, None, referrer_side))
        program_side = (program_org, world.organizations[program_org], None)
        specs += [ViewerSpec(role, None, None, program_side) for role in (Role.PROGRAM_STAFF, Role.ADMIN, Role.CE_MANAGER)]
    return specs


def _referral_questions(viewer: Viewer) -> dict[Any, Any]:
    rules = referral_policy.RULES
    return {
        **{("action", a): rules.where(viewer, a) for a in referral_policy.Action},
        **{("field", f): rules.field_where(viewer, f) for f in referral_policy.Field},
        **{("status", s): referral_policy.status_where(viewer, s) for s in ReferralStatus},
        **{("relation", r): rules.related_where(viewer, [r]) for r in referral_policy.Relation},
        ("read", None): referral_policy.where(viewer),
    }


def _referral_answers(viewer: Viewer, referrals: list[Referral]) -> dict[Any, set[int]]:
    answers: dict[Any, set[int]] = {}
    for a in referral_policy.Action:
        answers[("action", a)] = {r.id for r in referrals if referral_policy.may(viewer, a, r)}
    for f in referral_policy.Field:
        answers[("field", f)] = {r.id for r in referrals if f in referral_policy.visible_fields(viewer, r)}
    for s in ReferralStatus:
        answers[("status", s)] = {r.id for r in referrals if s in referral_policy.settable_statuses(viewer, r)}
    for rel in referral_policy.Relation:
        answers[("relation", rel)] = {r.id for r in referrals if rel in referral_policy.relations(viewer, r)}
    answers[("read", None)] = answers[("action", referral_policy.Action.READ)]
    return answers


def _seeker_questions(viewer: Viewer) -> dict[Any, Any]:
    rules = seeker_policy.RULES
    return {
        **{("action", a): rules.where(viewer, a) for a in seeker_policy.Action},
        **{("field", f): rules.field_where(viewer, f) for f in seeker_policy.Field},
        **{("relation", r): rules.related_where(viewer, [r]) for r in seeker_policy.Relation},
        ("helped", None): seeker_policy.helped_where(viewer),
        ("read", None): seeker_policy.where(viewer),
    }


def _seeker_answers(viewer: Viewer, seekers: list[Seeker], facts: dict[int, seeker_policy.SeekerFacts]) -> dict[Any, set[int]]:
    rules = seeker_policy.RULES
    answers: dict[Any, set[int]] = {}
    for a in seeker_policy.Action:
        answers[("action", a)] = {s.id for s in seekers if rules.may(viewer, a, s, facts[s.id])}
    for f in seeker_policy.Field:
        answers[("field", f)] = {s.id for s in seekers if f in seeker_policy.visible_fields(viewer, s, facts[s.id])}
    for rel in seeker_policy.Relation:
        answers[("relation", rel)] = {s.id for s in seekers if rel in rules.relations(viewer, s, facts[s.id])}
    answers[("helped", None)] = answers[("relation", seeker_policy.Relation.HELPER)]
    answers[("read", None)] = answers[("action", seeker_policy.Action.READ)]
    return answers


@PROPERTY_SETTINGS
@given(world=worlds())
async def test_sql_and_in_memory_policy_agree(db: Database, world: World) -> None:
    await empty_tables(db)
    ids = await _insert(db, world)
    viewers = list(dict.fromkeys(_viewer(spec, ids) for spec in [*world.viewers, *_parties(world)]))
    no_ids = nobodies()

    async with db.read() as s:
        referrals = list((await s.scalars(select(Referral).options(*REFERRAL_LOAD))).unique())
    # The seeker rules read the person's referrals as `load_facts` loads them: columns only.
    async with db.read() as s:
        seekers = list(await s.scalars(select(Seeker)))
        facts = await seeker_policy.load_facts(s, [x.id for x in seekers])

    problems: list[str] = []
    for viewer in [*viewers, *no_ids]:
        sql = await selected(db, Referral, _referral_questions(viewer))
        problems += disagreements(viewer, sql, _referral_answers(viewer, referrals))
        sql_seekers = await selected(db, Seeker, _seeker_questions(viewer))
        problems += disagreements(viewer, sql_seekers, _seeker_answers(viewer, seekers, facts))
    for viewer in no_ids:
        # Independently of both forms: a viewer with no ids stands nowhere.
        assert not any(referral_policy.relations(viewer, r) for r in referrals), viewer
        assert not any(seeker_policy.RULES.relations(viewer, x, facts[x.id]) for x in seekers), viewer
    assert not problems, "\n".join(problems)
