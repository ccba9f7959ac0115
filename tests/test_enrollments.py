"""Enrollments and HMIS client elements through the API: who may record them, HUD's codes, the dates' order."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from db.accounts import Role
from db.engine import Database
from db.events import OutboxEvent, SubjectType
from db.programs import Program
from tests.documents import CREATE_REFERRAL
from tests.support import Api, Network, add_housing_program, add_member

ELEMENTS = """
mutation($input: UpdateClientElementsInput!) {
  updateClientElements(input: $input) {
    id hmis { nameDataQuality dob dobDataQuality races raceNone genders genderNone veteranStatus }
  }
}
"""
SEEKER_HMIS = "query($id: ID!) { node(id: $id) { ... on Seeker { id hmis { veteranStatus races } } } }"
ENROLL = """
mutation($input: CreateEnrollmentInput!) {
  createEnrollment(input: $input) {
    id entryDate relationshipToHoH priorLivingSituation disablingCondition enrollmentCoc householdId
    household { id relationshipToHoH seeker { id firstName } }
    seeker { id hmis { veteranStatus } }
  }
}
"""
MOVE_IN = "mutation($input: RecordMoveInInput!) { recordMoveIn(input: $input) { id moveInDate } }"
EXIT = "mutation($input: ExitEnrollmentInput!) { exitEnrollment(input: $input) { id exitDate destination destinationLabel } }"
LIST = """
query($programId: ID, $seekerId: ID, $open: Boolean, $first: Int, $after: String) {
  enrollments(programId: $programId, seekerId: $seekerId, open: $open, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id exitDate seeker { firstName } } }
  }
}
"""
CLINIC = "clinic@test.example"
NAVIGATOR = "navigator@test.example"


async def _housing(db: Database, network: Network, project_type: int = 13) -> str:
    program_id = await add_housing_program(db, network)
    async with db.write() as s:
        await s.execute(update(Program).where(Program.id == network.pks["housing"]).values(hud_project_type=project_type))
    return program_id


async def _referred(api: Api, network: Network, first_name: str) -> str:
    """A new person referred by the navigator to the clinic's housing program; their seeker id."""
    created = await api.gql(
        CREATE_REFERRAL,
        {
            "input": {
                "programId": network["housing"],
                "seeker": {"firstName": first_name, "lastName": "Rivera", "email": f"{first_name.lower()}@example.com"},
                "contactPreference": "EMAIL",
                "consent": True,
            }
        },
        as_=NAVIGATOR,
    )
    seeker_id: str = created["createReferral"]["seeker"]["id"]
    return seeker_id


async def _household(api: Api, network: Network, **overrides: object) -> dict[str, object]:
    head = await _referred(api, network, "Ana")
    child = await _referred(api, network, "Leo")
    value: dict[str, object] = {
        "programId": network["housing"],
        "entryDate": "2026-02-01",
        "members": [
            {"seekerId": head, "relationshipToHoH": 1, "priorLivingSituation": 116, "disablingCondition": 0},
            {"seekerId": child, "relationshipToHoH": 2},
        ],
    }
    value.update(overrides)
    return value


async def test_client_elements_are_recorded_by_the_navigator_and_checked_against_hud_lists(api: Api, network: Network) -> None:
    sam = network["sam"]
    answer = await api.gql(
        ELEMENTS,
        {"input": {"seekerId": sam, "nameDataQuality": 1, "dob": "1980-05-04", "races": ["White", "Asian"],
                   "genders": ["Woman"], "veteranStatus": 0}},
        as_=NAVIGATOR,
    )
    hmis = answer["updateClientElements"]["hmis"]
    assert hmis == {
        "nameDataQuality": 1, "dob": "1980-05-04", "dobDataQuality": 1, "races": ["Asian", "White"], "raceNone": None,
        "genders": ["Woman"], "genderNone": None, "veteranStatus": 0,
    }
    mine = await api.gql(SEEKER_HMIS, {"id": sam}, as_="seeker@test.example")
    assert mine["node"]["hmis"]["races"] == ["Asian", "White"], "the person sees their own elements"
    refused = await api.errors(ELEMENTS, {"input": {"seekerId": sam, "veteranStatus": 1}}, as_="seeker@test.example")
    assert refused.codes == ["FORBIDDEN"]

    future = (date.today() + timedelta(days=2)).isoformat()
    for bad in (
        {"dob": future},
        {"dob": "1899-12-31"},
        {"races": ["Martian"]},
        {"genders": ["White"]},
        {"raceNone": 8},  # races were given above
        {"races": ["Asian"], "raceNone": 9},
        {"veteranStatus": 3},
        {"nameDataQuality": 4},
        {"dobDataQuality": 7},
        {"dobDataQuality": 99, "dob": "1980-01-01"},
    ):
        errors = await api.errors(ELEMENTS, {"input": {"seekerId": sam, **bad}}, as_=NAVIGATOR)
        assert errors.codes == ["BAD_USER_INPUT"], bad
        assert errors.errors[0]["message"].endswith("."), errors.errors[0]["message"]
    cleared = await api.gql(ELEMENTS, {"input": {"seekerId": sam, "races": [], "raceNone": 9}}, as_=NAVIGATOR)
    assert cleared["updateClientElements"]["hmis"]["races"] == [] and cleared["updateClientElements"]["hmis"]["raceNone"] == 9

    # Program staff know nothing of Sam: no enrollment, no referral.
    assert (await api.errors(ELEMENTS, {"input": {"seekerId": sam, "veteranStatus": 1}}, as_=CLINIC)).codes == ["NOT_FOUND"]
    assert (await api.errors(ELEMENTS, {"input": {"seekerId": sam}})).codes == ["UNAUTHENTICATED"]


async def test_a_household_enrolls_moves_in_and_exits(api: Api, network: Network, db: Database) -> None:
    await _housing(db, network)
    household = await _household(api, network)
    head = (await api.gql(ENROLL, {"input": household}, as_=CLINIC))["createEnrollment"]
    assert head["relationshipToHoH"] == 1 and head["priorLivingSituation"] == 116 and head["enrollmentCoc"] == "XX-500"
    assert [m["relationshipToHoH"] for m in head["household"]] == [1, 2]
    assert head["seeker"]["hmis"] == {"veteranStatus": 99}, "a program that enrolled the person sees their elements"
    child = head["household"][1]

    # The provider may now record the elements of the people it enrolled.
    updated = await api.gql(ELEMENTS, {"input": {"seekerId": child["seeker"]["id"], "dob": "2019-03-01"}}, as_=CLINIC)
    assert updated["updateClientElements"]["hmis"]["dob"] == "2019-03-01"

    again = await api.errors(ENROLL, {"input": {**household, "members": household["members"][:1]}}, as_=CLINIC)  # type: ignore[index]
    assert again.codes == ["BAD_USER_INPUT"] and "already enrolled" in again.errors[0]["message"]

    early = await api.errors(MOVE_IN, {"input": {"enrollmentId": head["id"], "moveInDate": "2026-01-31"}}, as_=CLINIC)
    assert early.codes == ["BAD_USER_INPUT"]
    moved = await api.gql(MOVE_IN, {"input": {"enrollmentId": head["id"], "moveInDate": "2026-03-01"}}, as_=CLINIC)
    assert moved["recordMoveIn"]["moveInDate"] == "2026-03-01"
    before_move_in = await api.errors(EXIT, {"input": {"enrollmentId": head["id"], "exitDate": "2026-02-15", "destination": 410}}, as_=CLINIC)
    assert before_move_in.codes == ["BAD_USER_INPUT"]
    bad_destination = await api.errors(EXIT, {"input": {"enrollmentId": head["id"], "exitDate": "2026-04-01", "destination": 1}}, as_=CLINIC)
    assert bad_destination.codes == ["BAD_USER_INPUT"]
    assert (await api.errors(EXIT, {"input": {"enrollmentId": head["id"], "exitDate": "2026-04-01", "destination": 410}}, as_=NAVIGATOR)).codes == ["NOT_FOUND"]
    exited = await api.gql(EXIT, {"input": {"enrollmentId": head["id"], "exitDate": "2026-04-01", "destination": 410}}, as_=CLINIC)
    assert exited["exitEnrollment"]["destination"] == 410
    assert exited["exitEnrollment"]["destinationLabel"] == "Rental by client, no ongoing housing subsidy"
    twice = await api.errors(EXIT, {"input": {"enrollmentId": head["id"], "exitDate": "2026-04-02", "destination": 410}}, as_=CLINIC)
    assert twice.codes == ["BAD_USER_INPUT"]

    listed = await api.gql(LIST, {"programId": network["housing"], "first": 1}, as_=CLINIC)
    assert listed["enrollments"]["pageInfo"]["hasNextPage"]
    rest = await api.gql(LIST, {"programId": network["housing"], "after": listed["enrollments"]["pageInfo"]["endCursor"]}, as_=CLINIC)
    ids = {e["node"]["id"] for e in [*listed["enrollments"]["edges"], *rest["enrollments"]["edges"]]}
    assert ids == {head["id"], child["id"]}
    still_open = await api.gql(LIST, {"open": True}, as_=CLINIC)
    assert [e["node"]["id"] for e in still_open["enrollments"]["edges"]] == [child["id"]]
    assert (await api.gql(LIST, {}, as_="intake@test.example"))["enrollments"]["edges"] == [], "another organization's staff see none"

    async with db.read() as s:
        events = list(await s.scalars(select(OutboxEvent).where(OutboxEvent.subject_type == SubjectType.ENROLLMENT).order_by(OutboxEvent.seq)))
    assert [(e.kind.name, e.change.get("step")) for e in events] == [("CREATED", None), ("STATUS_CHANGED", "MOVE_IN"), ("STATUS_CHANGED", "EXIT")]


async def test_enrolling_is_for_the_programs_own_staff_with_one_head_of_household(api: Api, network: Network, db: Database) -> None:
    await _housing(db, network, project_type=1)  # an emergency shelter: no move-in date
    household = await _household(api, network)
    members: list[dict[str, object]] = household["members"]  # type: ignore[assignment]
    assert (await api.errors(ENROLL, {"input": household}, as_="intake@test.example")).codes == ["FORBIDDEN"]
    assert (await api.errors(ENROLL, {"input": household}, as_=NAVIGATOR)).codes == ["FORBIDDEN"]
    ce = await add_member(db, "ce@test.example", organization_id=network.pks["navs"], role=Role.CE_MANAGER)
    assert (await api.errors(ENROLL, {"input": household}, as_=ce)).codes == ["FORBIDDEN"]
    future = (date.today() + timedelta(days=1)).isoformat()
    cases: list[dict[str, object]] = [
        {"entryDate": future},
        {"members": []},
        {"members": [{**members[0], "relationshipToHoH": 2}, members[1]]},
        {"members": [members[0], {**members[1], "relationshipToHoH": 1}]},
        {"members": [members[0], members[0]]},
        {"members": [{**members[0], "relationshipToHoH": 7}, members[1]]},
        {"members": [{**members[0], "priorLivingSituation": 1}, members[1]]},
        {"members": [{**members[0], "disablingCondition": 2}, members[1]]},
        {"enrollmentCoc": "nowhere"},
    ]
    for bad in cases:
        errors = await api.errors(ENROLL, {"input": {**household, **bad}}, as_=CLINIC)
        assert errors.codes == ["BAD_USER_INPUT"], bad
    stranger = await api.errors(ENROLL, {"input": {**household, "members": [{"seekerId": network["sam"], "relationshipToHoH": 1}]}}, as_=CLINIC)
    assert stranger.codes == ["NOT_FOUND"], "a person the provider does not know"
    head = (await api.gql(ENROLL, {"input": household}, as_=CLINIC))["createEnrollment"]
    shelter = await api.errors(MOVE_IN, {"input": {"enrollmentId": head["id"], "moveInDate": "2026-03-01"}}, as_=CLINIC)
    assert shelter.codes == ["BAD_USER_INPUT"] and "housing" in shelter.errors[0]["message"]
    seen = await api.gql(LIST, {"programId": network["housing"]}, as_=ce)
    assert len(seen["enrollments"]["edges"]) == 2, "the CoC's CE manager reads its programs' enrollments"
    assert (await api.errors(EXIT, {"input": {"enrollmentId": head["id"], "exitDate": "2026-04-01", "destination": 410}}, as_=ce)).codes == ["FORBIDDEN"]


HUD_CODES = "query($list: String!) { hudCodes(list: $list) { code label } }"


async def test_pickers_read_huds_own_code_lists(api: Api, network: Network) -> None:
    situations = (await api.gql(HUD_CODES, {"list": "3.917"}, as_="intake@test.example"))["hudCodes"]
    assert {"code": 118, "label": "Safe Haven"} in situations
    assert [c["code"] for c in situations][:3] == [8, 9, 99]  # HUD's order, as the CSV holds it
    destinations = (await api.gql(HUD_CODES, {"list": "3.12"}, as_="intake@test.example"))["hudCodes"]
    assert len(destinations) == 29 and all(c["label"] for c in destinations)
    unknown = await api.errors(HUD_CODES, {"list": "9.99" + "x" * 50}, as_="intake@test.example")
    assert unknown.codes == ["BAD_USER_INPUT"]
    assert "3.917" in unknown.errors[0]["message"] and "x" * 45 not in unknown.errors[0]["message"]
    too_long = await api.errors(HUD_CODES, {"list": "9.99" + "x" * 500}, as_="intake@test.example")
    assert too_long.codes == ["BAD_USER_INPUT"] and "x" * 30 not in too_long.errors[0]["message"]


async def test_an_enrollment_names_a_known_coc_and_dates_from_hmis_on(api: Api, network: Network, db: Database) -> None:
    await _housing(db, network)
    household = await _household(api, network)
    members: list[dict[str, object]] = household["members"]  # type: ignore[assignment]
    unknown = await api.errors(ENROLL, {"input": {**household, "enrollmentCoc": "ZZ-999"}}, as_=CLINIC)
    assert unknown.codes == ["BAD_USER_INPUT"] and "ZZ-999" in unknown.errors[0]["message"]
    assert unknown.errors[0]["extensions"]["field"] == "enrollmentCoc"
    ancient = await api.errors(ENROLL, {"input": {**household, "entryDate": "1998-09-30"}}, as_=CLINIC)
    assert ancient.codes == ["BAD_USER_INPUT"] and ancient.errors[0]["extensions"]["field"] == "entryDate"
    assert "1998-10-01" in ancient.errors[0]["message"]
    # A sole member with a relationship HUD does not list hears about the code first.
    sole = await api.errors(ENROLL, {"input": {**household, "members": [{**members[0], "relationshipToHoH": 9}]}}, as_=CLINIC)
    assert sole.codes == ["BAD_USER_INPUT"] and "HUD code" in sole.errors[0]["message"]
    assert sole.errors[0]["extensions"]["field"] == "relationshipToHoH"
    async with db.read() as s:
        assert await s.scalar(select(OutboxEvent.seq).where(OutboxEvent.subject_type == SubjectType.ENROLLMENT)) is None
    head = (await api.gql(ENROLL, {"input": {**household, "enrollmentCoc": "xx-500"}}, as_=CLINIC))["createEnrollment"]
    assert head["enrollmentCoc"] == "XX-500"
