"""Bad input gets BAD_USER_INPUT with a message a person understands, and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.engine import Database
from db.events import OutboxEvent
from db.referrals import Referral
from db.seekers import Seeker
from schema.ids import to_global_id
from tests.documents import CREATE_REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.support import Api, Network

NAVIGATOR = "navigator@test.example"


async def _counts(db: Database) -> tuple[int, int, int]:
    async with db.read() as s:
        return (
            await s.scalar(select(func.count()).select_from(Referral)),
            await s.scalar(select(func.count()).select_from(Seeker)),
            await s.scalar(select(func.count()).select_from(OutboxEvent)),
        )  # type: ignore[return-value]


CASES = {
    "unknown program": ({"programId": to_global_id("Program", 9999)}, "program does not exist"),
    "malformed email": ({"seeker": {"firstName": "A", "lastName": "B", "email": "maria@@example"}}, "email address"),
    "malformed phone": (
        {"seeker": {"firstName": "A", "lastName": "B", "phone": "555-12"}, "contactPreference": "TEXT"},
        "not a valid phone number",
    ),
    "missing consent": ({"consent": False}, "consent"),
    "missing required screener answer": ({"screenerAnswers": [{"key": "has_income", "value": "No"}]}, "household"),
    "answer not among the choices": (
        {"screenerAnswers": [{"key": "household_size", "value": "3"}, {"key": "has_income", "value": "Maybe"}]},
        "not an option",
    ),
    "email preference without an email": (
        {"seeker": {"firstName": "A", "lastName": "B", "phone": "2025550178"}, "contactPreference": "EMAIL"},
        "give an email address",
    ),
    "blank name": ({"seeker": {"firstName": " ", "lastName": "B", "email": "a@example.com"}}, "first name"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
async def test_bad_referral_input_is_refused_and_writes_nothing(case: str, api: Api, network: Network, db: Database) -> None:
    overrides, words = CASES[case]
    before = await _counts(db)
    errors = await api.errors(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], **overrides)}, as_=NAVIGATOR)
    assert errors.codes == ["BAD_USER_INPUT"]
    assert words in errors.errors[0]["message"]
    assert await _counts(db) == before


async def test_unknown_status_is_bad_user_input(api: Api, network: Network, db: Database) -> None:
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))[
        "createReferral"
    ]
    before = await _counts(db)
    errors = await api.errors(
        UPDATE_STATUS, {"input": {"referralId": created["id"], "status": "DONE_AND_DUSTED", "expectedVersion": 1}}, as_=NAVIGATOR
    )
    assert errors.codes == ["BAD_USER_INPUT"]
    assert "DONE_AND_DUSTED" in errors.errors[0]["message"]
    assert await _counts(db) == before


async def test_a_stale_version_is_a_conflict_and_writes_nothing(api: Api, network: Network, db: Database) -> None:
    created = (await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))[
        "createReferral"
    ]
    await api.gql(
        UPDATE_STATUS, {"input": {"referralId": created["id"], "status": "PENDING", "expectedVersion": 1}}, as_="intake@test.example"
    )
    before = await _counts(db)
    errors = await api.errors(
        UPDATE_STATUS, {"input": {"referralId": created["id"], "status": "GOT_HELP", "expectedVersion": 1}}, as_=NAVIGATOR
    )
    assert errors.codes == ["CONFLICT"]
    assert errors.errors[0]["extensions"]["currentVersion"] == 2
    assert "Someone else updated" in errors.errors[0]["message"]
    assert await _counts(db) == before
    referral = await api.gql("query($id: ID!) { referral(id: $id) { status version } }", {"id": created["id"]}, as_=NAVIGATOR)
    assert referral["referral"] == {"status": "PENDING", "version": 2}


async def test_malformed_ids_and_cursors_are_bad_user_input(api: Api, network: Network) -> None:
    errors = await api.errors("query { referral(id: \"not-an-id\") { id } }", as_=NAVIGATOR)
    assert errors.codes == ["BAD_USER_INPUT"]
    errors = await api.errors("query { programs(after: \"garbage\") { edges { cursor } } }")
    assert errors.codes == ["BAD_USER_INPUT"]
    errors = await api.errors("query($id: ID!) { referral(id: $id) { id } }", {"id": network["pantry"]}, as_=NAVIGATOR)
    assert errors.codes == ["BAD_USER_INPUT"]
    assert "Referral" in errors.errors[0]["message"]
