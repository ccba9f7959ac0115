"""familiesKnownToBoth through the API: households known to child welfare and housing, named only under consent."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from db.accounts import Organization, Role, User
from db.audit import AuditEntry
from db.cases import Case, CaseMember, CaseRole, CaseSeeker
from db.consent import AgreementParty, AgreementScope, CaptureMethod, Consent, ConsentScope, DataSharingAgreement, GrantedBy, Scope
from db.engine import Database
from db.enrollments import Enrollment, Household
from db.referrals import Referral, ReferralKind
from db.seekers import ContactPreference, Seeker
from resolvers.policy import families as family_policy
from resolvers.viewer import load_viewers
from schema.ids import to_global_id
from tests.support import Api, Network, add_housing_program, add_member

CW_ADMIN = "cw-admin@test.example"
CASEWORKER = "caseworker@test.example"
CLINIC_ADMIN = "clinic-admin@test.example"
NAVS_ADMIN = "navs-admin@test.example"
TODAY = date.today()

FAMILIES = """query($id: ID!, $first: Int, $after: String) {
  familiesKnownToBoth(agreementId: $id, first: $first, after: $after) {
    agreement { name }
    parties { name childWelfare housing }
    namedCount notConsentedCount
    families { edges { cursor node { headSeekerId members { seekerId firstName lastName } knownTo { name childWelfare housing } } }
               pageInfo { hasNextPage endCursor } }
  }
}"""


@pytest.fixture
async def world(db: Database, network: Network) -> dict[str, Any]:
    await add_housing_program(db, network)
    async with db.write() as s:
        cw = Organization(name="County Child Welfare", child_welfare=True)
        s.add(cw)
        await s.flush()
        cw_pk, clinic_pk = cw.id, network.pks["clinic"]
    await add_member(db, CW_ADMIN, organization_id=cw_pk, role=Role.ADMIN, name="Cora Admin")
    await add_member(db, CASEWORKER, organization_id=cw_pk, role=Role.NAVIGATOR, name="Carla Caseworker")
    await add_member(db, CLINIC_ADMIN, organization_id=clinic_pk, role=Role.ADMIN, name="Cleo Admin")
    await add_member(db, NAVS_ADMIN, organization_id=network.pks["navs"], role=Role.ADMIN, name="Nell Admin")
    async with db.write() as s:
        caseworker = await s.scalar(select(User.id).where(User.email == CASEWORKER))
        clinic_admin = await s.scalar(select(User.id).where(User.email == CLINIC_ADMIN))
        agreement = DataSharingAgreement(name="Families First MOA", purpose="Supportive housing for families in child welfare",
                                         starts_on=TODAY - timedelta(days=30), ends_on=None)
        ended = DataSharingAgreement(name="Old MOA", purpose="Ended", starts_on=TODAY - timedelta(days=400),
                                     ends_on=TODAY - timedelta(days=1))
        s.add_all([agreement, ended])
        await s.flush()
        for a in (agreement, ended):
            s.add_all(AgreementParty(agreement_id=a.id, organization_id=o) for o in (cw_pk, clinic_pk))
            s.add_all(AgreementScope(agreement_id=a.id, scope=sc) for sc in (Scope.REFERRALS, Scope.CASE_NOTES))
        hh = Household()
        s.add(hh)
        await s.flush()

        def person(first: str) -> Seeker:
            p = Seeker(first_name=first, last_name="Family", contact_preference=ContactPreference.NONE, created_by_user_id=caseworker)
            s.add(p)
            return p

        alice, bob, carol, dan, eve = (person(n) for n in ("Alice", "Bob", "Carol", "Dan", "Eve"))
        fay, gus = person("Fay"), person("Gus")
        await s.flush()
        housing_program = network.pks["housing"]
        # Housing knows Alice by a live referral, Bob by an enrollment, Carol and Dan by referrals; Eve only by child welfare.
        for p in (alice, carol, dan):
            s.add(Referral(kind=ReferralKind.LIVE, seeker_id=p.id, program_id=housing_program, program_organization_id=clinic_pk,
                           navigator_id=caseworker, navigator_organization_id=cw_pk, contact_preference=ContactPreference.NONE))
        s.add(Enrollment(seeker_id=bob.id, program_id=housing_program, household_id=hh.id, entry_date=TODAY, relationship_to_hoh=1))
        # Fay's household: a case led by the clinic, with a child welfare caseworker on it.
        case = Case(lead_organization_id=clinic_pk, opened_on=TODAY)
        s.add(case)
        await s.flush()
        s.add_all([CaseSeeker(case_id=case.id, seeker_id=fay.id, is_head=True), CaseSeeker(case_id=case.id, seeker_id=gus.id)])
        s.add(CaseMember(case_id=case.id, user_id=caseworker, organization_id=cw_pk, role=CaseRole.CHILD_WELFARE_CASEWORKER, added_on=TODAY))
        # A worker of the clinic created Gus's profile? No: the caseworker did; the case makes the clinic know them.

        def release(p: Seeker, scopes: tuple[Scope, ...], *, to_org: int | None = None, revoked: bool = False) -> None:
            c = Consent(seeker_id=p.id, to_agreement_id=None if to_org else agreement.id, to_organization_id=to_org,
                        starts_on=TODAY - timedelta(days=1), ends_on=TODAY + timedelta(days=300), granted_by=GrantedBy.SEEKER,
                        captured_how=CaptureMethod.SIGNED_PAPER, captured_by_user_id=clinic_admin)
            if revoked:
                from db.base import utcnow
                c.revoked_at = utcnow()
            s.add(c)
            pending.append((c, scopes))

        pending: list[tuple[Consent, tuple[Scope, ...]]] = []
        release(alice, (Scope.REFERRALS,))
        release(carol, (Scope.CASE_NOTES,))  # not REFERRALS: counted
        release(dan, (Scope.REFERRALS,), revoked=True)  # revoked: counted
        release(eve, (Scope.REFERRALS,))  # consented, but housing does not know her
        release(fay, (Scope.REFERRALS,), to_org=clinic_pk)  # to the clinic only
        await s.flush()
        for c, scopes in pending:
            s.add_all(ConsentScope(consent_id=c.id, scope=sc) for sc in scopes)
        ids = {p.first_name: p.id for p in (alice, bob, carol, dan, eve, fay, gus)}
        agreement_id, ended_id = agreement.id, ended.id
    return {"agreement": to_global_id("DataSharingAgreement", agreement_id), "agreement_pk": agreement_id,
            "ended": to_global_id("DataSharingAgreement", ended_id), "people": ids}


def _names(result: dict[str, Any]) -> list[list[str]]:
    return [[m["firstName"] for m in e["node"]["members"]] for e in result["families"]["edges"]]


async def test_a_child_welfare_admin_sees_the_consenting_and_a_count_of_the_rest(api: Api, world: dict[str, Any]) -> None:
    raw = await api.raw(FAMILIES, {"id": world["agreement"]}, as_=CW_ADMIN)
    assert "errors" not in raw, raw
    result = raw["data"]["familiesKnownToBoth"]
    assert _names(result) == [["Alice"]]
    (alice,) = result["families"]["edges"]
    assert alice["node"]["headSeekerId"] == to_global_id("Seeker", world["people"]["Alice"])
    assert {o["name"] for o in alice["node"]["knownTo"]} == {"County Child Welfare", "Northside Clinic"}
    # Bob, Carol, Dan, and Fay's household (her release is to the clinic, not to child welfare or the agreement).
    assert result["namedCount"] == 1 and result["notConsentedCount"] == 4
    assert {(p["name"], p["childWelfare"], p["housing"]) for p in result["parties"]} == {
        ("County Child Welfare", True, False), ("Northside Clinic", False, True)}
    text = json.dumps(raw)
    for name in ("Bob", "Carol", "Dan", "Eve", "Fay", "Gus"):
        assert name not in text
        assert to_global_id("Seeker", world["people"][name]) not in text


async def test_a_release_to_the_viewers_organization_names_the_whole_household(api: Api, world: dict[str, Any]) -> None:
    result = (await api.gql(FAMILIES, {"id": world["agreement"]}, as_=CLINIC_ADMIN))["familiesKnownToBoth"]
    assert _names(result) == [["Alice"], ["Fay", "Gus"]]
    assert result["namedCount"] == 2 and result["notConsentedCount"] == 3
    fay = result["families"]["edges"][1]["node"]
    assert {o["name"] for o in fay["knownTo"]} == {"County Child Welfare", "Northside Clinic"}


async def test_pages_follow_the_cursor(api: Api, world: dict[str, Any]) -> None:
    first = (await api.gql(FAMILIES, {"id": world["agreement"], "first": 1}, as_=CLINIC_ADMIN))["familiesKnownToBoth"]
    assert _names(first) == [["Alice"]] and first["families"]["pageInfo"]["hasNextPage"]
    after = first["families"]["pageInfo"]["endCursor"]
    second = (await api.gql(FAMILIES, {"id": world["agreement"], "first": 1, "after": after}, as_=CLINIC_ADMIN))["familiesKnownToBoth"]
    assert _names(second) == [["Fay", "Gus"]] and not second["families"]["pageInfo"]["hasNextPage"]
    assert second["notConsentedCount"] == 3


async def test_revoking_moves_a_family_into_the_count(api: Api, world: dict[str, Any], db: Database) -> None:
    async with db.write() as s:
        consent = await s.scalar(select(Consent).where(Consent.seeker_id == world["people"]["Alice"]))
        assert consent is not None
        from db.base import utcnow
        consent.revoked_at = utcnow()
    result = (await api.gql(FAMILIES, {"id": world["agreement"]}, as_=CW_ADMIN))["familiesKnownToBoth"]
    assert _names(result) == [] and result["namedCount"] == 0 and result["notConsentedCount"] == 5


async def test_the_names_read_are_audited(api: Api, world: dict[str, Any], db: Database) -> None:
    await api.gql(FAMILIES, {"id": world["agreement"]}, as_=CLINIC_ADMIN)
    async with db.read() as s:
        rows = list(await s.scalars(select(AuditEntry)))
    seen = {r.seeker_id for r in rows}
    assert seen == {world["people"][n] for n in ("Alice", "Fay", "Gus")}
    assert all(r.scopes == "NAME,REFERRALS" and "familiesKnownToBoth" in r.operation for r in rows)


async def test_non_parties_and_others_are_refused(api: Api, world: dict[str, Any], network: Network) -> None:
    for who in (NAVS_ADMIN, CASEWORKER, "navigator@test.example", "seeker@test.example"):
        errors = await api.errors(FAMILIES, {"id": world["agreement"]}, as_=who)
        assert errors.codes == ["FORBIDDEN"], who
    ended = await api.errors(FAMILIES, {"id": world["ended"]}, as_=CW_ADMIN)
    assert ended.codes == ["FORBIDDEN"]


async def test_bad_ids_are_refused(api: Api, world: dict[str, Any], network: Network) -> None:
    missing = await api.errors(FAMILIES, {"id": to_global_id("DataSharingAgreement", 9999)}, as_=CW_ADMIN)
    assert missing.codes == ["NOT_FOUND"]
    wrong_type = await api.errors(FAMILIES, {"id": network["pantry"]}, as_=CW_ADMIN)
    assert wrong_type.codes == ["BAD_USER_INPUT"]
    garbage = await api.errors(FAMILIES, {"id": "not-an-id"}, as_=CW_ADMIN)
    assert garbage.codes == ["BAD_USER_INPUT"]
    bad_cursor = await api.errors(FAMILIES, {"id": world["agreement"], "after": "nope"}, as_=CW_ADMIN)
    assert bad_cursor.codes == ["BAD_USER_INPUT"]


async def test_the_rules_two_forms_agree(db: Database, world: dict[str, Any]) -> None:
    async with db.read() as s:
        viewers = (await load_viewers(s, list(await s.scalars(select(User.id))))).values()
        heads = list(await s.scalars(select(Seeker.id)))
        for agreement_id in list(await s.scalars(select(DataSharingAgreement.id))):
            facts = await family_policy.load_facts(s, agreement_id, heads)
            for viewer in viewers:
                listed = set(await s.scalars(
                    select(Seeker.id).join(DataSharingAgreement, DataSharingAgreement.id == agreement_id)
                    .where(family_policy.names_where(viewer))
                ))
                expected = {h for h in heads if family_policy.shows_names(viewer, family_policy.Family(agreement_id, h), facts[h])}
                assert listed == expected, (viewer.email, agreement_id)
                may = await s.scalar(select(DataSharingAgreement.id).where(
                    DataSharingAgreement.id == agreement_id, family_policy.where(viewer)))
                assert (may is not None) == family_policy.may_list(viewer, family_policy.Family(agreement_id, heads[0]), facts[heads[0]])
