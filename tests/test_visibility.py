"""Nobody sees a referral, or a seeker's contact details, that they may not see: by query or by push."""

from __future__ import annotations

from typing import Any

from db.accounts import Role
from db.engine import Database
from tests.documents import CHANGES, CREATE_REFERRAL, FOR_ME, INBOUND, PEOPLE, REFERRAL, new_seeker_referral
from tests.support import Api, Network, add_housing_program, add_member

NAVIGATOR = "navigator@test.example"
TEAMMATE = "teammate@test.example"
LONER = "loner@test.example"
TRACKER = "outreach@test.example"
INTAKE = "intake@test.example"
CLINIC = "clinic@test.example"
SEEKER = "seeker@test.example"


async def refer(api: Api, program: str, as_: str = NAVIGATOR, **overrides: object) -> dict[str, Any]:
    data = await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(program, **overrides)}, as_=as_)
    referral: dict[str, Any] = data["createReferral"]
    return referral


async def test_kind_follows_from_program_and_site(api: Api, network: Network) -> None:
    assert (await refer(api, network["pantry"]))["kind"] == "LIVE"
    logged = await refer(api, network["snap"], consent=None, screenerAnswers=[])
    assert logged["kind"] == "LOGGED" and logged["consent"] is False
    tracked = await refer(api, network["pantry"], as_=TRACKER)
    assert tracked["kind"] == "TRACKING_ONLY"


async def test_program_staff_never_see_logged_or_tracking_only_referrals(api: Api, network: Network) -> None:
    feed = await api.subscribe(CHANGES, as_=INTAKE)
    logged = await refer(api, network["snap"], consent=None, screenerAnswers=[])
    tracked = await refer(api, network["pantry"], as_=TRACKER)
    live = await refer(api, network["pantry"])

    pushed = (await feed.next())["referralChanged"]
    assert pushed["referral"]["id"] == live["id"]
    await feed.nothing()

    inbound = (await api.gql(INBOUND, {}, as_=INTAKE))["inboundReferrals"]
    assert [e["node"]["id"] for e in inbound["edges"]] == [live["id"]]
    for hidden in (logged, tracked):
        errors = await api.errors(REFERRAL, {"id": hidden["id"]}, as_=INTAKE)
        assert errors.codes == ["NOT_FOUND"]
        node = await api.raw("query($id: ID!) { node(id: $id) { id } }", {"id": hidden["id"]}, as_=INTAKE)
        assert node["data"]["node"] is None and node["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    await feed.close()


async def test_program_staff_do_not_see_contact_details_of_a_seeker_who_chose_none(api: Api, network: Network) -> None:
    feed = await api.subscribe(CHANGES, as_=INTAKE)
    quiet = await refer(api, network["pantry"], contactPreference="NONE")
    assert quiet["seeker"]["email"] == "maria@example.com", "the navigator still sees the details they entered"

    pushed = (await feed.next())["referralChanged"]["referral"]
    assert pushed["seeker"] == {"firstName": "Maria", "email": None, "phone": None}

    seen = (await api.gql(REFERRAL, {"id": quiet["id"]}, as_=INTAKE))["referral"]
    assert seen["seeker"]["email"] is None and seen["seeker"]["phone"] is None
    assert seen["seekerWillReachOut"] is True
    assert seen["seeker"]["firstName"] == "Maria"
    await feed.close()


async def test_navigators_see_their_own_and_their_teams_referrals_only(api: Api, network: Network) -> None:
    teammate_feed = await api.subscribe(CHANGES, as_=TEAMMATE)
    loner_feed = await api.subscribe(CHANGES, as_=LONER)
    mine = await refer(api, network["pantry"])
    theirs = await refer(api, network["clinic_program"], as_=TEAMMATE, screenerAnswers=[])
    pushed = [(await teammate_feed.next())["referralChanged"]["referral"]["id"] for _ in range(2)]
    assert pushed == [mine["id"], theirs["id"]]
    await loner_feed.nothing()

    team_view = (await api.gql(REFERRAL, {"id": mine["id"]}, as_=TEAMMATE))["referral"]
    assert team_view["seeker"]["email"] == "maria@example.com"
    assert (await api.errors(REFERRAL, {"id": mine["id"]}, as_=LONER)).codes == ["NOT_FOUND"]

    people = (await api.gql(PEOPLE, as_=NAVIGATOR))["peopleImHelping"]["edges"]
    referral_ids = {r["node"]["id"] for p in people for r in p["node"]["referrals"]["edges"]}
    assert referral_ids == {mine["id"], theirs["id"]}
    assert (await api.gql(PEOPLE, as_=LONER))["peopleImHelping"]["edges"] == []
    await teammate_feed.close()
    await loner_feed.close()


async def test_a_seeker_sees_only_their_own_referrals_of_every_kind(api: Api, network: Network) -> None:
    feed = await api.subscribe(CHANGES, as_=SEEKER)
    own_live = await refer(api, network["pantry"], seeker=None, seekerId=network["sam"])
    # The tracker's team already referred Sam there: recording it again takes a reason.
    own_tracked = await refer(
        api, network["pantry"], as_=TRACKER, seeker=None, seekerId=network["sam"], overrideDuplicateReason="Told again at outreach"
    )
    own_logged = await refer(api, network["snap"], as_=SEEKER, seeker=None, consent=None, screenerAnswers=[])
    await refer(api, network["pantry"])  # somebody else

    pushed = [(await feed.next())["referralChanged"]["referral"]["id"] for _ in range(3)]
    assert pushed == [own_live["id"], own_tracked["id"], own_logged["id"]]
    await feed.nothing()

    mine = (await api.gql(FOR_ME, as_=SEEKER))["referralsForMe"]["edges"]
    assert [e["node"]["id"] for e in mine] == [own_logged["id"], own_tracked["id"], own_live["id"]]
    assert {e["node"]["kind"] for e in mine} == {"LIVE", "LOGGED", "TRACKING_ONLY"}
    await feed.close()


async def test_a_seeker_can_connect_themself_but_only_themself(api: Api, network: Network) -> None:
    own = await refer(api, network["pantry"], as_=SEEKER, seeker=None, comment=None)
    assert own["navigator"] is None and own["seeker"]["id"] == network["sam"]
    errors = await api.errors(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=SEEKER)
    assert errors.codes == ["FORBIDDEN"]


async def test_a_navigator_cannot_refer_a_seeker_they_cannot_access(api: Api, network: Network) -> None:
    errors = await api.errors(
        CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], seeker=None, seekerId=network["sam"])}, as_=LONER
    )
    assert errors.codes == ["NOT_FOUND"]


async def test_signed_out_callers_get_unauthenticated(api: Api, network: Network) -> None:
    errors = await api.errors(INBOUND, {})
    assert errors.codes == ["UNAUTHENTICATED"]
    response = await api.http.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"authorization": "Bearer not.a.token"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # The program directory is public.
    programs = await api.gql("{ programs { edges { node { name } } } }")
    assert len(programs["programs"]["edges"]) == 3


async def test_shared_push_payloads_never_cross_audiences(api: Api, network: Network) -> None:
    """Events are rendered once per audience; each audience still gets only what it may see."""
    program_feeds = [await api.subscribe(CHANGES, as_=INTAKE) for _ in range(3)]
    navigator_feed = await api.subscribe(CHANGES, {"afterSeq": 0}, as_=NAVIGATOR)
    await refer(api, network["pantry"], contactPreference="NONE")
    for feed in program_feeds:
        assert (await feed.next())["referralChanged"]["referral"]["seeker"]["email"] is None
    assert (await navigator_feed.next())["referralChanged"]["referral"]["seeker"]["email"] == "maria@example.com"
    for feed in (*program_feeds, navigator_feed):
        await feed.close()


async def test_an_admin_of_the_program_org_never_reads_a_quiet_seekers_contact(
    api: Api, network: Network, db: Database
) -> None:
    """Through no query at all: the referral, People I'm Helping, the profile typeahead, node(id)."""
    admin = await add_member(db, "food-admin@test.example", organization_id=network.pks["food"], role=Role.ADMIN)
    quiet = await refer(api, network["pantry"], contactPreference="NONE")
    seeker_id = quiet["seeker"]["id"]

    seen = (await api.gql(REFERRAL, {"id": quiet["id"]}, as_=admin))["referral"]
    assert (seen["seeker"]["email"], seen["seeker"]["phone"], seen["seekerWillReachOut"]) == (None, None, True)
    people = (await api.gql(PEOPLE, as_=admin))["peopleImHelping"]["edges"]
    assert seeker_id not in {p["node"]["id"] for p in people}
    profiles = await api.gql("{ seekerProfiles(search: \"Maria\") { edges { node { id email phone } } } }", as_=admin)
    assert profiles["seekerProfiles"]["edges"] == []
    node = await api.raw("query($id: ID!) { node(id: $id) { ... on Seeker { email phone } } }", {"id": seeker_id}, as_=admin)
    assert node["data"]["node"] is None and node["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_ce_manager_reads_housing_referrals_in_full_and_the_rest_only_on_the_wall(
    api: Api, network: Network, db: Database
) -> None:
    ce = await add_member(db, "ce@test.example", organization_id=network.pks["navs"], role=Role.CE_MANAGER)
    housing_program = await add_housing_program(db, network)
    feed = await api.subscribe(CHANGES, as_=ce)
    pantry = await refer(api, network["pantry"])
    housing = await refer(api, housing_program, screenerAnswers=[])

    pushed = (await feed.next())["referralChanged"]["referral"]
    assert pushed["id"] == housing["id"], "the pantry referral is not pushed to the CE manager"
    await feed.nothing()
    full = (await api.gql(REFERRAL, {"id": housing["id"]}, as_=ce))["referral"]
    assert full["seeker"]["lastName"] == "Lopez" and full["seeker"]["email"] == "maria@example.com"
    assert [c["body"] for c in full["comments"]] == ["Needs groceries for a family of four."]
    assert full["viewerCan"] == {"statuses": [], "comment": False}

    assert (await api.errors(REFERRAL, {"id": pantry["id"]}, as_=ce)).codes == ["NOT_FOUND"]
    assert (await api.errors(INBOUND, {}, as_=ce)).codes == ["FORBIDDEN"]
    board = await api.gql(
        "query { wallboard(cocCode: \"XX-500\") { waitingLongest { id seekerInitials program { name } status } } }", as_=ce
    )
    waiting = board["wallboard"]["waitingLongest"]
    assert [(w["id"], w["seekerInitials"], w["program"]["name"]) for w in waiting] == [
        (pantry["id"], "M. L.", "Harbor Pantry"),
        (housing["id"], "M. L.", "Clinic Rapid Rehousing"),
    ]
    await feed.close()
