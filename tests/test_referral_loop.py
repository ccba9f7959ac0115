"""The loop end to end over the real protocols: refer, see it arrive live, update, see that live."""

from __future__ import annotations

from tests.documents import CHANGES, CREATE_REFERRAL, INBOUND, UPDATE_STATUS, new_seeker_referral
from tests.support import Api, Network

NAVIGATOR = "navigator@test.example"
INTAKE = "intake@test.example"
CLINIC = "clinic@test.example"
SEEKER = "seeker@test.example"
STORY = """
subscription($afterSeq: Int) {
  referralChanged(afterSeq: $afterSeq) {
    seq kind
    change { fromStatus toStatus note comment version source actor { name } }
    referral { id status }
  }
}
"""


async def test_program_sees_new_live_referral_then_its_status_change_live(api: Api, network: Network) -> None:
    program_feed = await api.subscribe(CHANGES, as_=INTAKE)
    other_org_feed = await api.subscribe(CHANGES, as_=CLINIC)

    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))[
        "createReferral"
    ]
    assert created["kind"] == "LIVE" and created["status"] == "NOT_UPDATED" and created["version"] == 1
    assert created["seeker"]["phone"] == "+12025550178"
    assert [a["value"] for a in created["screenerAnswers"]] == ["4", "No"]

    arrived = (await program_feed.next())["referralChanged"]
    assert arrived["kind"] == "CREATED"
    assert arrived["referral"]["id"] == created["id"]
    assert arrived["referral"]["seeker"]["email"] == "maria@example.com"

    inbound = (await api.gql(INBOUND, {}, as_=INTAKE))["inboundReferrals"]
    assert inbound["notUpdatedCount"] == 1
    assert [e["node"]["id"] for e in inbound["edges"]] == [created["id"]]

    updated = (
        await api.gql(
            UPDATE_STATUS,
            {"input": {"referralId": created["id"], "status": "ELIGIBLE", "note": "Come Tuesday", "expectedVersion": 1}},
            as_=INTAKE,
        )
    )["updateReferralStatus"]
    assert updated["status"] == "ELIGIBLE" and updated["version"] == 2
    assert [(h["fromStatus"], h["toStatus"]) for h in updated["history"]] == [
        (None, "NOT_UPDATED"),
        ("NOT_UPDATED", "ELIGIBLE"),
    ]
    assert updated["history"][-1]["changedBy"]["name"] == "Ines Intake"

    changed = (await program_feed.next())["referralChanged"]
    assert changed["kind"] == "STATUS_CHANGED" and changed["referral"]["status"] == "ELIGIBLE"
    assert changed["seq"] > arrived["seq"]

    await other_org_feed.nothing()
    await program_feed.close()
    await other_org_feed.close()


async def test_navigator_sees_the_programs_update_live(api: Api, network: Network) -> None:
    navigator_feed = await api.subscribe(CHANGES, as_=NAVIGATOR)
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))[
        "createReferral"
    ]
    assert (await navigator_feed.next())["referralChanged"]["kind"] == "CREATED"
    await api.gql(
        UPDATE_STATUS,
        {"input": {"referralId": created["id"], "status": "PENDING", "expectedVersion": 1}},
        as_=INTAKE,
    )
    pushed = (await navigator_feed.next())["referralChanged"]
    assert pushed["referral"]["id"] == created["id"] and pushed["referral"]["status"] == "PENDING"
    await navigator_feed.close()


async def test_reconnecting_with_after_seq_gets_exactly_the_missed_events(api: Api, network: Network) -> None:
    feed = await api.subscribe(CHANGES, as_=INTAKE)
    first = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))[
        "createReferral"
    ]
    seen = (await feed.next())["referralChanged"]
    await feed.close()

    # While the dashboard is offline: a status change, a referral to another program, a new referral.
    await api.gql(
        UPDATE_STATUS, {"input": {"referralId": first["id"], "status": "PENDING", "expectedVersion": 1}}, as_=INTAKE
    )
    await api.gql(
        CREATE_REFERRAL,
        {"input": new_seeker_referral(network["clinic_program"], screenerAnswers=[])},
        as_=NAVIGATOR,
    )
    second = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))[
        "createReferral"
    ]

    back = await api.subscribe(CHANGES, {"afterSeq": seen["seq"]}, as_=INTAKE)
    replayed = [(await back.next())["referralChanged"] for _ in range(2)]
    assert [(e["kind"], e["referral"]["id"]) for e in replayed] == [
        ("STATUS_CHANGED", first["id"]),
        ("CREATED", second["id"]),
    ]
    assert replayed[0]["seq"] < replayed[1]["seq"]
    await back.nothing()

    # And it continues live after the replay.
    await api.gql(
        UPDATE_STATUS, {"input": {"referralId": second["id"], "status": "ELIGIBLE", "expectedVersion": 1}}, as_=INTAKE
    )
    live = (await back.next())["referralChanged"]
    assert (live["kind"], live["referral"]["id"]) == ("STATUS_CHANGED", second["id"])
    await back.close()


async def test_a_replay_tells_the_story_as_it_happened(api: Api, network: Network) -> None:
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))
    referral_id = created["createReferral"]["id"]
    for version, (who, status, note) in enumerate(((INTAKE, "ELIGIBLE", "Documents checked"), (NAVIGATOR, "GOT_HELP", None)), 1):
        await api.gql(
            UPDATE_STATUS,
            {"input": {"referralId": referral_id, "status": status, "expectedVersion": version, "note": note}},
            as_=who,
        )
    replay = await api.subscribe(STORY, {"afterSeq": 0}, as_=NAVIGATOR)
    story = [(await replay.next())["referralChanged"] for _ in range(3)]
    assert [(e["kind"], e["change"]) for e in story] == [
        ("CREATED", {"fromStatus": None, "toStatus": "NOT_UPDATED", "note": None, "comment": "Needs groceries for a family of four.", "version": 1, "source": "DASHBOARD", "actor": {"name": "Nadia Navigator"}}),
        ("STATUS_CHANGED", {"fromStatus": "NOT_UPDATED", "toStatus": "ELIGIBLE", "note": "Documents checked", "comment": None, "version": 2, "source": "DASHBOARD", "actor": {"name": "Ines Intake"}}),
        ("STATUS_CHANGED", {"fromStatus": "ELIGIBLE", "toStatus": "GOT_HELP", "note": None, "comment": None, "version": 3, "source": "DASHBOARD", "actor": {"name": "Nadia Navigator"}}),
    ]
    assert {e["referral"]["status"] for e in story} == {"GOT_HELP"}, "the referral itself is as it is now"
    await replay.close()


async def test_every_dashboard_says_which_event_it_reflects(api: Api, network: Network) -> None:
    """Load, subscribe from `lastSeq`, and exactly the later changes arrive: nothing lost, nothing twice."""
    made = await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], seeker=None, seekerId=network["sam"])}, as_=NAVIGATOR)
    referral_id = made["createReferral"]["id"]
    pages = {
        INTAKE: "{ inboundReferrals { lastSeq } }",
        NAVIGATOR: "{ peopleImHelping { lastSeq } }",
        SEEKER: "{ referralsForMe { lastSeq } }",
    }
    feeds = {}
    for who, query in pages.items():
        last_seq = next(iter((await api.gql(query, as_=who)).values()))["lastSeq"]
        assert last_seq >= 1
        feeds[who] = await api.subscribe(CHANGES, {"afterSeq": last_seq}, as_=who)
    await api.gql(
        UPDATE_STATUS, {"input": {"referralId": referral_id, "status": "PENDING", "expectedVersion": 1}}, as_=INTAKE
    )
    for who, feed in feeds.items():
        pushed = (await feed.next())["referralChanged"]
        assert (pushed["kind"], pushed["referral"]["id"]) == ("STATUS_CHANGED", referral_id), who
        await feed.nothing(0.3)
        await feed.close()
