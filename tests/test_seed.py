"""The demo seed: a believable network, consistent with how the API creates rows, development only."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from db import hud, migrate
from db.accounts import ContinuumOfCare, Membership, Organization, Role, Site, User
from db.base import utcnow
from db.cases import Case, CaseRecord, CaseSeeker, CaseStage, RecordKind
from db.consent import AgreementScope, Consent, DataSharingAgreement, Scope
from db.coordinated_entry import CeAssessment, CeEvent, PriorityListEntry, Vacancy
from db.engine import Database
from db.enrollments import Enrollment
from db.events import OutboxEvent, SubjectType
from db.programs import ConnectMode, Program, ProgramCategory, ProgramCategoryTag
from db.referrals import ChangeSource, Comment, Referral, ReferralKind, ReferralStatus, StatusChange
from db.seed import DEMO_DOMAIN, DEMO_PASSWORD, SeedSummary, seed_demo
from db.seekers import ContactPreference, Seeker
from db.settings import Settings
from tests.support import serve
from web.app import create_app

DEMO_ACCOUNTS = ("seeker", "navigator", "intake", "ce", "admin")


@pytest.fixture
def development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERLOOP_ENV", "development")
    monkeypatch.setenv("SECRET_KEY", "test-secret")  # so that Settings does not write var/secret_key


async def _migrated(path: Path) -> Database:
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrate.upgrade, url)
    return Database(url)


@pytest.fixture
async def empty_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await _migrated(tmp_path / "empty.sqlite3")
    yield database
    await database.dispose()


@pytest.fixture(scope="module")
async def seeded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Database, SeedSummary]]:
    """One seeded database that the read-only tests share."""
    database = await _migrated(tmp_path_factory.mktemp("seed") / "seeded.sqlite3")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REFERLOOP_ENV", "development")
        patch.setenv("SECRET_KEY", "test-secret")
        started = time.perf_counter()
        summary = await seed_demo(database)
        assert time.perf_counter() - started < 10, "the seed should take a few seconds at most"
    yield database, summary
    await database.dispose()


async def _count(db: Database, model: type) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_counts_match_the_summary_and_the_brief(seeded: tuple[Database, SeedSummary]) -> None:
    db, summary = seeded
    assert summary.organizations == await _count(db, Organization) >= 5
    assert summary.programs == await _count(db, Program) >= 40
    assert summary.seekers == await _count(db, Seeker) >= 50
    assert summary.referrals == await _count(db, Referral) >= 200
    assert summary.users == await _count(db, User) >= 7
    assert await _count(db, Comment) > 0
    async with db.read() as session:
        coc_ids = set((await session.scalars(select(Organization.coc_id))).all())
        assert len(coc_ids) == 1 and None not in coc_ids


async def test_programs_cover_every_category_and_connect_mode(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    async with db.read() as session:
        categories = set((await session.scalars(select(ProgramCategoryTag.category))).all())
        programs = (await session.scalars(select(Program))).all()
        per_program = Counter((await session.scalars(select(ProgramCategoryTag.program_id))).all())
    assert categories == set(ProgramCategory)
    modes = Counter(p.connect_mode for p in programs)
    assert set(modes) == set(ConnectMode)
    assert modes[ConnectMode.EXTERNAL] >= 8
    assert all(1 <= per_program[p.id] <= 2 for p in programs)
    for program in programs:
        assert program.description and program.eligibility
        if program.connect_mode is ConnectMode.EXTERNAL:
            assert program.external_url and program.external_url.startswith("https://")
        else:
            assert program.contact_emails and program.external_url is None
    live = [p for p in programs if p.connect_mode is not ConnectMode.EXTERNAL]
    screened = [p for p in live if p.screener]
    assert len(live) / 4 <= len(screened) <= len(live) / 2
    for question in (q for p in screened for q in p.screener):
        assert set(question) == {"key", "label", "required", "choices"}


async def test_seekers_have_every_preference_and_valid_contact_details(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    async with db.read() as session:
        seekers = (await session.scalars(select(Seeker))).all()
        navigators = set(
            (await session.scalars(select(Membership.user_id).where(Membership.role == Role.NAVIGATOR))).all()
        )
        # Coordinated Entry's assessed clients are the CE managers' profiles.
        ce_managers = set(
            (await session.scalars(select(Membership.user_id).where(Membership.role == Role.CE_MANAGER))).all()
        )
    assert {s.contact_preference for s in seekers} == set(ContactPreference)
    for seeker in seekers:
        assert seeker.created_by_user_id in navigators | ce_managers
        assert seeker.created_at <= seeker.updated_at
        if seeker.contact_preference is ContactPreference.EMAIL:
            assert seeker.email
        if seeker.contact_preference in (ContactPreference.TEXT, ContactPreference.PHONE):
            assert seeker.phone
        if seeker.phone:
            parsed = phonenumbers.parse(seeker.phone)
            assert phonenumbers.is_valid_number(parsed)
            assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == seeker.phone
    phones = [s.phone for s in seekers if s.phone]
    assert len(phones) == len(set(phones))


async def test_demo_accounts_sign_in_with_the_demo_password(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    async with db.read() as session:
        users = {u.email: u for u in (await session.scalars(select(User))).all()}
        memberships = (await session.execute(select(Membership, Site).outerjoin(Site, Site.id == Membership.site_id))).all()
        seeker = await session.scalar(select(Seeker).where(Seeker.user_id == users[f"seeker@{DEMO_DOMAIN}"].id))
        orgs = {o.id: o for o in (await session.scalars(select(Organization))).all()}
    for name in DEMO_ACCOUNTS:
        assert f"{name}@{DEMO_DOMAIN}" in users
    assert all(email.endswith(f"@{DEMO_DOMAIN}") for email in users)
    assert len({u.password_hash for u in users.values()}) == 1  # hashed once
    password_hash = users[f"navigator@{DEMO_DOMAIN}"].password_hash
    assert password_hash is not None
    PasswordHasher().verify(password_hash, DEMO_PASSWORD)

    roles: dict[str, list[tuple[Role, Membership, Site | None]]] = {}
    by_id = {u.id: u.email.split("@")[0] for u in users.values()}
    for membership, site in memberships:
        roles.setdefault(by_id[membership.user_id], []).append((membership.role, membership, site))
    assert seeker is not None and seeker.email and seeker.phone
    assert "seeker" not in roles
    (nav_role, nav, nav_site), = roles["navigator"]
    assert nav_role is Role.NAVIGATOR and nav.team_id is not None and nav_site is not None and not nav_site.tracking_only
    teammates = [m for name, ms in roles.items() for role, m, _ in ms if name != "navigator" and m.team_id == nav.team_id]
    assert any(m.role is Role.NAVIGATOR for m in teammates)
    (outreach_role, _, outreach_site), = roles["outreach"]
    assert outreach_role is Role.NAVIGATOR and outreach_site is not None and outreach_site.tracking_only
    assert [r for r, _, _ in roles["intake"]] == [Role.PROGRAM_STAFF]
    assert [r for r, _, _ in roles["ce"]] == [Role.CE_MANAGER]
    (admin_role, admin, _), = roles["admin"]
    assert admin_role is Role.ADMIN and admin.organization_id == nav.organization_id
    assert {r for r, _, _ in roles["multi"]} == {Role.PROGRAM_STAFF, Role.NAVIGATOR}
    assert orgs[nav.organization_id].name == "Eastside Family Resource Center"


async def test_referrals_are_consistent_with_how_the_api_makes_them(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    async with db.read() as session:
        referrals = (await session.scalars(select(Referral).order_by(Referral.id))).all()
        programs = {p.id: p for p in (await session.scalars(select(Program))).all()}
        sites = {s.id: s for s in (await session.scalars(select(Site))).all()}
        seekers = {s.id: s for s in (await session.scalars(select(Seeker))).all()}
        memberships = {
            (m.user_id, m.organization_id): m for m in (await session.scalars(select(Membership))).all()
        }
        changes = (await session.scalars(select(StatusChange).order_by(StatusChange.id))).all()
        comments = (await session.scalars(select(Comment))).all()
        ce_referrals = set((await session.scalars(select(CeEvent.referral_id))).all())
    assert {r.status for r in referrals} == set(ReferralStatus)
    assert {r.kind for r in referrals} == set(ReferralKind)
    history: dict[int, list[StatusChange]] = {}
    for change in changes:
        history.setdefault(change.referral_id, []).append(change)
    last_comment: dict[int, datetime] = {}
    for comment in comments:
        last_comment[comment.referral_id] = max(last_comment.get(comment.referral_id, comment.created_at), comment.created_at)

    for r in referrals:
        program, seeker = programs[r.program_id], seekers[r.seeker_id]
        site = sites.get(r.site_id) if r.site_id else None
        assert r.program_organization_id == program.organization_id
        assert r.contact_preference is seeker.contact_preference
        if r.kind is ReferralKind.TRACKING_ONLY:
            assert site is not None and site.tracking_only
        elif r.kind is ReferralKind.LOGGED:
            assert program.connect_mode is ConnectMode.EXTERNAL and not (site and site.tracking_only)
        else:
            assert program.connect_mode is not ConnectMode.EXTERNAL and not (site and site.tracking_only)
            assert r.consent and r.consent_at == r.created_at
            if r.id in ce_referrals:  # createCeReferral asks no screener questions
                assert r.screener_answers == []
            else:
                assert [a["key"] for a in r.screener_answers] == [
                    q["key"] for q in program.screener if q["required"] or q["key"] in {a["key"] for a in r.screener_answers}
                ]
        if r.kind is not ReferralKind.LIVE:
            assert not r.consent and r.consent_at is None and r.screener_answers == []
        if r.navigator_id is None:  # a self-referral
            assert seeker.user_id is not None and r.navigator_organization_id is None and r.team_id is None
        else:
            assert r.navigator_organization_id is not None
            membership = memberships[(r.navigator_id, r.navigator_organization_id)]
            # createCeReferral opens the referral as the CoC's CE manager.
            assert membership.role is (Role.CE_MANAGER if r.id in ce_referrals else Role.NAVIGATOR)
            assert (r.team_id, r.site_id) == (membership.team_id, membership.site_id)

        steps = history[r.id]
        creation, *later = steps
        assert creation.from_status is None and creation.to_status is ReferralStatus.NOT_UPDATED
        assert creation.source is ChangeSource.DASHBOARD and creation.at == r.created_at
        assert creation.changed_by_user_id == (r.navigator_id or seeker.user_id)
        assert r.version == 1 + len(later)
        assert steps[-1].to_status is r.status
        for before, after in zip(steps, later):
            assert after.from_status is before.to_status and after.to_status is not before.to_status
            assert before.at <= after.at
        assert r.updated_at == max([steps[-1].at, last_comment.get(r.id, r.created_at), r.created_at])
    now = utcnow()
    assert all(now - timedelta(days=61) < r.created_at <= r.updated_at <= now for r in referrals)
    assert all(r.created_at.tzinfo is not None for r in referrals)
    for seeker in seekers.values():
        own = [r.updated_at for r in referrals if r.seeker_id == seeker.id]
        if own:  # assessed clients not yet referred anywhere have none
            assert seeker.updated_at == max(own)
        else:
            assert seeker.updated_at == seeker.created_at


async def test_every_dashboard_has_something_to_show(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    async with db.read() as session:
        demo_seeker = await session.scalar(
            select(Seeker).join(User, User.id == Seeker.user_id).where(User.email == f"seeker@{DEMO_DOMAIN}")
        )
        assert demo_seeker is not None
        own = (await session.scalars(select(Referral).where(Referral.seeker_id == demo_seeker.id))).all()
        intake_org = await session.scalar(
            select(Membership.organization_id).join(User, User.id == Membership.user_id).where(User.email == f"intake@{DEMO_DOMAIN}")
        )
        inbound = (
            await session.execute(
                select(Referral, Seeker)
                .join(Seeker, Seeker.id == Referral.seeker_id)
                .where(Referral.program_organization_id == intake_org, Referral.kind == ReferralKind.LIVE)
            )
        ).all()
    assert {r.kind for r in own} == set(ReferralKind)
    assert any(r.navigator_id is None for r in own)
    statuses = {r.status for r, _ in inbound}
    assert ReferralStatus.NOT_UPDATED in statuses and len(statuses) > 1
    assert any(s.contact_preference is ContactPreference.NONE for _, s in inbound)


async def _content(db: Database) -> list[tuple[object, ...]]:
    """Everything but timestamps and password hashes, in id order."""
    async with db.read() as session:
        referrals = (
            await session.execute(
                select(Referral, Seeker.first_name, Seeker.last_name, Program.name)
                .join(Seeker, Seeker.id == Referral.seeker_id)
                .join(Program, Program.id == Referral.program_id)
                .order_by(Referral.id)
            )
        ).all()
        notes = (await session.execute(select(StatusChange.referral_id, StatusChange.note).order_by(StatusChange.id))).all()
        comments = (await session.execute(select(Comment.referral_id, Comment.body).order_by(Comment.id))).all()
    rows: list[tuple[object, ...]] = [
        (r.kind, r.status, r.version, r.navigator_id, r.site_id, r.screener_answers, first, last, program)
        for r, first, last, program in referrals
    ]
    return rows + [tuple(n) for n in notes] + [tuple(c) for c in comments]


async def test_the_same_network_every_time(
    seeded: tuple[Database, SeedSummary], development: None, empty_db: Database
) -> None:
    db, _ = seeded
    await seed_demo(empty_db)
    assert await _content(empty_db) == await _content(db)


async def test_if_empty_adds_nothing_the_second_time(seeded: tuple[Database, SeedSummary], development: None) -> None:
    db, summary = seeded
    before = [await _count(db, model) for model in (Organization, Program, Seeker, Referral, User, StatusChange)]
    assert await seed_demo(db, if_empty=True) == SeedSummary(0, 0, 0, 0, 0)
    after = [await _count(db, model) for model in (Organization, Program, Seeker, Referral, User, StatusChange)]
    assert before == after
    with pytest.raises(RuntimeError, match="already"):
        await seed_demo(db)
    assert [await _count(db, model) for model in (Organization, Program, Seeker, Referral, User)] == after[:5]


async def test_seeding_an_empty_database_with_if_empty_seeds(development: None, empty_db: Database) -> None:
    summary = await seed_demo(empty_db, if_empty=True)
    assert summary.referrals >= 200 and summary.organizations == await _count(empty_db, Organization)


async def test_refuses_outside_development(monkeypatch: pytest.MonkeyPatch, empty_db: Database) -> None:
    monkeypatch.setenv("REFERLOOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-key-long-and-random-enough-Qz8w")
    with pytest.raises(RuntimeError, match="development"):
        await seed_demo(empty_db)
    with pytest.raises(RuntimeError, match="development"):
        await seed_demo(empty_db, if_empty=True)
    assert await _count(empty_db, Organization) == 0
    assert await _count(empty_db, User) == 0


# ---------------------------------------------------------------------------------------------
# Coordinated Entry
# ---------------------------------------------------------------------------------------------

HOUSING_TYPES = {0, 2, 3, 9, 13}  # ES, TH, PSH, PH housing only, RRH


async def test_coordinated_entry_has_a_small_cocs_picture(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    async with db.read() as session:
        coc = await session.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == "CA-600"))
        assert coc is not None
        housing = (await session.scalars(select(Program).where(Program.hud_project_type.is_not(None)))).all()
        vacancies = (await session.scalars(select(Vacancy))).all()
        entries = (await session.scalars(select(PriorityListEntry))).all()
        assessments = {a.id: a for a in (await session.scalars(select(CeAssessment))).all()}
        events = (await session.scalars(select(CeEvent).order_by(CeEvent.id))).all()
        referrals = {r.id: r for r in (await session.scalars(select(Referral))).all()}
        enrollments = {e.id: e for e in (await session.scalars(select(Enrollment))).all()}
        seekers = {s.id: s for s in (await session.scalars(select(Seeker))).all()}
        intake_org = await session.scalar(
            select(Membership.organization_id).join(User, User.id == Membership.user_id).where(User.email == f"intake@{DEMO_DOMAIN}")
        )
        outbox = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))).all()
    today = utcnow().date()

    assert {p.hud_project_type for p in housing} == HOUSING_TYPES
    assert all(p.coc_id == coc.id for p in housing)
    by_id = {p.id: p for p in housing}
    open_vacancies = [v for v in vacancies if v.filled_on is None]
    assert len(open_vacancies) == 12 and len(vacancies) - len(open_vacancies) >= 2
    assert all(v.program_id in by_id for v in vacancies)
    days_vacant = {(today - v.opened_on).days for v in open_vacancies}
    assert min(days_vacant) == 1 and max(days_vacant) == 60 and len(days_vacant) >= 10
    assert any(by_id[v.program_id].organization_id == intake_org for v in open_vacancies)

    open_entries = [e for e in entries if e.coc_id == coc.id and e.left_on is None]
    assert len(open_entries) == 100
    assert len({e.seeker_id for e in open_entries}) == 100  # one open entry per client and CoC
    assert {e.household_type for e in open_entries} == {"INDIVIDUAL", "FAMILY", "YOUTH"}
    for entry in entries:
        a = assessments[entry.assessment_id]
        assert (a.seeker_id, a.coc_id, a.score, a.days_homeless, a.household_type) == (
            entry.seeker_id, entry.coc_id, entry.score, entry.days_homeless, entry.household_type
        )
        assert a.prioritization_status == 1 and entry.placed_on == a.assessment_date <= today
        assert hud.is_code(hud.ASSESSMENT_TYPE, a.assessment_type) and hud.is_code(hud.ASSESSMENT_LEVEL, a.assessment_level)
        client = seekers[entry.seeker_id]
        assert hud.is_code(hud.NAME_DATA_QUALITY, client.name_data_quality)
        assert hud.is_code(hud.DOB_DATA_QUALITY, client.dob_data_quality)
        assert (client.dob is not None) == (client.dob_data_quality in (1, 2))
        assert hud.is_code(hud.NO_YES_REASONS, client.veteran_status)
        assert bool(client.races) != (client.race_none is not None)
    assert len({seekers[e.seeker_id].veteran_status for e in entries}) > 2

    stages = Counter(
        "waiting" if e.acknowledged_on is None and e.result is None else "acknowledged" if e.result is None else f"result {e.result}"
        for e in events
    )
    assert stages["waiting"] >= 3 and stages["acknowledged"] >= 2
    assert stages["result 1"] >= 2 and stages["result 2"] >= 2 and stages["result 3"] >= 2
    assert len({(today - e.event_date).days for e in events if e.acknowledged_on is None}) >= 3
    assert sum(e.not_housed_reason is not None for e in events) == 1
    for e in events:
        assert e.referral_id is not None and e.program_id is not None and e.vacancy_id is not None
        referral = referrals[e.referral_id]
        assert (referral.seeker_id, referral.program_id, referral.kind) == (e.seeker_id, e.program_id, ReferralKind.LIVE)
        assert e.event_type == {0: 10, 2: 11, 13: 13, 3: 14, 9: 15}[by_id[e.program_id].hud_project_type or 0]
        expected = {None: ReferralStatus.NOT_UPDATED, 1: ReferralStatus.GOT_HELP, 2: ReferralStatus.NO_LONGER_INTERESTED,
                    3: ReferralStatus.NOT_ELIGIBLE}
        assert referral.status is expected[e.result]
        assert e.version == 1 + (e.acknowledged_on is not None) + (e.result is not None) + (e.not_housed_reason is not None)
        vacancy = next(v for v in vacancies if v.id == e.vacancy_id)
        assert vacancy.opened_on <= e.event_date <= (e.acknowledged_on or e.event_date) <= (e.result_date or today) <= today
        if e.result == 1:
            enrollment = enrollments[e.resulting_enrollment_id or 0]
            assert (enrollment.seeker_id, enrollment.program_id) == (e.seeker_id, e.program_id)
            assert enrollment.entry_date == e.result_date and e.enrollment_id == enrollment.id
            assert vacancy.filled_by_enrollment_id == enrollment.id and vacancy.filled_on == e.result_date
            left = next(x for x in entries if x.seeker_id == e.seeker_id)
            assert (left.left_on, left.left_reason) == (e.result_date, "HOUSED")
        else:
            assert e.resulting_enrollment_id is None
    assert any(e.move_in_date is not None for e in enrollments.values())

    # The week's outbox: CE, vacancy and priority list changes beside the referrals', in time order.
    subjects = {o.subject_type for o in outbox}
    assert {SubjectType.CE_EVENT, SubjectType.VACANCY, SubjectType.PRIORITY_LIST, SubjectType.REFERRAL} <= subjects
    assert [o.at for o in outbox] == sorted(o.at for o in outbox)
    assert all(utcnow() - timedelta(days=7, minutes=5) <= o.at for o in outbox)
    actions = {o.change.get("action") for o in outbox if o.subject_type is SubjectType.CE_EVENT}
    assert {"REFERRED", "ACKNOWLEDGED", "RESOLVED"} <= actions


CE_QUERY = """
query($coc: String!) {
  priorityList(cocCode: $coc, first: 50) {
    totalCount pageInfo { hasNextPage } edges { node { id score householdType seeker { firstName } } }
  }
  vacancies(cocCode: $coc, open: true) { id daysVacant program { name } }
  ceEvents(cocCode: $coc, first: 50) { totalCount edges { node { id status daysWaiting notHousedReason } } }
  wallboard(cocCode: $coc) {
    vacancies { id programName daysVacant }
    priorityHead(first: 3) { initials score }
    ceWaiting { id initials programName daysWaiting }
  }
}
"""


async def test_the_ce_manager_sees_it_through_the_api(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    settings = Settings(environment="test", database_url=db.url, broadcast_url="memory://", secret_key="test-secret-key-for-signing-tokens-000")
    async with serve(create_app(settings)) as host:
        async with httpx.AsyncClient(base_url=f"http://{host}", timeout=20) as http:
            login = await http.post("/auth/login", json={"email": f"ce@{DEMO_DOMAIN}", "password": DEMO_PASSWORD})
            assert login.status_code == 200, login.text
            headers = {"authorization": f"Bearer {login.json()['token']}"}
            response = await http.post("/graphql", json={"query": CE_QUERY, "variables": {"coc": "CA-600"}}, headers=headers)
            body = response.json()
    assert not body.get("errors"), body
    data = body["data"]
    listed = data["priorityList"]
    assert listed["totalCount"] == 100 and len(listed["edges"]) == 50 and listed["pageInfo"]["hasNextPage"]
    scores = [edge["node"]["score"] for edge in listed["edges"]]
    assert scores == sorted(scores, reverse=True)
    assert len(data["vacancies"]) == 12
    assert sorted(v["daysVacant"] for v in data["vacancies"])[::11] == [1, 60]
    statuses = Counter(edge["node"]["status"] for edge in data["ceEvents"]["edges"])
    assert set(statuses) == {"WAITING", "ACKNOWLEDGED", "RESOLVED"} and data["ceEvents"]["totalCount"] == sum(statuses.values())
    assert sum(edge["node"]["notHousedReason"] is not None for edge in data["ceEvents"]["edges"]) == 1
    wall = data["wallboard"]
    assert len(wall["vacancies"]) == 12 and len(wall["priorityHead"]) == 3
    assert len(wall["ceWaiting"]) == statuses["WAITING"] and len({w["daysWaiting"] for w in wall["ceWaiting"]}) >= 3


CASE_FIELDS = """id stage withheld household { firstName lastName isHead phone }
  leadOrganization { name } leadContacts { person { name } } records { kind scope organizationId body }"""
CASES_QUERY = "query { cases(first: 20) { edges { node { id } } } }"
CASE_QUERY = f"query($id: ID!) {{ case(id: $id) {{ {CASE_FIELDS} }} }}"


async def test_shared_cases_and_releases_in_every_state(seeded: tuple[Database, SeedSummary]) -> None:
    db, _ = seeded
    today = date.today()
    async with db.read() as session:
        cases = (await session.scalars(select(Case).order_by(Case.id))).all()
        heads = dict((await session.execute(select(CaseSeeker.case_id, CaseSeeker.seeker_id).where(CaseSeeker.is_head))).all())
        members = (await session.scalars(select(CaseSeeker))).all()
        seekers = {s.id: s for s in (await session.scalars(select(Seeker).where(Seeker.id.in_([m.seeker_id for m in members])))).all()}
        consents = (await session.scalars(select(Consent))).all()
        records = (await session.scalars(select(CaseRecord))).all()
        agreement = (await session.scalars(select(DataSharingAgreement))).one()
        agreement_scopes = set((await session.scalars(select(AgreementScope.scope))).all())
        orgs = dict((await session.execute(select(Organization.name, Organization.id))).all())
    assert {c.stage for c in cases} == set(CaseStage)
    closed = [c for c in cases if c.stage is CaseStage.CLOSED]
    assert closed and all(c.closure_reason is not None and c.closed_on is not None for c in closed)
    assert all(c.assistance_ends_on for c in cases if c.moved_in_on)
    assert agreement_scopes == {Scope.CASE_NOTES, Scope.CONTACT, Scope.CHILD_WELFARE, Scope.REFERRALS} and agreement.purpose
    for m in members:
        born = seekers[m.seeker_id].dob
        assert born is not None and ((today - born).days / 365.25 >= 18) == m.is_head
    states = Counter(_consent_state(c, today) for c in consents)
    assert set(states) == {"ACTIVE", "PENDING", "EXPIRED", "REVOKED"}
    consented = {c.seeker_id for c in consents}
    assert sum(heads[c.id] not in consented for c in cases) == 1  # one family has no release at all
    by_kind = Counter(r.kind for r in records)
    assert set(by_kind) == set(RecordKind) - {RecordKind.LINK}
    assert {r.organization_id for r in records} == {orgs["Harbor Supportive Housing"], orgs["County Department of Children and Family Services"]}
    assert any(r.scope is Scope.CHILD_WELFARE for r in records)
    for case in cases:  # the need rises and falls
        levels = [r.details["intensity"] for r in sorted(records, key=lambda r: (r.on, r.id)) if r.case_id == case.id and r.kind is RecordKind.CONTACT]
        assert levels
    assert any(len(set(levels)) > 1 for levels in [[r.details["intensity"] for r in records if r.case_id == c.id and r.kind is RecordKind.CONTACT] for c in cases])

    listed = await _as(db, [("caseworker", CASES_QUERY, {}), ("housing-cm", CASES_QUERY, {})])
    ids = [[e["node"]["id"] for e in v["cases"]["edges"]] for v in listed]
    assert ids[0] == ids[1]
    views = await _as(db, [(who, CASE_QUERY, {"id": cid}) for who in ("caseworker", "housing-cm") for cid in ids[0]])
    worker = {v["case"]["id"]: v["case"] for v in views[: len(ids[0])]}
    lead = {v["case"]["id"]: v["case"] for v in views[len(ids[0]):]}
    assert worker.keys() == lead.keys() and len(worker) == len(cases)
    hidden = [c for c in worker.values() if c["household"] == []]
    shown = [c for c in worker.values() if c["household"]]
    assert len(shown) == 2 and len(hidden) == 4  # two releases in force; pending, expired, revoked and none withhold
    for case in hidden:
        assert {"HOUSEHOLD", "CONTACT", "STAGE"} <= set(case["withheld"]) and case["stage"] is None
        assert case["leadOrganization"]["name"] == "Harbor Supportive Housing" and case["leadContacts"] == [{"person": {"name": "Nora Bell"}}]
        assert {r["organizationId"] for r in case["records"]} == {worker_org := case["records"][0]["organizationId"]}  # only its own
    for cid, case in lead.items():
        assert case["household"] and case["withheld"] == [] and case["stage"]
        assert all(r["kind"] != "ASSISTANCE" for r in worker[cid]["records"])  # money never crosses: not in the agreement
    solis = next(cid for cid, c in lead.items() if c["household"][0]["lastName"] == "Solis")
    assert worker[solis]["household"][0]["phone"] and worker[solis]["withheld"] == []
    assert any(r["organizationId"] != worker_org for r in worker[solis]["records"])
    # The release for Solis leaves out child welfare: the housing side does not see those notes.
    assert all(r["scope"] != "CHILD_WELFARE" for r in lead[solis]["records"])
    assert any(r["scope"] == "CHILD_WELFARE" for r in worker[solis]["records"])


def _consent_state(consent: Consent, today: date) -> str:
    if consent.revoked_at is not None:
        return "REVOKED"
    if consent.starts_on > today:
        return "PENDING"
    return "EXPIRED" if consent.ends_on < today else "ACTIVE"


async def _as(db: Database, asks: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each (account, query, variables) answered through the real server."""
    settings = Settings(environment="test", database_url=db.url, broadcast_url="memory://", secret_key="test-secret-key-for-signing-tokens-000")
    answers: list[dict[str, Any]] = []
    async with serve(create_app(settings)) as host:
        async with httpx.AsyncClient(base_url=f"http://{host}", timeout=20) as http:
            tokens: dict[str, str] = {}
            for account, query, variables in asks:
                if account not in tokens:
                    login = await http.post("/auth/login", json={"email": f"{account}@{DEMO_DOMAIN}", "password": DEMO_PASSWORD})
                    assert login.status_code == 200, login.text
                    tokens[account] = login.json()["token"]
                headers = {"authorization": f"Bearer {tokens[account]}"}
                body = (await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()
                assert not body.get("errors"), body
                answers.append(body["data"])
    return answers
