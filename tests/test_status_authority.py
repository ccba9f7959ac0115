"""Who may set which status: the seeker closes out their own referral; the helpers set any status."""

from __future__ import annotations

from sqlalchemy import func, select

from db.engine import Database
from db.notifications import Notification
from tests.documents import CREATE_REFERRAL, REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.support import Api, Network

NAVIGATOR = "navigator@test.example"
INTAKE = "intake@test.example"
SEEKER = "seeker@test.example"
SEEKER_STATUSES = ["GOT_HELP", "COULDNT_GET_HELP", "NO_LONGER_INTERESTED"]
CAN = "query($id: ID!) { referral(id: $id) { status version viewerCan { statuses comment } } }"


async def _notifications(db: Database) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(Notification)) or 0)


async def test_a_seeker_may_only_close_out_their_own_referral(api: Api, network: Network, db: Database) -> None:
    made = await api.gql(
        CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], seeker=None, seekerId=network["sam"])}, as_=NAVIGATOR
    )
    referral_id = made["createReferral"]["id"]
    mine = (await api.gql(CAN, {"id": referral_id}, as_=SEEKER))["referral"]
    assert mine["viewerCan"] == {"statuses": SEEKER_STATUSES, "comment": True}

    told = await _notifications(db)
    for status in ("ELIGIBLE", "NO_CAPACITY", "PENDING"):
        refused = await api.errors(
            UPDATE_STATUS, {"input": {"referralId": referral_id, "status": status, "expectedVersion": 1}}, as_=SEEKER
        )
        assert refused.codes == ["FORBIDDEN"]
        assert "Got help, Couldn't get help or No longer interested" in refused.errors[0]["message"]
    after = (await api.gql(REFERRAL, {"id": referral_id}, as_=NAVIGATOR))["referral"]
    assert (after["status"], after["version"], len(after["history"])) == ("NOT_UPDATED", 1, 1), "nothing was written"
    assert await _notifications(db) == told, "nobody was told about a refused change"

    done = await api.gql(
        UPDATE_STATUS, {"input": {"referralId": referral_id, "status": "NO_LONGER_INTERESTED", "expectedVersion": 1}}, as_=SEEKER
    )
    assert done["updateReferralStatus"]["status"] == "NO_LONGER_INTERESTED"
    again = (await api.gql(CAN, {"id": referral_id}, as_=SEEKER))["referral"]["viewerCan"]["statuses"]
    # Closed now: the seeker's choices are no longer offered (a mistaken tap is undone with undoReferralStatus).
    assert again == [], "a closed referral offers the seeker no choices"


async def test_navigator_and_program_may_set_any_status(api: Api, network: Network) -> None:
    made = await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR)
    referral_id = made["createReferral"]["id"]
    for who in (NAVIGATOR, INTAKE):
        can = (await api.gql(CAN, {"id": referral_id}, as_=who))["referral"]["viewerCan"]
        assert len(can["statuses"]) == 10 and "NOT_UPDATED" not in can["statuses"] and can["comment"] is True
    version = 1
    for who, status in ((INTAKE, "NO_CAPACITY"), (NAVIGATOR, "REFERRED_ELSEWHERE"), (INTAKE, "NOT_UPDATED")):
        changed = await api.gql(
            UPDATE_STATUS, {"input": {"referralId": referral_id, "status": status, "expectedVersion": version}}, as_=who
        )
        assert changed["updateReferralStatus"]["status"] == status
        version += 1
