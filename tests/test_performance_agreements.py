"""Performance per data sharing agreement: the referrals between its parties, under the minimum cell size."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest
from sqlalchemy import select

from db.accounts import Role, User
from db.consent import AgreementParty, AgreementScope, DataSharingAgreement, Scope
from db.engine import Database
from db.referrals import Referral, ReferralKind, ReferralStatus
from db.seekers import ContactPreference, Seeker
from schema.ids import to_global_id
from tests.support import Api, Network, add_member

NAVS_ADMIN = "navs-admin@test.example"
FOOD_ADMIN = "food-admin@test.example"
CLINIC_ADMIN = "clinic-admin@test.example"
NAVIGATOR = "navigator@test.example"
FROM, TO = "2025-01-01", "2025-03-31"

PERFORMANCE = """
query($scope: PerformanceScopeInput!, $from: Date!, $to: Date!) {
  performance(scope: $scope, from: $from, to: $to) {
    scope { kind id name }
    suppressed minimumCellSize
    referralsMade gotHelp gotHelpShare acknowledged acknowledgedShare medianDaysToAcknowledge resolved
    byStatus { status count }
    byNotHousedReason { reason count }
    series { periodStart made gotHelp housed }
  }
}
"""
SCOPES = "query { performanceScopes { kind id name } }"


async def _agreement(db: Database, network: Network, *, ends_on: date | None = None) -> str:
    async with db.write() as s:
        agreement = DataSharingAgreement(name="Food and Navigation MOA", purpose="Referrals between us",
                                         starts_on=date(2024, 1, 1), ends_on=ends_on)
        s.add(agreement)
        await s.flush()
        s.add_all(AgreementParty(agreement_id=agreement.id, organization_id=network.pks[o]) for o in ("navs", "food"))
        s.add(AgreementScope(agreement_id=agreement.id, scope=Scope.REFERRALS))
        return to_global_id("DataSharingAgreement", agreement.id)


async def _referrals(db: Database, network: Network, *, to_pantry: int, got_help: int, to_clinic: int = 3) -> None:
    async with db.write() as s:
        navigator = await s.scalar(select(User.id).where(User.email == NAVIGATOR))
        seeker = Seeker(first_name="Pat", last_name="Person", contact_preference=ContactPreference.NONE)
        s.add(seeker)
        await s.flush()

        def referral(n: int, program: str, organization: str, status: ReferralStatus) -> Referral:
            return Referral(kind=ReferralKind.LIVE, status=status, seeker_id=seeker.id, program_id=network.pks[program],
                            program_organization_id=network.pks[organization], navigator_id=navigator,
                            navigator_organization_id=network.pks["navs"], contact_preference=ContactPreference.NONE,
                            created_at=datetime(2025, 1 + n % 3, 10, 12, tzinfo=timezone.utc))

        s.add_all(referral(n, "pantry", "food", ReferralStatus.GOT_HELP if n < got_help else ReferralStatus.NOT_UPDATED)
                  for n in range(to_pantry))
        # To the clinic: not a party, so not the agreement's.
        s.add_all(referral(n, "clinic_program", "clinic", ReferralStatus.GOT_HELP) for n in range(to_clinic))


@pytest.fixture
async def admins(db: Database, network: Network) -> None:
    await add_member(db, NAVS_ADMIN, organization_id=network.pks["navs"], role=Role.ADMIN)
    await add_member(db, FOOD_ADMIN, organization_id=network.pks["food"], role=Role.ADMIN)
    await add_member(db, CLINIC_ADMIN, organization_id=network.pks["clinic"], role=Role.ADMIN)


async def _measure(api: Api, agreement: str, who: str) -> dict[str, Any]:
    data = await api.gql(PERFORMANCE, {"scope": {"agreementId": agreement}, "from": FROM, "to": TO}, as_=who)
    performance: dict[str, Any] = data["performance"]
    return performance


async def test_the_referrals_between_the_parties_with_small_cells_withheld(
    api: Api, db: Database, network: Network, admins: None
) -> None:
    agreement = await _agreement(db, network)
    await _referrals(db, network, to_pantry=14, got_help=3)
    for who in (NAVS_ADMIN, FOOD_ADMIN):  # both sides get the same figures
        p = await _measure(api, agreement, who)
        assert p["scope"]["kind"] == "AGREEMENT" and p["scope"]["id"] == agreement
        assert p["referralsMade"] == 14 and p["minimumCellSize"] == 11 and p["suppressed"] is True
        # 3 got help: withheld, and its share with it; 11 not updated: shown; 0 shown as 0.
        assert p["gotHelp"] is None and p["gotHelpShare"] is None
        statuses = {c["status"]: c["count"] for c in p["byStatus"]}
        assert statuses["GOT_HELP"] is None and statuses["NOT_UPDATED"] == 11 and statuses["PENDING"] == 0
        assert p["resolved"] is None and p["acknowledged"] == 0 and p["medianDaysToAcknowledge"] is None
        # Month by month: 5, 5 and 4 referrals, all under 11.
        assert [m["made"] for m in p["series"]] == [None, None, None]
        assert all(r["count"] == 0 for r in p["byNotHousedReason"])


async def test_a_small_agreement_shows_no_count_at_all(api: Api, db: Database, network: Network, admins: None) -> None:
    agreement = await _agreement(db, network)
    await _referrals(db, network, to_pantry=4, got_help=1)
    p = await _measure(api, agreement, NAVS_ADMIN)
    assert p["referralsMade"] is None and p["suppressed"] is True and p["gotHelpShare"] is None
    assert "4" not in str([p["referralsMade"], p["gotHelp"], [c["count"] for c in p["byStatus"]]])


async def test_other_scopes_are_not_suppressed(api: Api, db: Database, network: Network, admins: None) -> None:
    await _referrals(db, network, to_pantry=4, got_help=1)
    data = await api.gql(PERFORMANCE, {"scope": {"organizationId": network["food"]}, "from": FROM, "to": TO}, as_=FOOD_ADMIN)
    p = data["performance"]
    assert p["referralsMade"] == 4 and p["gotHelp"] == 1 and p["suppressed"] is False and p["minimumCellSize"] is None


async def test_refusals_and_bad_ids(api: Api, db: Database, network: Network, admins: None) -> None:
    agreement = await _agreement(db, network)
    ended = await _agreement(db, network, ends_on=date(2024, 12, 31))
    variables = {"scope": {"agreementId": agreement}, "from": FROM, "to": TO}
    for who in (CLINIC_ADMIN, NAVIGATOR, "intake@test.example", "seeker@test.example"):
        assert (await api.errors(PERFORMANCE, variables, as_=who)).codes == ["FORBIDDEN"], who
    assert (await api.errors(PERFORMANCE, {**variables, "scope": {"agreementId": ended}}, as_=NAVS_ADMIN)).codes == ["FORBIDDEN"]
    missing = {**variables, "scope": {"agreementId": to_global_id("DataSharingAgreement", 999)}}
    assert (await api.errors(PERFORMANCE, missing, as_=NAVS_ADMIN)).codes == ["NOT_FOUND"]
    wrong = {**variables, "scope": {"agreementId": network["pantry"]}}
    assert (await api.errors(PERFORMANCE, wrong, as_=NAVS_ADMIN)).codes == ["BAD_USER_INPUT"]
    two = {**variables, "scope": {"agreementId": agreement, "organizationId": network["navs"]}}
    assert (await api.errors(PERFORMANCE, two, as_=NAVS_ADMIN)).codes == ["BAD_USER_INPUT"]


async def test_the_scope_picker_offers_the_agreements_in_force(api: Api, db: Database, network: Network, admins: None) -> None:
    agreement = await _agreement(db, network)
    await _agreement(db, network, ends_on=date(2024, 12, 31))
    scopes = (await api.gql(SCOPES, as_=NAVS_ADMIN))["performanceScopes"]
    assert [s["id"] for s in scopes if s["kind"] == "AGREEMENT"] == [agreement]
    clinic = (await api.gql(SCOPES, as_=CLINIC_ADMIN))["performanceScopes"]
    assert not [s for s in clinic if s["kind"] == "AGREEMENT"]
    staff = (await api.gql(SCOPES, as_="intake@test.example"))["performanceScopes"]
    assert not [s for s in staff if s["kind"] == "AGREEMENT"]
