"""Shared performance measures through the real API: exact figures over referrals of known timings, refusals, cost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from db.accounts import ContinuumOfCare, Organization, Role, User
from db.coordinated_entry import CeEvent
from db.engine import Database
from db.enrollments import Enrollment, Household
from db.programs import ConnectMode, Program, ProgramCategory, ProgramCategoryTag
from db.referrals import ChangeSource, Referral, ReferralKind, ReferralStatus, StatusChange
from db.seekers import ContactPreference, Seeker
from db.settings import Settings
from resolvers.runtime import Runtime
from resolvers.viewer import load_viewer
from schema import schema
from schema.context import Context
from schema.ids import to_global_id
from tests.documents import CREATE_REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.support import Api, Network, add_member
from tests.test_lists import count_statements

INTAKE = "intake@test.example"  # PROGRAM_STAFF of the Harbor Food Bank (the pantry's organization)
CLINIC = "clinic@test.example"  # PROGRAM_STAFF of the Northside Clinic
NAVIGATOR = "navigator@test.example"
SEEKER = "seeker@test.example"
ADMIN = "director@test.example"
CE = "ce@test.example"
OTHER_CE = "ce-other@test.example"
COC = "XX-500"

PERFORMANCE = """
query($scope: PerformanceScopeInput!, $from: Date!, $to: Date!) {
  performance(scope: $scope, from: $from, to: $to) {
    scope { kind id name } from to
    referralsMade acknowledged acknowledgedShare medianDaysToAcknowledge
    gotHelp gotHelpShare resolved resolvedShare medianDaysToResolve
    enrolled enrolledShare housed housedShare medianDaysToMoveIn
    byStatus { status count }
    byNotHousedReason { reason count }
    series { periodStart made gotHelp housed }
  }
}
"""
SCOPES = "query { performanceScopes { kind id name organizationName } }"
FROM, TO = "2025-01-01", "2025-03-31"


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=timezone.utc)


@dataclass
class World:
    network: Network
    users: dict[str, int]
    housing: int


async def _referral(
    db: Database,
    *,
    program: int,
    organization: int,
    created: datetime,
    changes: Sequence[tuple[float, ReferralStatus, int | None, ChangeSource]] = (),
    kind: ReferralKind = ReferralKind.LIVE,
    enrollment: tuple[date, date | None] | None = None,
    ce: dict[str, object] | None = None,
) -> int:
    """A referral of a new person made at `created`, with status changes `days` after it, as (days, to, by, source)."""
    async with db.write() as s:
        seeker = Seeker(first_name="Pat", last_name=f"P{created:%m%d%H}", contact_preference=ContactPreference.EMAIL)
        s.add(seeker)
        await s.flush()
        status = changes[-1][1] if changes else ReferralStatus.NOT_UPDATED
        referral = Referral(
            kind=kind, status=status, version=1 + len(changes), seeker_id=seeker.id, program_id=program,
            program_organization_id=organization, navigator_id=1, navigator_organization_id=None,
            contact_preference=ContactPreference.EMAIL, consent=True, created_at=created, updated_at=created,
        )
        s.add(referral)
        await s.flush()
        s.add(StatusChange(referral_id=referral.id, from_status=None, to_status=ReferralStatus.NOT_UPDATED,
                           changed_by_user_id=1, source=ChangeSource.DASHBOARD, at=created))
        previous = ReferralStatus.NOT_UPDATED
        for days, to, by, source in changes:
            s.add(StatusChange(referral_id=referral.id, from_status=previous, to_status=to, changed_by_user_id=by,
                               source=source, at=created + timedelta(days=days)))
            previous = to
        if enrollment is not None:
            household = Household()
            s.add(household)
            await s.flush()
            s.add(Enrollment(seeker_id=seeker.id, program_id=program, household_id=household.id, entry_date=enrollment[0],
                             move_in_date=enrollment[1], relationship_to_hoh=1))
        if ce is not None:
            s.add(CeEvent(seeker_id=seeker.id, referral_id=referral.id, program_id=program, event_type=13,
                          event_date=created.date(), **ce))
        await s.flush()
        return referral.id


async def build_world(db: Database, network: Network) -> World:
    """Seven pantry referrals of known timings in Q1 2025, one to the clinic, one CE referral, and some outside."""
    await add_member(db, ADMIN, organization_id=network.pks["food"], role=Role.ADMIN, name="Dana Director")
    await add_member(db, CE, organization_id=network.pks["navs"], role=Role.CE_MANAGER, name="Cora CE")
    async with db.write() as s:
        users = {u.email: u.id for u in await s.scalars(select(User))}
        coc = await s.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == COC))
        assert coc is not None
        other = ContinuumOfCare(code="YY-100", name="Other County CoC")
        s.add(other)
        await s.flush()
        other_org = Organization(name="Other County CE", coc_id=other.id)
        housing = Program(organization_id=network.pks["clinic"], name="Clinic Rapid Rehousing", connect_mode=ConnectMode.APPLY,
                          hud_project_type=13, coc_id=coc.id)
        housing.categories = [ProgramCategoryTag(category=ProgramCategory.HOUSING)]
        s.add_all([other_org, housing])
        await s.flush()
        other_org_id, housing_id = other_org.id, housing.id
    await add_member(db, OTHER_CE, organization_id=other_org_id, role=Role.CE_MANAGER, name="Otis Other")
    intake, navigator, sam, clinic = users[INTAKE], users[NAVIGATOR], users[SEEKER], users[CLINIC]
    pantry, food = network.pks["pantry"], network.pks["food"]
    dash, email = ChangeSource.DASHBOARD, ChangeSource.EMAIL
    S = ReferralStatus

    async def to_pantry(created: datetime, *changes: tuple[float, ReferralStatus, int | None, ChangeSource], **kw: object) -> int:
        return await _referral(db, program=pantry, organization=food, created=created, changes=list(changes), **kw)  # type: ignore[arg-type]

    # Answered in 1 day, helped in 4; enrolled on 20 Jan, moved in on 25 Jan: 15 days from the referral's day.
    await to_pantry(at("2025-01-10"), (1, S.PENDING, intake, dash), (4, S.GOT_HELP, intake, dash),
                    enrollment=(date(2025, 1, 20), date(2025, 1, 25)))
    # The navigator's PENDING is not the program's answer; the program's NOT_ELIGIBLE on day 3 is. Enrolled later, no move-in.
    await to_pantry(at("2025-01-20"), (0.5, S.PENDING, navigator, dash), (3, S.NOT_ELIGIBLE, intake, dash),
                    enrollment=(date(2025, 1, 25), None))
    # A program contact's one-click email (no account): an answer, on day 2.
    await to_pantry(at("2025-02-05", 0), (2, S.COULDNT_CONTACT, None, email))
    # The seeker closes it themselves: got help, resolved in 1 day, not an answer; an enrollment from before does not count.
    await to_pantry(at("2025-02-10"), (1, S.GOT_HELP, sam, dash), enrollment=(date(2025, 2, 1), date(2025, 2, 2)))
    # Nobody at the program answered: staff of another organization's program is not the program's side.
    await to_pantry(at("2025-03-01"), (2, S.PENDING, clinic, dash))
    # An email link without an account to a status a seeker's link offers: not counted as the program's answer.
    await to_pantry(at("2025-03-15", 6), (1.5, S.GOT_HELP, None, email))
    # Answered in six hours, still in progress.
    await to_pantry(at("2025-03-20"), (0.25, S.ELIGIBLE, intake, dash))
    # Not counted anywhere: logged (never reached the program), before and after the range.
    await to_pantry(at("2025-02-01"), kind=ReferralKind.LOGGED)
    await to_pantry(at("2024-12-31", 23))
    await to_pantry(at("2025-04-01", 0))
    # The CoC's: a clinic referral nobody answered, and a CE referral acknowledged on day 2, then refused on day 5.
    await _referral(db, program=network.pks["clinic_program"], organization=network.pks["clinic"], created=at("2025-01-05"))
    await _referral(
        db, program=housing_id, organization=network.pks["clinic"], created=at("2025-02-15"),
        changes=[(5, S.NOT_ELIGIBLE, clinic, dash)],
        ce={"coc_id": coc.id, "acknowledged_on": date(2025, 2, 17), "result": 3, "result_date": date(2025, 2, 20),
            "not_housed_reason": "LANDLORD_DECLINED"},
    )
    return World(network=network, users=users, housing=housing_id)


@pytest.fixture
async def world(db: Database, network: Network) -> World:
    return await build_world(db, network)


def program_scope(world: World, name: str = "pantry") -> dict[str, str]:
    return {"programId": world.network[name]}


async def measures(api: Api, scope: dict[str, str], *, as_: str, start: str = FROM, end: str = TO) -> dict[str, Any]:
    data = await api.gql(PERFORMANCE, {"scope": scope, "from": start, "to": end}, as_=as_)
    result: dict[str, Any] = data["performance"]
    return result


def counts(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {row[key]: row["count"] for row in rows if row["count"]}


async def test_a_programs_figures_are_exact(api: Api, world: World) -> None:
    p = await measures(api, program_scope(world), as_=INTAKE)
    assert p["scope"] == {"kind": "PROGRAM", "id": world.network["pantry"], "name": "Harbor Pantry"}
    assert (p["from"], p["to"]) == (FROM, TO)
    assert p["referralsMade"] == 7
    # Answered: 0.25, 1, 2 and 3 days -> median 1.5.
    assert (p["acknowledged"], p["medianDaysToAcknowledge"]) == (4, 1.5)
    assert p["acknowledgedShare"] == pytest.approx(4 / 7)
    assert (p["gotHelp"], p["gotHelpShare"]) == (3, pytest.approx(3 / 7))
    # Closed: 1, 1.5, 2, 3, 4 days -> median 2.
    assert (p["resolved"], p["resolvedShare"], p["medianDaysToResolve"]) == (5, pytest.approx(5 / 7), 2.0)
    assert (p["enrolled"], p["enrolledShare"]) == (2, pytest.approx(2 / 7))
    assert (p["housed"], p["housedShare"], p["medianDaysToMoveIn"]) == (1, pytest.approx(1 / 7), 15.0)
    assert counts(p["byStatus"], "status") == {
        "GOT_HELP": 3, "NOT_ELIGIBLE": 1, "COULDNT_CONTACT": 1, "PENDING": 1, "ELIGIBLE": 1
    }
    assert len(p["byStatus"]) == len(ReferralStatus)
    assert counts(p["byNotHousedReason"], "reason") == {}
    assert p["series"] == [
        {"periodStart": "2025-01-01", "made": 2, "gotHelp": 1, "housed": 1},
        {"periodStart": "2025-02-01", "made": 2, "gotHelp": 1, "housed": 0},
        {"periodStart": "2025-03-01", "made": 3, "gotHelp": 1, "housed": 0},
    ]


async def test_everyone_allowed_gets_the_same_figures_and_the_coc_counts_every_program(api: Api, world: World) -> None:
    as_intake = await measures(api, program_scope(world), as_=INTAKE)
    assert await measures(api, program_scope(world), as_=CE) == as_intake
    organization = await measures(api, {"organizationId": world.network["food"]}, as_=ADMIN)
    assert {k: v for k, v in organization.items() if k != "scope"} == {k: v for k, v in as_intake.items() if k != "scope"}
    assert organization["scope"] == {"kind": "ORGANIZATION", "id": world.network["food"], "name": "Harbor Food Bank"}
    assert await measures(api, {"organizationId": world.network["food"]}, as_=INTAKE) == organization

    coc = await measures(api, {"cocCode": COC}, as_=CE)
    assert coc["scope"] == {"kind": "COC", "id": COC, "name": "Test County CoC"}
    assert coc["referralsMade"] == 9
    # The CE referral's acknowledgement (day 2) comes before the program's status change (day 5).
    assert (coc["acknowledged"], coc["medianDaysToAcknowledge"]) == (5, 2.0)
    # Closed: 1, 1.5, 2, 3, 4 and 5 days -> the mean of the middle two, 2.5.
    assert (coc["resolved"], coc["medianDaysToResolve"]) == (6, 2.5)
    assert coc["gotHelp"] == 3
    assert counts(coc["byNotHousedReason"], "reason") == {"LANDLORD_DECLINED": 1}
    assert counts(coc["byStatus"], "status")["NOT_UPDATED"] == 1
    assert [pt["made"] for pt in coc["series"]] == [3, 3, 3]


async def test_an_empty_range_has_counts_of_zero_and_no_shares_or_medians(api: Api, world: World) -> None:
    p = await measures(api, program_scope(world), as_=INTAKE, start="2024-06-01", end="2024-07-15")
    assert p["referralsMade"] == 0
    for share in ("acknowledgedShare", "gotHelpShare", "resolvedShare", "enrolledShare", "housedShare"):
        assert p[share] is None
    for median in ("medianDaysToAcknowledge", "medianDaysToResolve", "medianDaysToMoveIn"):
        assert p[median] is None
    assert p["series"] == [
        {"periodStart": "2024-06-01", "made": 0, "gotHelp": 0, "housed": 0},
        {"periodStart": "2024-07-01", "made": 0, "gotHelp": 0, "housed": 0},
    ]


async def test_the_real_flow_counts_the_programs_answer_only(api: Api, world: World) -> None:
    today = date.today().isoformat()
    made = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(world.network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    scope = program_scope(world)
    before = await measures(api, scope, as_=INTAKE, start=today, end=today)
    assert (before["referralsMade"], before["acknowledged"], before["medianDaysToAcknowledge"]) == (1, 0, None)
    await api.gql(UPDATE_STATUS, {"input": {"referralId": made["id"], "status": "PENDING", "expectedVersion": 1}}, as_=NAVIGATOR)
    assert (await measures(api, scope, as_=INTAKE, start=today, end=today))["acknowledged"] == 0
    await api.gql(UPDATE_STATUS, {"input": {"referralId": made["id"], "status": "GOT_HELP", "expectedVersion": 2}}, as_=INTAKE)
    after = await measures(api, scope, as_=INTAKE, start=today, end=today)
    assert (after["acknowledged"], after["gotHelp"], after["resolved"]) == (1, 1, 1)
    assert 0 <= after["medianDaysToAcknowledge"] < 0.01


async def test_who_may_ask(api: Api, world: World) -> None:
    pantry, food, clinic_program = program_scope(world), {"organizationId": world.network["food"]}, program_scope(world, "clinic_program")
    refused = [
        (pantry, NAVIGATOR), (pantry, SEEKER), (pantry, CLINIC), (pantry, OTHER_CE),
        (food, NAVIGATOR), (food, CLINIC), (food, OTHER_CE),
        ({"cocCode": COC}, INTAKE), ({"cocCode": COC}, ADMIN), ({"cocCode": COC}, OTHER_CE), ({"cocCode": COC}, NAVIGATOR),
        (clinic_program, INTAKE), (clinic_program, ADMIN),
    ]
    for scope, who in refused:
        errors = await api.errors(PERFORMANCE, {"scope": scope, "from": FROM, "to": TO}, as_=who)
        assert errors.codes == ["FORBIDDEN"], (scope, who, errors.errors)
    assert (await measures(api, clinic_program, as_=CLINIC))["referralsMade"] == 1
    assert (await measures(api, {"organizationId": world.network["clinic"]}, as_=CE))["referralsMade"] == 2
    unsigned = await api.errors(PERFORMANCE, {"scope": pantry, "from": FROM, "to": TO})
    assert unsigned.codes == ["UNAUTHENTICATED"]


async def test_bad_input_is_refused_with_its_code(api: Api, world: World) -> None:
    pantry = program_scope(world)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    cases: list[tuple[dict[str, Any], str, str, str]] = [
        ({}, FROM, TO, "BAD_USER_INPUT"),
        ({**pantry, "cocCode": COC}, FROM, TO, "BAD_USER_INPUT"),
        ({"programId": world.network["food"]}, FROM, TO, "BAD_USER_INPUT"),  # an organization's id
        ({"programId": "nonsense"}, FROM, TO, "BAD_USER_INPUT"),
        (pantry, TO, FROM, "BAD_USER_INPUT"),
        (pantry, FROM, tomorrow, "BAD_USER_INPUT"),
        (pantry, "2021-01-01", "2024-12-31", "BAD_USER_INPUT"),
        (pantry, "2025-13-01", TO, "BAD_USER_INPUT"),
        ({"cocCode": "ZZ-999"}, FROM, TO, "NOT_FOUND"),
        ({"programId": to_global_id("Program", 99999)}, FROM, TO, "NOT_FOUND"),
    ]
    for scope, start, end, code in cases:
        errors = await api.errors(PERFORMANCE, {"scope": scope, "from": start, "to": end}, as_=CE)
        assert errors.codes == [code], (scope, start, end, errors.errors)
    # Three years, a leap day included, is the longest range (it takes in the referral of 31 December too).
    assert (await measures(api, pantry, as_=INTAKE, start="2022-04-01", end="2025-03-31"))["referralsMade"] == 8


async def test_the_scope_picker_offers_what_the_viewer_may_ask(api: Api, world: World) -> None:
    mine = (await api.gql(SCOPES, as_=INTAKE))["performanceScopes"]
    assert mine[0] == {"kind": "ORGANIZATION", "id": world.network["food"], "name": "Harbor Food Bank", "organizationName": None}
    assert {s["name"] for s in mine[1:]} == {"Harbor Pantry", "Harbor SNAP Help"}
    coc = (await api.gql(SCOPES, as_=CE))["performanceScopes"]
    assert coc[0] == {"kind": "COC", "id": COC, "name": "Test County CoC", "organizationName": None}
    assert {s["name"] for s in coc if s["kind"] == "ORGANIZATION"} == {"Harbor Food Bank", "Eastside Navigators", "Northside Clinic"}
    assert "Clinic Rapid Rehousing" in {s["name"] for s in coc if s["kind"] == "PROGRAM"}
    assert (await api.gql(SCOPES, as_=NAVIGATOR))["performanceScopes"] == []


async def test_a_query_costs_the_same_few_statements_however_many_referrals(settings: Settings, db: Database, world: World) -> None:
    runtime = Runtime.create(settings)
    async with runtime.db.read() as session:
        ce = await load_viewer(session, world.users[CE])
    assert ce is not None
    variables = {"scope": {"cocCode": COC}, "from": FROM, "to": TO}
    costs = []
    for more in (0, 40):
        for n in range(more):
            await _referral(db, program=world.network.pks["pantry"], organization=world.network.pks["food"],
                            created=at("2025-02-01") + timedelta(hours=n),
                            changes=[(n / 10, ReferralStatus.GOT_HELP, world.users[INTAKE], ChangeSource.DASHBOARD)])
        with count_statements(runtime.db) as statements:
            result = await schema.execute(
                PERFORMANCE, variables, context_value=Context(runtime=runtime, request=None, viewer=ce)  # type: ignore[arg-type]
            )
        assert result.errors is None and result.data is not None
        costs.append(len([s for s in statements if s.strip() != "BEGIN"]))
        made = result.data["performance"]["referralsMade"]
        assert made == 9 + more
    await runtime.db.dispose()
    # The scope, then every figure in one statement.
    assert costs[0] == costs[1] == 2, costs
