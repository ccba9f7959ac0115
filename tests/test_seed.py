"""The demo seed: a believable network, consistent with how the API creates rows, development only."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import phonenumbers
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from db import migrate
from db.accounts import Membership, Organization, Role, Site, User
from db.base import utcnow
from db.engine import Database
from db.programs import ConnectMode, Program, ProgramCategory, ProgramCategoryTag
from db.referrals import ChangeSource, Comment, Referral, ReferralKind, ReferralStatus, StatusChange
from db.seed import DEMO_DOMAIN, DEMO_PASSWORD, SeedSummary, seed_demo
from db.seekers import ContactPreference, Seeker

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
    assert {s.contact_preference for s in seekers} == set(ContactPreference)
    for seeker in seekers:
        assert seeker.created_by_user_id in navigators
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
            assert membership.role is Role.NAVIGATOR
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
        assert seeker.updated_at == max(r.updated_at for r in referrals if r.seeker_id == seeker.id)


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
    monkeypatch.setenv("SECRET_KEY", "x")
    with pytest.raises(RuntimeError, match="development"):
        await seed_demo(empty_db)
    with pytest.raises(RuntimeError, match="development"):
        await seed_demo(empty_db, if_empty=True)
    assert await _count(empty_db, Organization) == 0
    assert await _count(empty_db, User) == 0
