"""The CE wall display's board: open referrals by status, the longest waiting, recent changes."""

from __future__ import annotations

from sqlalchemy import update

from db.accounts import Membership, Organization, Role, User
from db.engine import Database
from tests.documents import CREATE_REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.support import PASSWORD, PASSWORD_HASH, Api, Network

BOARD = """
query($coc: String!) {
  wallboard(cocCode: $coc) {
    openByStatus { status count }
    waitingLongest(first: 5) { id status program { name } }
    changesToday(first: 10) { seq kind referral { id status } }
  }
}
"""


TODAY = """
query($coc: String!) { wallboard(cocCode: $coc) { lastSeq changesToday { seq kind fromStatus toStatus } } }
"""
WALL_CHANGES = """
subscription($coc: String!, $afterSeq: Int) {
  wallboardChanged(cocCode: $coc, afterSeq: $afterSeq) { seq kind fromStatus toStatus referral { id seekerInitials status } }
}
"""


async def _ce_manager(db: Database, network: Network) -> str:
    async with db.write() as s:
        user = User(name="Cora CE", email="ce@test.example", password_hash=PASSWORD_HASH)
        s.add(user)
        await s.flush()
        s.add(Membership(user_id=user.id, organization_id=network.pks["navs"], role=Role.CE_MANAGER))
    return "ce@test.example"


async def test_the_wall_shows_the_cocs_live_referrals_and_todays_changes(api: Api, network: Network, db: Database) -> None:
    ce = await _ce_manager(db, network)
    first = await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    second = await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["snap"], consent=None, screenerAnswers=[])}, as_="navigator@test.example")
    first_id, second_id = first["createReferral"]["id"], second["createReferral"]["id"]
    await api.gql(
        UPDATE_STATUS, {"input": {"referralId": second_id, "status": "PENDING", "expectedVersion": 1}}, as_="intake@test.example"
    )

    board = (await api.gql(BOARD, {"coc": "XX-500"}, as_=ce))["wallboard"]
    counts = {c["status"]: c["count"] for c in board["openByStatus"]}
    assert counts["NOT_UPDATED"] == 1 and counts["PENDING"] == 1, "the logged referral is not the CoC's to see"
    assert [r["id"] for r in board["waitingLongest"]] == [first_id]
    assert [(e["kind"], e["referral"]["id"]) for e in board["changesToday"]] == [
        ("STATUS_CHANGED", second_id),
        ("CREATED", second_id),
        ("CREATED", first_id),
    ]


async def test_the_wall_is_only_for_that_cocs_ce_managers(api: Api, network: Network, db: Database) -> None:
    ce = await _ce_manager(db, network)
    assert (await api.errors(BOARD, {"coc": "XX-500"}, as_="intake@test.example")).codes == ["FORBIDDEN"]
    assert (await api.errors(BOARD, {"coc": "YY-100"}, as_=ce)).codes == ["FORBIDDEN"]
    async with db.write() as s:
        await s.execute(update(Organization).where(Organization.id == network.pks["navs"]).values(coc_id=None))
    assert (await api.errors(BOARD, {"coc": "XX-500"}, as_=ce)).codes == ["FORBIDDEN"]


async def test_the_today_feed_tells_each_change_as_it_happened(api: Api, network: Network, db: Database) -> None:
    ce = await _ce_manager(db, network)
    made = await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    referral_id = made["createReferral"]["id"]
    # As the wall page does: load the board, then follow from the event it reflects.
    loaded = (await api.gql(TODAY, {"coc": "XX-500"}, as_=ce))["wallboard"]
    wall = await api.subscribe(WALL_CHANGES, {"coc": "XX-500", "afterSeq": loaded["lastSeq"]}, as_=ce)
    for version, status in enumerate(("ELIGIBLE", "GOT_HELP"), start=1):
        await api.gql(
            UPDATE_STATUS,
            {"input": {"referralId": referral_id, "status": status, "expectedVersion": version}},
            as_="intake@test.example",
        )
    pushed = [(await wall.next())["wallboardChanged"] for _ in range(2)]
    assert [(p["fromStatus"], p["toStatus"]) for p in pushed] == [("NOT_UPDATED", "ELIGIBLE"), ("ELIGIBLE", "GOT_HELP")]
    assert {(p["referral"]["id"], p["referral"]["seekerInitials"]) for p in pushed} == {(referral_id, "M. L.")}
    await wall.close()

    feed = (await api.gql(TODAY, {"coc": "XX-500"}, as_=ce))["wallboard"]["changesToday"]
    assert [(e["kind"], e["fromStatus"], e["toStatus"]) for e in feed] == [
        ("STATUS_CHANGED", "ELIGIBLE", "GOT_HELP"),
        ("STATUS_CHANGED", "NOT_UPDATED", "ELIGIBLE"),
        ("CREATED", None, "NOT_UPDATED"),
    ]
    # Replayed from the start, the stream tells the same story.
    replay = await api.subscribe(WALL_CHANGES, {"coc": "XX-500", "afterSeq": 0}, as_=ce)
    story = [(await replay.next())["wallboardChanged"] for _ in range(3)]
    assert [(e["fromStatus"], e["toStatus"]) for e in story] == [(None, "NOT_UPDATED"), ("NOT_UPDATED", "ELIGIBLE"), ("ELIGIBLE", "GOT_HELP")]
    await replay.close()


async def test_a_since_without_a_time_zone_is_bad_input(api: Api, network: Network, db: Database) -> None:
    ce = await _ce_manager(db, network)
    query = 'query { wallboard(cocCode: "XX-500") { changesToday(since: "2026-12-01T08:00:00") { seq } } }'
    assert (await api.errors(query, as_=ce)).codes == ["BAD_USER_INPUT"]
