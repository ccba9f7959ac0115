"""Coordinated Entry's cycle through the real API: assess, prioritize, post a vacancy, refer, acknowledge, resolve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from db.accounts import ContinuumOfCare, Organization, Role
from db.coordinated_entry import CeAssessment, CeEvent, PriorityListEntry, Vacancy
from db.engine import Database
from db.enrollments import Enrollment, Household
from db.events import OutboxEvent, SubjectType
from db.programs import ConnectMode, Program, ProgramCategory, ProgramCategoryTag
from db.referrals import Referral
from db.seekers import ContactPreference, Seeker
from schema.ids import to_global_id
from tests.support import Api, Network, add_member

CE = "ce@test.example"
OTHER_CE = "ce-other@test.example"
PROVIDER = "clinic@test.example"  # PROGRAM_STAFF of the Northside Clinic, whose housing programs these are
OTHER_STAFF = "intake@test.example"  # PROGRAM_STAFF of the Harbor Food Bank
NAVIGATOR = "navigator@test.example"
COC = "XX-500"
OTHER_COC = "YY-100"

ASSESS = """
mutation($input: RecordCeAssessmentInput!) {
  recordCeAssessment(input: $input) {
    id assessmentType { code label } prioritizationStatus { code }
    priorityListEntry { id initials score daysHomeless placedOn householdType }
  }
}
"""
LIST = """
query($coc: String!, $household: HouseholdType, $eligibility: String, $veteran: Boolean, $minScore: Float,
      $first: Int, $after: String) {
  priorityList(cocCode: $coc, householdType: $household, eligibility: $eligibility, veteran: $veteran,
      minScore: $minScore, first: $first, after: $after) {
    totalCount lastSeq
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id initials score daysHomeless daysOnList placedOn householdType eligibility
      seeker { id firstName lastName } } }
  }
}
"""
REMOVE = """
mutation($input: RemoveFromPriorityListInput!) { removeFromPriorityList(input: $input) { id leftOn leftReason } }
"""
POST_VACANCY = """
mutation($input: PostVacancyInput!) { postVacancy(input: $input) { id description size openedOn daysVacant filledOn householdType } }
"""
VACANCIES = """
query($coc: String!, $open: Boolean) { vacancies(cocCode: $coc, open: $open) { id daysVacant filledOn filledByEnrollmentId } }
"""
CE_FIELDS = """
id version status initials eventDate eventType { code } referralId result { code } resultDate acknowledgedOn
providerContactName providerContactPhone providerContactEmail resultingEnrollmentId notHousedReason daysWaiting
vacancy { id filledOn }
"""
REFER = f"mutation($input: CreateCeReferralInput!) {{ createCeReferral(input: $input) {{ {CE_FIELDS} }} }}"
ACKNOWLEDGE = f"mutation($input: AcknowledgeCeReferralInput!) {{ acknowledgeCeReferral(input: $input) {{ {CE_FIELDS} }} }}"
RESOLVE = f"mutation($input: ResolveCeReferralInput!) {{ resolveCeReferral(input: $input) {{ {CE_FIELDS} }} }}"
NOT_HOUSED = f"mutation($input: RecordNotHousedReasonInput!) {{ recordNotHousedReason(input: $input) {{ {CE_FIELDS} }} }}"
PIPELINE = """
query($coc: String!, $status: CeEventStatus, $first: Int, $after: String) {
  ceEvents(cocCode: $coc, status: $status, first: $first, after: $after) {
    totalCount lastSeq pageInfo { hasNextPage endCursor } edges { node { id status daysWaiting } }
  }
}
"""
REFERRAL_STATUS = "query($id: ID!) { referral(id: $id) { id status kind consent program { name } } }"
WALL = """
query($coc: String!) {
  wallboard(cocCode: $coc) {
    vacancies { id programName size daysVacant }
    priorityHead(first: 3) { initials score daysWaiting }
    ceWaiting { id initials programName daysWaiting }
  }
}
"""
CHANGES = """
subscription { referralChanged { seq kind referral { id status } } }
"""


@dataclass
class World:
    network: Network
    programs: dict[str, int]
    seekers: dict[str, int]

    def program(self, name: str) -> str:
        return to_global_id("Program", self.programs[name])

    def seeker(self, name: str) -> str:
        return to_global_id("Seeker", self.seekers[name])


async def ce_world(db: Database, network: Network) -> World:
    """The test CoC's CE manager, another CoC with its own, housing programs of each HUD kind, five people."""
    await add_member(db, CE, organization_id=network.pks["navs"], role=Role.CE_MANAGER, name="Cora CE")
    async with db.write() as s:
        coc = await s.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == COC))
        assert coc is not None
        other = ContinuumOfCare(code=OTHER_COC, name="Other County CoC")
        s.add(other)
        await s.flush()
        other_org = Organization(name="Other County CE", coc_id=other.id)
        s.add(other_org)
        await s.flush()
        programs: dict[str, int] = {}
        for name, project_type, org, coc_id in (
            ("rrh", 13, network.pks["clinic"], coc.id),
            ("psh", 3, network.pks["clinic"], coc.id),
            ("outreach", 4, network.pks["clinic"], coc.id),
            ("food_housing", 2, network.pks["food"], coc.id),
            ("other_coc", 0, other_org.id, other.id),
        ):
            program = Program(
                organization_id=org,
                name=f"Program {name}",
                connect_mode=ConnectMode.APPLY,
                contact_emails=[f"{name}@housing.example.org"],
                hud_project_type=project_type,
                coc_id=coc_id,
            )
            program.categories = [ProgramCategoryTag(category=ProgramCategory.HOUSING)]
            s.add(program)
            await s.flush()
            programs[name] = program.id
        seekers: dict[str, int] = {}
        for first, last in (("Ada", "Ames"), ("Ben", "Bold"), ("Cy", "Cole"), ("Di", "Dunn"), ("Ed", "Eck")):
            seeker = Seeker(
                first_name=first, last_name=last, email=f"{first.lower()}@example.com", contact_preference=ContactPreference.EMAIL
            )
            s.add(seeker)
            await s.flush()
            seekers[first] = seeker.id
        other_org_id = other_org.id
    await add_member(db, OTHER_CE, organization_id=other_org_id, role=Role.CE_MANAGER, name="Otis Other")
    return World(network=network, programs=programs, seekers=seekers)


def assessment(world: World, who: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "seekerId": world.seeker(who),
        "cocCode": COC,
        "assessmentDate": (date.today() - timedelta(days=3)).isoformat(),
        "location": "Main access point",
        "assessmentType": 3,
        "assessmentLevel": 2,
        "prioritizationStatus": 1,
        "questions": [{"question": "Where did you sleep last night?", "answer": "Car", "group": "Housing"}],
        "results": [{"type": "VI-SPDAT", "result": "High acuity"}],
        "score": 10,
        "daysHomeless": 100,
        "householdType": "INDIVIDUAL",
        "eligibility": "chronic",
    }
    return {**base, **overrides}


async def assess(api: Api, world: World, who: str, **overrides: Any) -> dict[str, Any]:
    data = await api.gql(ASSESS, {"input": assessment(world, who, **overrides)}, as_=CE)
    result: dict[str, Any] = data["recordCeAssessment"]
    return result


async def post_vacancy(api: Api, world: World, program: str = "rrh", as_: str = PROVIDER, **overrides: Any) -> dict[str, Any]:
    given = {"programId": world.program(program), "description": "One-bedroom at Elm St", "size": 1, **overrides}
    data = await api.gql(POST_VACANCY, {"input": given}, as_=as_)
    vacancy: dict[str, Any] = data["postVacancy"]
    return vacancy


async def enroll(db: Database, world: World, who: str, program: str) -> int:
    """An enrollment written directly: the enrollments API is another module's."""
    async with db.write() as s:
        household = Household()
        s.add(household)
        await s.flush()
        enrollment = Enrollment(
            seeker_id=world.seekers[who],
            program_id=world.programs[program],
            household_id=household.id,
            entry_date=date.today(),
            relationship_to_hoh=1,
        )
        s.add(enrollment)
        await s.flush()
        return enrollment.id


async def refer(api: Api, world: World, entry_id: str, vacancy_id: str) -> dict[str, Any]:
    data = await api.gql(REFER, {"input": {"entryId": entry_id, "vacancyId": vacancy_id, "note": "Top of the list"}}, as_=CE)
    event: dict[str, Any] = data["createCeReferral"]
    return event


async def counts(db: Database) -> dict[str, int]:
    async with db.read() as s:
        out = {}
        for name, model in (
            ("assessments", CeAssessment),
            ("entries", PriorityListEntry),
            ("vacancies", Vacancy),
            ("events", CeEvent),
            ("referrals", Referral),
            ("outbox", OutboxEvent),
        ):
            out[name] = int(await s.scalar(select(func.count()).select_from(model)) or 0)
        return out


async def test_the_whole_cycle_from_assessment_to_housing(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    ada = await assess(api, world, "Ada", score=12, daysHomeless=40)
    await assess(api, world, "Ben", score=12, daysHomeless=300)
    await assess(api, world, "Cy", score=5, daysHomeless=900, householdType="FAMILY", eligibility="veteran; family of 4")
    assert ada["assessmentType"] == {"code": 3, "label": "In Person"}
    assert ada["priorityListEntry"]["initials"] == "A. A."

    listed = (await api.gql(LIST, {"coc": COC}, as_=CE))["priorityList"]
    assert listed["totalCount"] == 3
    assert [e["node"]["initials"] for e in listed["edges"]] == ["B. B.", "A. A.", "C. C."], "score, then days homeless"
    assert listed["edges"][0]["node"]["seeker"] == {"id": world.seeker("Ben"), "firstName": "Ben", "lastName": "Bold"}
    assert listed["edges"][0]["node"]["daysOnList"] == 3
    families = (await api.gql(LIST, {"coc": COC, "household": "FAMILY"}, as_=CE))["priorityList"]
    assert [e["node"]["initials"] for e in families["edges"]] == ["C. C."]
    veterans = (await api.gql(LIST, {"coc": COC, "eligibility": "Veteran"}, as_=CE))["priorityList"]
    assert [e["node"]["initials"] for e in veterans["edges"]] == ["C. C."]

    # A second placement updates the one open entry.
    again = await assess(api, world, "Ada", score=20, daysHomeless=45)
    assert again["priorityListEntry"]["id"] == ada["priorityListEntry"]["id"]
    listed = (await api.gql(LIST, {"coc": COC}, as_=CE))["priorityList"]
    assert listed["totalCount"] == 3
    assert [e["node"]["initials"] for e in listed["edges"]] == ["A. A.", "B. B.", "C. C."]

    # A CoC that orders by days homeless first.
    async with db.write() as s:
        coc = await s.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == COC))
        assert coc is not None
        coc.priority_rule = ["days_homeless", "score", "placed_on"]
    listed = (await api.gql(LIST, {"coc": COC}, as_=CE))["priorityList"]
    assert [e["node"]["initials"] for e in listed["edges"]] == ["C. C.", "B. B.", "A. A."]

    vacancy = await post_vacancy(api, world, openedOn=(date.today() - timedelta(days=4)).isoformat())
    assert vacancy["daysVacant"] == 4
    provider_feed = await api.subscribe(CHANGES, as_=PROVIDER)
    wall = (await api.gql(WALL, {"coc": COC}, as_=CE))["wallboard"]
    assert wall["vacancies"] == [{"id": vacancy["id"], "programName": "Program rrh", "size": 1, "daysVacant": 4}]
    assert wall["priorityHead"][0] == {"initials": "C. C.", "score": 5.0, "daysWaiting": 3}

    ada_entry = ada["priorityListEntry"]["id"]
    event = await refer(api, world, ada_entry, vacancy["id"])
    assert event["eventType"] == {"code": 13} and event["status"] == "WAITING"
    assert event["providerContactEmail"] == "rrh@housing.example.org"
    created = (await provider_feed.next())["referralChanged"]
    assert created["kind"] == "CREATED" and created["referral"]["id"] == event["referralId"]
    referral = (await api.gql(REFERRAL_STATUS, {"id": event["referralId"]}, as_=PROVIDER))["referral"]
    assert referral == {"id": event["referralId"], "status": "NOT_UPDATED", "kind": "LIVE", "consent": True, "program": {"name": "Program rrh"}}
    wall = (await api.gql(WALL, {"coc": COC}, as_=CE))["wallboard"]
    assert wall["ceWaiting"] == [{"id": event["id"], "initials": "A. A.", "programName": "Program rrh", "daysWaiting": 0}]
    assert "Ada" not in str(wall) and "Ames" not in str(wall)

    acked = (
        await api.gql(
            ACKNOWLEDGE,
            {
                "input": {
                    "ceEventId": event["id"],
                    "acknowledgedOn": date.today().isoformat(),
                    "providerContactName": "Rita Rehousing",
                    "providerContactPhone": "(202) 555-0143",
                    "providerContactEmail": "Rita@Housing.example.org",
                    "expectedVersion": 1,
                }
            },
            as_=PROVIDER,
        )
    )["acknowledgeCeReferral"]
    assert acked["status"] == "ACKNOWLEDGED" and acked["version"] == 2
    assert acked["providerContactPhone"] == "+12025550143" and acked["providerContactEmail"] == "Rita@housing.example.org"
    pipeline = (await api.gql(PIPELINE, {"coc": COC, "status": "ACKNOWLEDGED"}, as_=CE))["ceEvents"]
    assert [e["node"]["id"] for e in pipeline["edges"]] == [event["id"]]
    assert (await api.gql(WALL, {"coc": COC}, as_=CE))["wallboard"]["ceWaiting"] == []

    enrollment_id = await enroll(db, world, "Ada", "rrh")
    resolved = (
        await api.gql(
            RESOLVE,
            {
                "input": {
                    "ceEventId": event["id"],
                    "result": 1,
                    "resultDate": date.today().isoformat(),
                    "resultingEnrollmentId": to_global_id("Enrollment", enrollment_id),
                    "expectedVersion": 2,
                }
            },
            as_=PROVIDER,
        )
    )["resolveCeReferral"]
    assert resolved["status"] == "RESOLVED" and resolved["result"] == {"code": 1}
    assert resolved["resultingEnrollmentId"] == to_global_id("Enrollment", enrollment_id)
    assert resolved["vacancy"]["filledOn"] == date.today().isoformat()
    pending = (await provider_feed.next())["referralChanged"]
    assert pending["kind"] == "STATUS_CHANGED", "acknowledged: the referral is pending"
    got_help = (await provider_feed.next())["referralChanged"]
    assert got_help["kind"] == "STATUS_CHANGED" and got_help["referral"] == {"id": event["referralId"], "status": "GOT_HELP"}
    await provider_feed.close()

    filled = (await api.gql(VACANCIES, {"coc": COC, "open": False}, as_=CE))["vacancies"]
    assert filled == [{"id": vacancy["id"], "daysVacant": 4, "filledOn": date.today().isoformat(), "filledByEnrollmentId": to_global_id("Enrollment", enrollment_id)}]
    assert (await api.gql(VACANCIES, {"coc": COC, "open": True}, as_=PROVIDER))["vacancies"] == []
    listed = (await api.gql(LIST, {"coc": COC}, as_=CE))["priorityList"]
    assert [e["node"]["initials"] for e in listed["edges"]] == ["C. C.", "B. B."], "housed: off the list"
    async with db.read() as s:
        entry = await s.scalar(select(PriorityListEntry).where(PriorityListEntry.seeker_id == world.seekers["Ada"]))
        assert entry is not None and entry.left_reason == "HOUSED"
        subjects = [row for row in await s.scalars(select(OutboxEvent.subject_type).order_by(OutboxEvent.seq))]
    assert SubjectType.PRIORITY_LIST in subjects and SubjectType.VACANCY in subjects and SubjectType.CE_EVENT in subjects


async def test_a_successful_result_needs_the_clients_enrollment_in_that_program(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    entry = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    vacancy = await post_vacancy(api, world)
    event = await acknowledge(api, await refer(api, world, entry, vacancy["id"]))
    elsewhere = await enroll(db, world, "Ada", "psh")
    someone_else = await enroll(db, world, "Ben", "rrh")
    before = await counts(db)
    for enrollment_id in (None, elsewhere, someone_else, 999_999):
        given = {"ceEventId": event["id"], "result": 1, "resultDate": date.today().isoformat(), "expectedVersion": 2}
        gid = to_global_id("Enrollment", enrollment_id) if enrollment_id else None
        errors = await api.errors(RESOLVE, {"input": {**given, "resultingEnrollmentId": gid}}, as_=PROVIDER)
        assert errors.codes == ["BAD_USER_INPUT"]
        assert "enrollment" in errors.errors[0]["message"]
    assert await counts(db) == before, "nothing written"
    async with db.read() as s:
        row = await s.scalar(select(CeEvent))
        assert row is not None and row.result is None and row.version == 2
        assert (await s.scalar(select(Vacancy.filled_on))) is None
        assert (await s.scalar(select(PriorityListEntry.left_on))) is None


async def test_unsuccessful_results_and_the_not_housed_reason(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    ada = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    ben = (await assess(api, world, "Ben"))["priorityListEntry"]["id"]
    vacancy = await post_vacancy(api, world, size=2)
    first = await acknowledge(api, await refer(api, world, ada, vacancy["id"]))
    second = await acknowledge(api, await refer(api, world, ben, vacancy["id"]))
    on = date.today().isoformat()
    for event, result, status in ((first, 2, "NO_LONGER_INTERESTED"), (second, 3, "NOT_ELIGIBLE")):
        resolved = (
            await api.gql(
                RESOLVE,
                {"input": {"ceEventId": event["id"], "result": result, "resultDate": on, "expectedVersion": 2}},
                as_=PROVIDER,
            )
        )["resolveCeReferral"]
        assert resolved["result"] == {"code": result} and resolved["resultDate"] == on
        assert resolved["vacancy"]["filledOn"] is None
        referral = (await api.gql(REFERRAL_STATUS, {"id": event["referralId"]}, as_=PROVIDER))["referral"]
        assert referral["status"] == status
    listed = (await api.gql(LIST, {"coc": COC}, as_=CE))["priorityList"]
    assert listed["totalCount"] == 2, "not housed: still on the list"

    reasoned = (
        await api.gql(NOT_HOUSED, {"input": {"ceEventId": first["id"], "reason": "CLIENT_DECLINED_UNIT"}}, as_=PROVIDER)
    )["recordNotHousedReason"]
    assert reasoned["notHousedReason"] == "CLIENT_DECLINED_UNIT"
    assert reasoned["result"] == {"code": 2} and reasoned["resultDate"] == on
    again = reasoned

    # Resolved once is resolved: a second answer is a conflict, a stale version too.
    given = {"ceEventId": first["id"], "result": 3, "resultDate": on, "expectedVersion": again["version"]}
    assert (await api.errors(RESOLVE, {"input": given}, as_=PROVIDER)).codes == ["CONFLICT"]
    resolved_count = (await api.gql(PIPELINE, {"coc": COC, "status": "RESOLVED"}, as_=CE))["ceEvents"]["totalCount"]
    assert resolved_count == 2

    # Taking someone off the list needs a reason.
    assert (await api.errors(REMOVE, {"input": {"entryId": ben, "reason": "  "}}, as_=CE)).codes == ["BAD_USER_INPUT"]
    assert (await api.errors(REMOVE, {"input": {"entryId": ben, "reason": "x" * 201}}, as_=CE)).codes == ["BAD_USER_INPUT"]
    removed = (await api.gql(REMOVE, {"input": {"entryId": ben, "reason": "Moved out of the area"}}, as_=CE))["removeFromPriorityList"]
    assert removed["leftReason"] == "Moved out of the area"
    assert (await api.errors(REMOVE, {"input": {"entryId": ben, "reason": "Again"}}, as_=CE)).codes == ["CONFLICT"]
    assert (await api.gql(LIST, {"coc": COC}, as_=CE))["priorityList"]["totalCount"] == 1


async def test_a_stale_acknowledgement_is_a_conflict_and_bad_contacts_are_refused(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    entry = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    vacancy = await post_vacancy(api, world)
    event = await refer(api, world, entry, vacancy["id"])
    today = date.today().isoformat()
    base = {"ceEventId": event["id"], "acknowledgedOn": today, "expectedVersion": 1}
    for bad in ({"providerContactPhone": "12"}, {"providerContactEmail": "not an email"}, {"providerContactName": "x" * 201},
                {"acknowledgedOn": (date.today() + timedelta(days=1)).isoformat()}):
        assert (await api.errors(ACKNOWLEDGE, {"input": {**base, **bad}}, as_=PROVIDER)).codes == ["BAD_USER_INPUT"]
    await api.gql(ACKNOWLEDGE, {"input": base}, as_=PROVIDER)
    assert (await api.errors(ACKNOWLEDGE, {"input": base}, as_=PROVIDER)).codes == ["CONFLICT"]


async def test_bad_assessments_are_refused_and_nothing_is_written(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    before = await counts(db)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    for bad in (
        {"assessmentType": 4},
        {"assessmentLevel": 0},
        {"prioritizationStatus": 3},
        {"assessmentDate": tomorrow},
        {"location": ""},
        {"location": "x" * 251},
        {"eligibility": "x" * 1001},
        {"questions": [{"question": "q" * 501, "answer": "a"}]},
        {"questions": [{"question": "q", "answer": "a"}] * 201},
        {"results": [{"type": "", "result": "r"}]},
        {"score": 1e12},
        {"daysHomeless": -1},
        {"score": None},
    ):
        errors = await api.errors(ASSESS, {"input": assessment(world, "Ada", **bad)}, as_=CE)
        assert errors.codes == ["BAD_USER_INPUT"], bad
    errors = await api.errors(ASSESS, {"input": assessment(world, "Ada", householdType="COUPLE")}, as_=CE)
    assert errors.errors, "an unknown household type is refused by the schema"
    assert await counts(db) == before
    # Not placed: an assessment, no entry.
    not_placed = await assess(api, world, "Ada", prioritizationStatus=2, score=None)
    assert not_placed["priorityListEntry"] is None
    assert (await api.gql(LIST, {"coc": COC}, as_=CE))["priorityList"]["totalCount"] == 0


async def test_each_role_acts_only_within_its_coc_and_programs(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    entry = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    for who in (OTHER_CE, PROVIDER, NAVIGATOR):
        assert (await api.errors(ASSESS, {"input": assessment(world, "Ben")}, as_=who)).codes == ["FORBIDDEN"], who
        assert (await api.errors(LIST, {"coc": COC}, as_=who)).codes == ["FORBIDDEN"], who
        errors = await api.errors(REMOVE, {"input": {"entryId": entry, "reason": "No"}}, as_=who)
        assert errors.codes in (["FORBIDDEN"], ["NOT_FOUND"]), who
    # Another CoC's manager may assess for their own CoC only, and sees their own (empty) list.
    assert (await api.errors(ASSESS, {"input": assessment(world, "Ben")}, as_=OTHER_CE)).codes == ["FORBIDDEN"]
    assert (await api.gql(LIST, {"coc": OTHER_COC}, as_=OTHER_CE))["priorityList"]["totalCount"] == 0
    assert (await api.errors(REMOVE, {"input": {"entryId": entry, "reason": "No"}}, as_=OTHER_CE)).codes == ["NOT_FOUND"]
    assert (await api.errors(ASSESS, {"input": assessment(world, "Ben", seekerId=to_global_id("Seeker", 99999))}, as_=CE)).codes == ["NOT_FOUND"]

    # Vacancies: the program's own staff, at a HUD housing program.
    posting = {"programId": world.program("rrh"), "description": "Bed", "size": 1}
    for who in (OTHER_STAFF, CE, NAVIGATOR):
        assert (await api.errors(POST_VACANCY, {"input": posting}, as_=who)).codes == ["FORBIDDEN"], who
    no_hud = {**posting, "programId": network["clinic_program"]}
    assert (await api.errors(POST_VACANCY, {"input": no_hud}, as_=PROVIDER)).codes == ["BAD_USER_INPUT"]
    for bad in ({"size": 0}, {"description": ""}, {"description": "x" * 201}, {"openedOn": (date.today() + timedelta(days=2)).isoformat()}):
        assert (await api.errors(POST_VACANCY, {"input": {**posting, **bad}}, as_=PROVIDER)).codes == ["BAD_USER_INPUT"], bad
    vacancy = await post_vacancy(api, world)
    outreach = await post_vacancy(api, world, "outreach")
    food = await post_vacancy(api, world, "food_housing", as_=OTHER_STAFF)
    assert {v["id"] for v in (await api.gql(VACANCIES, {"coc": COC}, as_=CE))["vacancies"]} == {vacancy["id"], outreach["id"], food["id"]}
    assert {v["id"] for v in (await api.gql(VACANCIES, {"coc": COC}, as_=PROVIDER))["vacancies"]} == {vacancy["id"], outreach["id"]}
    assert {v["id"] for v in (await api.gql(VACANCIES, {"coc": COC}, as_=OTHER_STAFF))["vacancies"]} == {food["id"]}
    assert (await api.errors(VACANCIES, {"coc": COC}, as_=OTHER_CE)).codes == ["FORBIDDEN"]
    assert (await api.errors(VACANCIES, {"coc": COC}, as_=NAVIGATOR)).codes == ["FORBIDDEN"]

    # Referring: the CoC's CE managers, to a housing project type CE refers to.
    before = await counts(db)
    given = {"entryId": entry, "vacancyId": vacancy["id"]}
    for who, code in ((OTHER_CE, "NOT_FOUND"), (PROVIDER, "FORBIDDEN"), (NAVIGATOR, "NOT_FOUND")):
        assert (await api.errors(REFER, {"input": given}, as_=who)).codes == [code], who
    wrong_type = await api.errors(REFER, {"input": {**given, "vacancyId": outreach["id"]}}, as_=CE)
    assert wrong_type.codes == ["BAD_USER_INPUT"] and "Street Outreach" in wrong_type.errors[0]["message"]
    both = {**given, "seekerId": world.seeker("Ada")}
    assert (await api.errors(REFER, {"input": both}, as_=CE)).codes == ["BAD_USER_INPUT"]
    for hud_field in ({"problemSolvingResult": 1}, {"caseManagementAfter": 1}):
        assert (await api.errors(REFER, {"input": {**given, **hud_field}}, as_=CE)).codes == ["BAD_USER_INPUT"]
    assert await counts(db) == before, "nothing written by a refused referral"

    event = await refer(api, world, entry, vacancy["id"])
    assert (await api.gql(PIPELINE, {"coc": COC}, as_=PROVIDER))["ceEvents"]["totalCount"] == 1
    assert (await api.gql(PIPELINE, {"coc": COC}, as_=OTHER_STAFF))["ceEvents"]["totalCount"] == 0
    assert (await api.errors(PIPELINE, {"coc": COC}, as_=OTHER_CE)).codes == ["FORBIDDEN"]
    ack = {"ceEventId": event["id"], "acknowledgedOn": date.today().isoformat(), "expectedVersion": 1}
    assert (await api.errors(ACKNOWLEDGE, {"input": ack}, as_=CE)).codes == ["FORBIDDEN"]
    for who in (OTHER_STAFF, OTHER_CE, NAVIGATOR):
        assert (await api.errors(ACKNOWLEDGE, {"input": ack}, as_=who)).codes == ["NOT_FOUND"], who
    res = {"ceEventId": event["id"], "result": 2, "resultDate": date.today().isoformat(), "expectedVersion": 1}
    assert (await api.errors(RESOLVE, {"input": res}, as_=CE)).codes == ["FORBIDDEN"]
    assert (await api.errors(RESOLVE, {"input": res}, as_=OTHER_STAFF)).codes == ["NOT_FOUND"]
    assert (await api.errors(RESOLVE, {"input": {**res, "result": 4}}, as_=PROVIDER)).codes == ["BAD_USER_INPUT"]
    assert (await api.errors(RESOLVE, {"input": {**res, "resultingEnrollmentId": 1}}, as_=PROVIDER)).codes == ["BAD_USER_INPUT"]
    not_housed = {"ceEventId": event["id"], "reason": "OTHER"}
    assert (await api.errors(NOT_HOUSED, {"input": not_housed}, as_=OTHER_STAFF)).codes == ["NOT_FOUND"]
    # The wall stays with the CoC's CE managers.
    assert (await api.errors(WALL, {"coc": COC}, as_=OTHER_CE)).codes == ["FORBIDDEN"]


WALL_CHANGES = """
subscription($coc: String!, $afterSeq: Int) {
  wallboardChanged(cocCode: $coc, afterSeq: $afterSeq) { seq kind subject subjectId referral { id seekerInitials } }
}
"""


async def test_the_wall_follows_the_cycle_live_and_only_its_own_coc(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    wall = await api.subscribe(WALL_CHANGES, {"coc": COC}, as_=CE)
    other_wall = await api.subscribe(WALL_CHANGES, {"coc": OTHER_COC}, as_=OTHER_CE)
    entry = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    vacancy = await post_vacancy(api, world)
    event = await refer(api, world, entry, vacancy["id"])
    pushed = [(await wall.next())["wallboardChanged"] for _ in range(4)]
    assert [(p["kind"], p["subject"], p["subjectId"]) for p in pushed] == [
        ("CREATED", "PRIORITY_LIST", entry),
        ("CREATED", "VACANCY", vacancy["id"]),
        ("CREATED", "REFERRAL", event["referralId"]),
        ("CREATED", "CE_EVENT", event["id"]),
    ]
    assert pushed[2]["referral"] == {"id": event["referralId"], "seekerInitials": "A. A."}
    assert "Ada" not in str(pushed)
    await other_wall.nothing()
    # Replayed from the start, the same story.
    replay = await api.subscribe(WALL_CHANGES, {"coc": COC, "afterSeq": 0}, as_=CE)
    assert [(await replay.next())["wallboardChanged"]["subject"] for _ in range(4)] == [p["subject"] for p in pushed]
    for sub in (wall, other_wall, replay):
        await sub.close()


async def test_the_ce_tables_sql_and_in_memory_forms_select_the_same_rows(network: Network, db: Database) -> None:
    """Every CE standing is written twice; for every viewer, action and row of a small world both forms agree."""
    from sqlalchemy.orm import joinedload

    from resolvers.policy import coordinated_entry as ce_policy
    from resolvers.viewer import MembershipInfo, Viewer

    async with db.write() as s:
        cocs = [ContinuumOfCare(code=f"ZZ-{n}", name=f"CoC {n}") for n in (1, 2)]
        s.add_all(cocs)
        await s.flush()
        orgs = [Organization(name=f"Org {n}", coc_id=cocs[n % 2].id) for n in range(3)]
        s.add_all(orgs)
        await s.flush()
        programs = [
            Program(organization_id=orgs[n % 3].id, name=f"P{n}", connect_mode=ConnectMode.APPLY, hud_project_type=13,
                    coc_id=cocs[n % 2].id if n != 4 else None)
            for n in range(5)
        ]
        s.add_all(programs)
        seeker = Seeker(first_name="W", last_name="World", contact_preference=ContactPreference.NONE)
        s.add(seeker)
        await s.flush()
        vacancies = [Vacancy(program_id=p.id, description="v", size=1, opened_on=date.today()) for p in programs]
        s.add_all(vacancies)
        await s.flush()
        assessment_rows = [
            CeAssessment(seeker_id=seeker.id, coc_id=c.id, assessment_date=date.today(), location="x", assessment_type=1,
                         assessment_level=1, prioritization_status=1)
            for c in cocs
        ]
        s.add_all(assessment_rows)
        await s.flush()
        s.add_all([PriorityListEntry(coc_id=a.coc_id, seeker_id=seeker.id, assessment_id=a.id, placed_on=date.today()) for a in assessment_rows])
        s.add_all(
            [CeEvent(seeker_id=seeker.id, coc_id=cocs[n % 2].id, event_date=date.today(), event_type=13, program_id=programs[n].id) for n in range(5)]
            + [CeEvent(seeker_id=seeker.id, coc_id=cocs[0].id, event_date=date.today(), event_type=2)]
        )
    viewers = [Viewer(user_id=None, email="x@example.org", name="Nobody", role=Role.CE_MANAGER)]
    for role in Role:
        for org, coc in ((o, o.coc_id) for o in orgs):
            acting = MembershipInfo(organization_id=org.id, organization_name=org.name, coc_id=coc, coc_code=None,
                                    role=role, team_id=None, site_id=None)
            viewers.append(Viewer(user_id=1, email="v@example.org", name="V", role=role, acting=acting, memberships=(acting,)))
    tables: list[tuple[Any, Any, Any]] = [
        (ce_policy.CE_EVENT_RULES, CeEvent, (joinedload(CeEvent.program),)),
        (ce_policy.VACANCY_RULES, Vacancy, (joinedload(Vacancy.program),)),
        (ce_policy.ENTRY_RULES, PriorityListEntry, ()),
        (ce_policy.ASSESSMENT_RULES, CeAssessment, ()),
    ]
    checked, granted = 0, 0
    async with db.read() as s:
        for rules, model, load in tables:
            rows = list((await s.scalars(select(model).options(*load))).unique())
            for viewer in viewers:
                for action in rules.actions:
                    by_sql = set(await s.scalars(select(model.id).where(rules.where(viewer, action))))
                    in_memory = {r.id for r in rows if rules.may(viewer, action, r, None)}
                    assert by_sql == in_memory, (rules.resource, action, viewer.role, viewer.acting)
                    checked += 1
                    granted += bool(by_sql) and by_sql != {r.id for r in rows}
    assert checked > 100 and granted > 20, "some viewers see some rows, not all"


async def test_a_ce_referral_names_its_vacancys_program_and_provider(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    entry = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    vacancy = await post_vacancy(api, world)
    await refer(api, world, entry, vacancy["id"])
    named = "{ program { name organizationName } }"
    events = await api.gql(f'{{ ceEvents(cocCode: "{COC}") {{ edges {{ node {{ vacancy {named} }} }} }} }}', as_=CE)
    listed = await api.gql(f'{{ vacancies(cocCode: "{COC}", open: true) {named} }}', as_=CE)
    program = listed["vacancies"][0]["program"]
    assert events["ceEvents"]["edges"][0]["node"]["vacancy"]["program"] == program
    assert program["organizationName"] == "Northside Clinic"


# ------------------------------------------------------------------------------------------------
# The cycle's rules as a new user found them wanting: the order of the steps, one offer at a time,
# an open enrollment, dates with lower bounds, global ids, and the wall's counts and results.
# ------------------------------------------------------------------------------------------------

NODE_CE = """
query($id: ID!) {
  node(id: $id) {
    id
    ... on CeEvent { status initials }
    ... on Vacancy { description size }
    ... on Enrollment { entryDate }
  }
}
"""
UPDATE_REFERRAL_STATUS = """
mutation($input: UpdateReferralStatusInput!) { updateReferralStatus(input: $input) { id status version } }
"""
REFERRAL_HISTORY = "query($id: ID!) { referral(id: $id) { id status version history { fromStatus toStatus note } } }"


def enrollment_gid(pk: int) -> str:
    return to_global_id("Enrollment", pk)


async def acknowledge(api: Api, event: dict[str, Any], on: date | None = None) -> dict[str, Any]:
    given = {"ceEventId": event["id"], "acknowledgedOn": (on or date.today()).isoformat(), "expectedVersion": event["version"]}
    acked: dict[str, Any] = (await api.gql(ACKNOWLEDGE, {"input": given}, as_=PROVIDER))["acknowledgeCeReferral"]
    return acked


async def resolve(api: Api, event: dict[str, Any], result: int, **extra: Any) -> dict[str, Any]:
    given = {"ceEventId": event["id"], "result": result, "resultDate": date.today().isoformat(), "expectedVersion": event["version"], **extra}
    resolved: dict[str, Any] = (await api.gql(RESOLVE, {"input": given}, as_=PROVIDER))["resolveCeReferral"]
    return resolved


async def test_resolving_comes_after_acknowledging_and_needs_an_open_enrollment(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    entry = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    vacancy = await post_vacancy(api, world)
    event = await refer(api, world, entry, vacancy["id"])
    before = await counts(db)
    early = await api.errors(
        RESOLVE, {"input": {"ceEventId": event["id"], "result": 2, "resultDate": date.today().isoformat(), "expectedVersion": 1}}, as_=PROVIDER
    )
    assert early.codes == ["BAD_USER_INPUT"] and "acknowledge it first" in early.errors[0]["message"]
    unresolved = await api.errors(NOT_HOUSED, {"input": {"ceEventId": event["id"], "reason": "OTHER"}}, as_=PROVIDER)
    assert unresolved.codes == ["BAD_USER_INPUT"], "no reason for not being housed before the result"
    assert await counts(db) == before

    acked = await acknowledge(api, event)
    twice = await api.errors(
        ACKNOWLEDGE, {"input": {"ceEventId": event["id"], "acknowledgedOn": date.today().isoformat(), "expectedVersion": acked["version"]}},
        as_=PROVIDER,
    )
    assert twice.codes == ["CONFLICT"] and "already acknowledged" in twice.errors[0]["message"]

    # An enrollment that already ended does not house anyone.
    exited = await enroll(db, world, "Ada", "rrh")
    async with db.write() as s:
        row = await s.get(Enrollment, exited)
        assert row is not None
        row.entry_date = date.today() - timedelta(days=30)
        row.exit_date = date.today() - timedelta(days=2)
    before = await counts(db)
    ended = await api.errors(
        RESOLVE,
        {"input": {"ceEventId": event["id"], "result": 1, "resultDate": date.today().isoformat(), "expectedVersion": acked["version"],
                   "resultingEnrollmentId": enrollment_gid(exited)}},
        as_=PROVIDER,
    )
    assert ended.codes == ["BAD_USER_INPUT"] and "open enrollment" in ended.errors[0]["message"]
    assert ended.errors[0]["extensions"]["field"] == "resultingEnrollmentId"
    assert await counts(db) == before
    # The id is a global id, as every id: a bare number is refused, another type's id too.
    as_int = await api.errors(
        RESOLVE,
        {"input": {"ceEventId": event["id"], "result": 1, "resultDate": date.today().isoformat(), "expectedVersion": acked["version"],
                   "resultingEnrollmentId": exited}},
        as_=PROVIDER,
    )
    assert as_int.errors
    wrong_type = await api.errors(
        RESOLVE,
        {"input": {"ceEventId": event["id"], "result": 1, "resultDate": date.today().isoformat(), "expectedVersion": acked["version"],
                   "resultingEnrollmentId": vacancy["id"]}},
        as_=PROVIDER,
    )
    assert wrong_type.codes == ["BAD_USER_INPUT"]

    current = await enroll(db, world, "Ada", "rrh")
    housed = await resolve(api, acked, 1, resultingEnrollmentId=enrollment_gid(current))
    assert housed["resultingEnrollmentId"] == enrollment_gid(current)
    filled = (await api.gql(VACANCIES, {"coc": COC, "open": False}, as_=CE))["vacancies"]
    assert filled[0]["filledByEnrollmentId"] == enrollment_gid(current)


async def test_the_not_housed_reason_is_the_providers_once_after_an_unsuccessful_result(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    entry = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    vacancy = await post_vacancy(api, world)
    event = await acknowledge(api, await refer(api, world, entry, vacancy["id"]))
    rejected = await resolve(api, event, 2)
    given = {"input": {"ceEventId": event["id"], "reason": "CLIENT_DECLINED_UNIT"}}
    assert (await api.errors(NOT_HOUSED, given, as_=CE)).codes == ["FORBIDDEN"], "the provider's to say"
    reasoned = (await api.gql(NOT_HOUSED, given, as_=PROVIDER))["recordNotHousedReason"]
    assert reasoned["notHousedReason"] == "CLIENT_DECLINED_UNIT" and reasoned["version"] == rejected["version"] + 1
    again = await api.errors(NOT_HOUSED, {"input": {"ceEventId": event["id"], "reason": "OTHER"}}, as_=PROVIDER)
    assert again.codes == ["CONFLICT"] and "already" in again.errors[0]["message"]


async def test_one_pending_offer_per_client_and_no_more_than_the_vacancys_size(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    ada = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    ben = (await assess(api, world, "Ben"))["priorityListEntry"]["id"]
    cy = (await assess(api, world, "Cy"))["priorityListEntry"]["id"]
    bed = await post_vacancy(api, world, size=1)
    pair = await post_vacancy(api, world, "psh", size=2, description="Two-bedroom at Oak St")
    first = await refer(api, world, ada, bed["id"])
    before = await counts(db)

    same = await api.errors(REFER, {"input": {"entryId": ada, "vacancyId": bed["id"]}}, as_=CE)
    assert same.codes == ["BAD_USER_INPUT"] and "already referred to this vacancy" in same.errors[0]["message"]
    full = await api.errors(REFER, {"input": {"entryId": ben, "vacancyId": bed["id"]}}, as_=CE)
    assert full.codes == ["BAD_USER_INPUT"] and "1 pending referral" in full.errors[0]["message"]
    elsewhere = await api.errors(REFER, {"input": {"entryId": ada, "vacancyId": pair["id"]}}, as_=CE)
    assert elsewhere.codes == ["BAD_USER_INPUT"]
    assert "pending" in elsewhere.errors[0]["message"] and "Program rrh" in elsewhere.errors[0]["message"], "names the pending one"
    by_seeker = await api.errors(REFER, {"input": {"seekerId": world.seeker("Di"), "vacancyId": pair["id"]}}, as_=CE)
    assert by_seeker.codes == ["BAD_USER_INPUT"] and "priority list" in by_seeker.errors[0]["message"]
    neither = await api.errors(REFER, {"input": {"vacancyId": pair["id"]}}, as_=CE)
    assert neither.codes == ["BAD_USER_INPUT"]
    assert "Give the priority list entry (entryId) or the seeker (seekerId)" in neither.errors[0]["message"]
    assert await counts(db) == before, "refusals write nothing"

    # A unit of two takes two pending referrals; by the seeker id too, when they are on the list.
    await refer(api, world, ben, pair["id"])
    by_id = await api.gql(REFER, {"input": {"seekerId": world.seeker("Cy"), "vacancyId": pair["id"]}}, as_=CE)
    assert by_id["createCeReferral"]["initials"] == "C. C."
    assert cy
    # Once the first offer is resolved, the client may be offered another, and the bed someone else.
    await resolve(api, await acknowledge(api, first), 2)
    await refer(api, world, ada, bed["id"])


async def test_a_ce_referral_is_answered_in_the_ce_workflow_not_the_generic_status(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    entry = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    vacancy = await post_vacancy(api, world)
    event = await refer(api, world, entry, vacancy["id"])
    closing = await api.errors(
        UPDATE_REFERRAL_STATUS, {"input": {"referralId": event["referralId"], "status": "GOT_HELP", "expectedVersion": 1}}, as_=PROVIDER
    )
    assert closing.codes == ["BAD_USER_INPUT"]
    assert "Coordinated Entry referral: acknowledge and resolve it in the CE workflow" in closing.errors[0]["message"]
    await acknowledge(api, event)
    referral = (await api.gql(REFERRAL_HISTORY, {"id": event["referralId"]}, as_=PROVIDER))["referral"]
    assert referral["status"] == "PENDING", "acknowledged: no longer 'not updated'"
    assert [(h["fromStatus"], h["toStatus"]) for h in referral["history"]][-1] == ("NOT_UPDATED", "PENDING")
    assert any("acknowledged" in (h["note"] or "").lower() for h in referral["history"])


async def test_dates_have_lower_bounds_and_follow_each_other(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    before = await counts(db)
    stale = await api.errors(
        POST_VACANCY,
        {"input": {"programId": world.program("rrh"), "description": "Bed", "openedOn": (date.today() - timedelta(days=6 * 366)).isoformat()}},
        as_=PROVIDER,
    )
    assert stale.codes == ["BAD_USER_INPUT"] and stale.errors[0]["extensions"]["field"] == "openedOn"
    ancient = await api.errors(ASSESS, {"input": assessment(world, "Ada", assessmentDate="1998-09-30")}, as_=CE)
    assert ancient.codes == ["BAD_USER_INPUT"] and ancient.errors[0]["extensions"]["field"] == "assessmentDate"
    assert "1998-10-01" in ancient.errors[0]["message"]
    assert await counts(db) == before
    entry = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    vacancy = await post_vacancy(api, world)
    event = await refer(api, world, entry, vacancy["id"])
    async with db.write() as s:
        row = await s.get(CeEvent, parse_pk(event["id"]))
        assert row is not None
        row.event_date = date.today() - timedelta(days=10)
    acked = await acknowledge(api, event, on=date.today() - timedelta(days=5))
    early = await api.errors(
        RESOLVE,
        {"input": {"ceEventId": event["id"], "result": 2, "resultDate": (date.today() - timedelta(days=7)).isoformat(),
                   "expectedVersion": acked["version"]}},
        as_=PROVIDER,
    )
    assert early.codes == ["BAD_USER_INPUT"] and early.errors[0]["extensions"]["field"] == "resultDate"


def parse_pk(global_id: str) -> int:
    from schema.ids import parse_global_id

    return parse_global_id(global_id)[1]


async def test_node_fetches_ce_events_vacancies_and_enrollments_for_those_who_may_read_them(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    entry = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    vacancy = await post_vacancy(api, world)
    event = await refer(api, world, entry, vacancy["id"])
    enrollment = enrollment_gid(await enroll(db, world, "Ada", "rrh"))
    for who in (CE, PROVIDER):
        assert (await api.gql(NODE_CE, {"id": event["id"]}, as_=who))["node"] == {"id": event["id"], "status": "WAITING", "initials": "A. A."}
        assert (await api.gql(NODE_CE, {"id": vacancy["id"]}, as_=who))["node"]["size"] == 1
    assert (await api.gql(NODE_CE, {"id": enrollment}, as_=PROVIDER))["node"]["entryDate"] == date.today().isoformat()
    for who in (OTHER_STAFF, OTHER_CE, NAVIGATOR):
        for gid in (event["id"], vacancy["id"], enrollment):
            assert (await api.errors(NODE_CE, {"id": gid}, as_=who)).codes == ["NOT_FOUND"], (who, gid)


WALL_COUNTS = """
query($coc: String!) {
  wallboard(cocCode: $coc) {
    vacancyCount priorityListCount ceWaitingCount
    ceWaiting(first: 1) { id daysWaiting }
    ceToday { referred acknowledged housed unsuccessful }
    changesToday { subject subjectId ce { action result { code label } programName initials } }
  }
}
"""


async def test_the_wall_counts_what_it_cuts_and_tells_the_days_ce_results(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    entries = {who: (await assess(api, world, who))["priorityListEntry"]["id"] for who in ("Ada", "Ben", "Cy")}
    vacancies = [await post_vacancy(api, world, description=f"Unit {n}") for n in range(3)]
    newer = await refer(api, world, entries["Ada"], vacancies[0]["id"])
    older = await refer(api, world, entries["Ben"], vacancies[1]["id"])
    async with db.write() as s:
        row = await s.get(CeEvent, parse_pk(older["id"]))
        assert row is not None
        row.event_date = date.today() - timedelta(days=9)
    wall = (await api.gql(WALL_COUNTS, {"coc": COC}, as_=CE))["wallboard"]
    assert wall["ceWaiting"] == [{"id": older["id"], "daysWaiting": 9}], "longest waiting first"
    assert (wall["ceWaitingCount"], wall["vacancyCount"], wall["priorityListCount"]) == (2, 3, 3)
    assert wall["ceToday"] == {"referred": 1, "acknowledged": 0, "housed": 0, "unsuccessful": 0}

    acked = await acknowledge(api, newer)
    await resolve(api, acked, 1, resultingEnrollmentId=enrollment_gid(await enroll(db, world, "Ada", "rrh")))
    await resolve(api, await acknowledge(api, older), 3)
    wall = (await api.gql(WALL_COUNTS, {"coc": COC}, as_=CE))["wallboard"]
    assert wall["ceToday"] == {"referred": 1, "acknowledged": 2, "housed": 1, "unsuccessful": 1}
    assert wall["ceWaitingCount"] == 0 and wall["vacancyCount"] == 2 and wall["priorityListCount"] == 2
    ce_changes = [c["ce"] for c in wall["changesToday"] if c["subject"] == "CE_EVENT"]
    assert {"action": "RESOLVED", "result": {"code": 1, "label": "Successful referral: client accepted"}, "programName": "Program rrh",
            "initials": "A. A."} in ce_changes
    assert [c["action"] for c in ce_changes].count("ACKNOWLEDGED") == 2
    assert {c["result"]["code"] for c in ce_changes if c["action"] == "RESOLVED"} == {1, 3}
    assert "Ada" not in str(wall)


async def test_an_opening_for_families_takes_a_family_off_the_family_list(api: Api, network: Network, db: Database) -> None:
    world = await ce_world(db, network)
    single = (await assess(api, world, "Ada"))["priorityListEntry"]["id"]
    family = (await assess(api, world, "Ben", householdType="FAMILY"))["priorityListEntry"]["id"]
    unit = await post_vacancy(api, world, "psh", size=3, description="Three-bedroom at Oak St", householdType="FAMILY")
    assert unit["householdType"] == "FAMILY"
    before = await counts(db)
    refused = await api.errors(REFER, {"input": {"entryId": single, "vacancyId": unit["id"]}}, as_=CE)
    assert refused.codes == ["BAD_USER_INPUT"] and "family households" in refused.errors[0]["message"]
    assert refused.errors[0]["extensions"]["field"] == "entryId"
    assert await counts(db) == before
    assert (await refer(api, world, family, unit["id"]))["status"] == "WAITING"
    anyone = await post_vacancy(api, world, size=1)
    assert anyone["householdType"] is None
    assert (await refer(api, world, single, anyone["id"]))["status"] == "WAITING"
