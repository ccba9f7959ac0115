"""A navigator's and a seeker's day (issue 10): the programs' true total and HSDS details, People I'm
Helping's search, filter, sort and total, the duplicate warning and its override, the undo, the
seeker's contact preference, and whether the viewer acts for a tracking-only site."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import func, select, update

from db.engine import Database
from db.programs import Address, Language, Location, Phone, Schedule
from db.referrals import StatusChange
from tests.documents import CREATE_REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.support import Api, Network

NAVIGATOR = "navigator@test.example"
SEEKER = "seeker@test.example"
INTAKE = "intake@test.example"
TRACKER = "outreach@test.example"

PROGRAMS = """
query($first: Int, $after: String, $search: String) { programs(first: $first, after: $after, search: $search) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { name
    locations { name locationType address { address1 address2 city stateProvince postalCode country addressType } }
    phones { number type languages } schedules { freq byDay opensAt closesAt description } languages } } } }"""
PEOPLE = """
query($first: Int, $after: String, $search: String, $open: Boolean, $sort: PeopleSort) {
  peopleImHelping(first: $first, after: $after, search: $search, open: $open, sort: $sort) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id firstName lastName } } } }"""
UNDO = """mutation($input: UndoReferralStatusInput!) { undoReferralStatus(input: $input) {
  status version history { fromStatus toStatus note } viewerCan { statuses undoStatus } } }"""
VIEWER_CAN = "query($id: ID!) { referral(id: $id) { status viewerCan { statuses undoStatus undoUntil } } }"
MY_PREFERENCE = """mutation($input: UpdateMyContactPreferenceInput!) {
  updateMyContactPreference(input: $input) { id contactPreference } }"""


async def test_programs_say_their_true_total_on_every_page(api: Api, network: Network) -> None:
    first = (await api.gql(PROGRAMS, {"first": 2}))["programs"]
    assert first["totalCount"] == 3 and len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"]
    rest = (await api.gql(PROGRAMS, {"first": 2, "after": first["pageInfo"]["endCursor"]}))["programs"]
    assert rest["totalCount"] == 3 and len(rest["edges"]) == 1
    assert (await api.gql(PROGRAMS, {"search": "harbor"}))["programs"]["totalCount"] == 2


async def test_programs_carry_hsds_locations_phones_schedules_and_languages(api: Api, db: Database, network: Network) -> None:
    async with db.write() as s:
        pantry = network.pks["pantry"]
        location = Location(program_id=pantry, location_type="physical", name="Gardena site")
        location.addresses = [
            Address(address_1="1420 W Rosecrans Ave", city="Gardena", state_province="CA", postal_code="90247", country="US")
        ]
        phone = Phone(program_id=pantry, number="(213) 555-0100", type="voice")
        phone.languages = [Language(name="Spanish", code="es")]
        s.add_all([
            location,
            phone,
            Schedule(program_id=pantry, freq="WEEKLY", byday="MO,WE", opens_at="09:00", closes_at="17:00"),
            Schedule(program_id=pantry, description="Closed on holidays."),
            Language(program_id=pantry, name="English", code="en"),
        ])
    node = next(e["node"] for e in (await api.gql(PROGRAMS, {}))["programs"]["edges"] if e["node"]["name"] == "Harbor Pantry")
    assert node["locations"] == [{
        "name": "Gardena site",
        "locationType": "physical",
        "address": {"address1": "1420 W Rosecrans Ave", "address2": None, "city": "Gardena", "stateProvince": "CA",
                    "postalCode": "90247", "country": "US", "addressType": "physical"},
    }]
    assert node["phones"] == [{"number": "(213) 555-0100", "type": "voice", "languages": ["Spanish"]}]
    assert node["schedules"] == [
        {"freq": "WEEKLY", "byDay": "MO,WE", "opensAt": "09:00", "closesAt": "17:00", "description": None},
        {"freq": None, "byDay": None, "opensAt": None, "closesAt": None, "description": "Closed on holidays."},
    ]
    # The phone's language is the phone's, not the program's.
    assert node["languages"] == ["English"]


async def _refer(api: Api, network: Network, first: str, last: str, program: str = "pantry") -> dict[str, Any]:
    seeker = {"firstName": first, "lastName": last, "email": f"{first.lower()}@example.com"}
    made = await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network[program], seeker=seeker)}, as_=NAVIGATOR)
    created: dict[str, Any] = made["createReferral"]
    return created


async def test_people_im_helping_searches_filters_sorts_and_counts(api: Api, network: Network) -> None:
    ana = await _refer(api, network, "Ana", "Zamora")
    ben = await _refer(api, network, "Ben", "Young")
    cal = await _refer(api, network, "Cal", "Xu")
    # Ben's referral is closed: he has none open.
    await api.gql(UPDATE_STATUS, {"input": {"referralId": ben["id"], "status": "GOT_HELP", "expectedVersion": 1}}, as_=NAVIGATOR)

    async def names(**variables: Any) -> tuple[int, list[str]]:
        conn = (await api.gql(PEOPLE, variables, as_=NAVIGATOR))["peopleImHelping"]
        return conn["totalCount"], [e["node"]["firstName"] for e in conn["edges"]]

    # Ben's status change is his latest activity.
    assert await names() == (3, ["Ben", "Cal", "Ana"])
    assert await names(sort="LAST_ACTIVITY_ASC") == (3, ["Ana", "Cal", "Ben"])
    assert await names(sort="NAME") == (3, ["Cal", "Ben", "Ana"])
    assert await names(open=True) == (2, ["Cal", "Ana"])
    assert await names(open=False) == (1, ["Ben"])
    assert await names(search="zam") == (1, ["Ana"])
    assert await names(search="cal xu") == (1, ["Cal"])
    assert await names(search="nobody") == (0, [])

    # Pages follow on, each with the true total.
    seen: list[str] = []
    after = None
    while True:
        conn = (await api.gql(PEOPLE, {"first": 1, "after": after, "sort": "NAME"}, as_=NAVIGATOR))["peopleImHelping"]
        assert conn["totalCount"] == 3
        seen += [e["node"]["firstName"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == ["Cal", "Ben", "Ana"]
    assert cal and ana


async def test_people_im_helping_refuses_bad_input(api: Api, network: Network) -> None:
    for variables in ({"search": "x" * 201}, {"search": " ".join(["w"] * 11)}, {"first": 101}, {"after": "not-a-cursor"}):
        errors = await api.errors(PEOPLE, variables, as_=NAVIGATOR)
        assert errors.codes == ["BAD_USER_INPUT"], variables
    # A cursor of one order is not one of another's.
    page = (await api.gql(PEOPLE, {"first": 1}, as_=NAVIGATOR))["peopleImHelping"]
    if page["pageInfo"]["endCursor"]:
        errors = await api.errors(PEOPLE, {"after": page["pageInfo"]["endCursor"], "sort": "NAME"}, as_=NAVIGATOR)
        assert errors.codes == ["BAD_USER_INPUT"]
    errors = await api.errors(PEOPLE, {"sort": "SHOE_SIZE"}, as_=NAVIGATOR)
    assert errors.errors
    assert (await api.errors(PEOPLE, {}, as_=INTAKE)).codes == ["FORBIDDEN"]


async def test_a_duplicate_open_referral_is_refused_unless_a_reason_is_given(api: Api, network: Network) -> None:
    first = await _refer(api, network, "Dora", "Duplicate")
    again = {**new_seeker_referral(network["pantry"]), "seeker": None, "seekerId": first["seeker"]["id"]}
    errors = await api.errors(CREATE_REFERRAL, {"input": again}, as_=NAVIGATOR)
    assert errors.codes == ["BAD_USER_INPUT"]
    extensions = errors.errors[0]["extensions"]
    assert extensions["reason"] == "DUPLICATE" and extensions["duplicateOf"] == first["id"]
    assert extensions["field"] == "overrideDuplicateReason"
    assert "already has an open referral to Harbor Pantry" in errors.errors[0]["message"]

    # Bounded, and blank is no reason.
    too_long = await api.errors(CREATE_REFERRAL, {"input": {**again, "overrideDuplicateReason": "x" * 501}}, as_=NAVIGATOR)
    assert too_long.codes == ["BAD_USER_INPUT"] and "extensions" in too_long.errors[0]
    blank = await api.errors(CREATE_REFERRAL, {"input": {**again, "overrideDuplicateReason": "   "}}, as_=NAVIGATOR)
    assert blank.errors[0]["extensions"].get("reason") == "DUPLICATE"

    made = (await api.gql(CREATE_REFERRAL, {"input": {**again, "overrideDuplicateReason": "The first one went to an old address"}}, as_=NAVIGATOR))["createReferral"]
    assert made["history"][0]["note"] == "Referred again although an open referral exists: The first one went to an old address"

    # Another program, or a closed referral, is no duplicate.
    other = {**again, "programId": network["clinic_program"], "screenerAnswers": []}
    assert (await api.gql(CREATE_REFERRAL, {"input": other}, as_=NAVIGATOR))["createReferral"]["history"][0]["note"] is None
    for referral in (first, made):
        await api.gql(UPDATE_STATUS, {"input": {"referralId": referral["id"], "status": "GOT_HELP", "expectedVersion": 1}}, as_=NAVIGATOR)
    assert (await api.gql(CREATE_REFERRAL, {"input": again}, as_=NAVIGATOR))["createReferral"]["status"] == "NOT_UPDATED"


async def test_a_seeker_is_warned_of_their_own_duplicate(api: Api, network: Network) -> None:
    mine = {"programId": network["pantry"], "consent": True,
            "screenerAnswers": [{"key": "household_size", "value": "1"}, {"key": "has_income", "value": "No"}]}
    await api.gql(CREATE_REFERRAL, {"input": mine}, as_=SEEKER)
    errors = await api.errors(CREATE_REFERRAL, {"input": mine}, as_=SEEKER)
    assert errors.errors[0]["extensions"]["reason"] == "DUPLICATE"
    assert errors.errors[0]["message"].startswith("You already have an open referral")


async def test_a_seeker_undoes_a_mistaken_tap_within_the_window(api: Api, db: Database, network: Network) -> None:
    mine = {"programId": network["pantry"], "consent": True,
            "screenerAnswers": [{"key": "household_size", "value": "1"}, {"key": "has_income", "value": "No"}]}
    made = (await api.gql(CREATE_REFERRAL, {"input": mine}, as_=SEEKER))["createReferral"]
    assert (await api.gql(VIEWER_CAN, {"id": made["id"]}, as_=SEEKER))["referral"]["viewerCan"]["undoStatus"] is None
    # Nothing of one's own to undo yet.
    assert (await api.errors(UNDO, {"input": {"referralId": made["id"], "expectedVersion": 1}}, as_=SEEKER)).codes == ["FORBIDDEN"]

    await api.gql(UPDATE_STATUS, {"input": {"referralId": made["id"], "status": "GOT_HELP", "expectedVersion": 1}}, as_=SEEKER)
    closed = (await api.gql(VIEWER_CAN, {"id": made["id"]}, as_=SEEKER))["referral"]
    # Closed: no more "Got help" or "Couldn't get help" for the seeker, but the undo is offered.
    assert closed["viewerCan"]["statuses"] == [] and closed["viewerCan"]["undoStatus"] == "NOT_UPDATED"
    assert closed["viewerCan"]["undoUntil"]
    # The program may not undo the seeker's change.
    assert (await api.errors(UNDO, {"input": {"referralId": made["id"], "expectedVersion": 2}}, as_=INTAKE)).codes == ["FORBIDDEN"]
    # A stale version is a conflict.
    assert (await api.errors(UNDO, {"input": {"referralId": made["id"], "expectedVersion": 1}}, as_=SEEKER)).codes == ["CONFLICT"]

    undone = (await api.gql(UNDO, {"input": {"referralId": made["id"], "expectedVersion": 2}}, as_=SEEKER))["undoReferralStatus"]
    assert undone["status"] == "NOT_UPDATED" and undone["version"] == 3
    assert undone["history"][-1] == {"fromStatus": "GOT_HELP", "toStatus": "NOT_UPDATED", "note": "Undone"}
    assert "GOT_HELP" in undone["viewerCan"]["statuses"]

    # Past the window, no undo.
    await api.gql(UPDATE_STATUS, {"input": {"referralId": made["id"], "status": "COULDNT_GET_HELP", "expectedVersion": 3}}, as_=SEEKER)
    async with db.write() as s:
        newest = await s.scalar(select(func.max(StatusChange.id)))
        moved = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=31)
        await s.execute(update(StatusChange).where(StatusChange.id == newest).values(at=moved))
    late = await api.errors(UNDO, {"input": {"referralId": made["id"], "expectedVersion": 4}}, as_=SEEKER)
    assert late.codes == ["FORBIDDEN"] and "30 seconds" in late.errors[0]["message"]
    # And a closed referral stays closed to the seeker's own choices.
    refused = await api.errors(UPDATE_STATUS, {"input": {"referralId": made["id"], "status": "GOT_HELP", "expectedVersion": 4}}, as_=SEEKER)
    assert refused.codes == ["FORBIDDEN"] and "closed" in refused.errors[0]["message"]


async def test_a_seeker_sets_their_contact_preference(api: Api, network: Network) -> None:
    made = (await api.gql(MY_PREFERENCE, {"input": {"contactPreference": "TEXT"}}, as_=SEEKER))["updateMyContactPreference"]
    assert made == {"id": network["sam"], "contactPreference": "TEXT"}
    profile = await api.gql("query { viewer { seeker { contactPreference } } }", as_=SEEKER)
    assert profile["viewer"]["seeker"]["contactPreference"] == "TEXT"
    assert (await api.errors(MY_PREFERENCE, {"input": {"contactPreference": "TEXT"}}, as_=NAVIGATOR)).codes == ["FORBIDDEN"]
    bad = await api.errors(MY_PREFERENCE, {"input": {"contactPreference": "CARRIER_PIGEON"}}, as_=SEEKER)
    assert bad.errors


async def test_the_viewer_says_whether_their_site_is_tracking_only(api: Api, network: Network) -> None:
    query = "query { viewer { trackingOnly } }"
    assert (await api.gql(query, as_=TRACKER))["viewer"]["trackingOnly"] is True
    assert (await api.gql(query, as_=NAVIGATOR))["viewer"]["trackingOnly"] is False
    assert (await api.gql(query, as_=SEEKER))["viewer"]["trackingOnly"] is False

