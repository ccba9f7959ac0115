"""Shared cases through the real API: the same case looks different across agencies, as consent says."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from db.accounts import Organization, Role, User
from db.audit import AuditAction, AuditEntry, AuditSubject
from db.cases import Case, CaseRecord
from db.consent import Consent
from db.engine import Database
from db.seekers import ContactPreference, Seeker
from resolvers.policy import cases as case_policy
from resolvers.viewer import load_viewers
from schema.ids import to_global_id
from tests.support import Api, Network, Subscription, add_member

NAVIGATOR = "navigator@test.example"  # Eastside Navigators: leads the case
CASEWORKER = "cw@test.example"  # County Child Welfare
ADMIN = "admin@navs.example"
SEEKER = "seeker@test.example"
OUTSIDER = "clinic@test.example"
TODAY = date.today().isoformat()

CASE_FIELDS = """
  id version stage openedOn withheld viewerCan lastSeq
  leadOrganization { name }
  leadContacts { person { name } role }
  workers { person { name } organization { name } role }
  household { seekerId isHead firstName lastName email phone }
  records { id kind scope body on amount payee goalStatus intensity strengths attendees nextSteps { who what } }
"""
OPEN = f"mutation($input: OpenCaseInput!) {{ openCase(input: $input) {{ {CASE_FIELDS} }} }}"
CASE = f"query($id: ID!) {{ case(id: $id) {{ {CASE_FIELDS} }} }}"
CASES = "query { cases { edges { node { id withheld } } } }"
ADD_WORKER = "mutation($input: AddCaseWorkerInput!) { addCaseWorker(input: $input) { id workers { role } } }"
NOTE = "mutation($input: AddCaseNoteInput!) { addCaseNote(input: $input) { id records { id kind scope } } }"
GOAL = "mutation($input: AddCaseGoalInput!) { addCaseGoal(input: $input) { id records { id kind } } }"
ASSIST = "mutation($input: RecordFinancialAssistanceInput!) { recordFinancialAssistance(input: $input) { id records { id amount } } }"
CONTACT = "mutation($input: RecordServiceContactInput!) { recordServiceContact(input: $input) { id records { id intensity } } }"
CONFERENCE = "mutation($input: RecordCaseConferenceInput!) { recordCaseConference(input: $input) { id records { id attendees } } }"
STAGE = "mutation($input: SetCaseStageInput!) { setCaseStage(input: $input) { id version stage closureReason } }"
AGREEMENT = "mutation($input: CreateAgreementInput!) { createDataSharingAgreement(input: $input) { id inForce parties { name } scopes } }"
GRANT = "mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id state scopes endsOn grantedBy capturedHow } }"
REVOKE = "mutation($id: ID!) { revokeConsent(consentId: $id) { id state revokedAt } }"
CONSENTS = "query($seeker: ID!) { consents(seekerId: $seeker) { id state scopes toAgreement { name } } }"
CHANGED = """subscription($id: ID!, $afterSeq: Int) { caseChanged(caseId: $id, afterSeq: $afterSeq) { seq kind case { withheld household { firstName }
  records { id kind body } } } }"""


@pytest.fixture
async def world(db: Database, network: Network) -> dict[str, Any]:
    async with db.write() as s:
        cw = Organization(name="County Child Welfare")
        s.add(cw)
        await s.flush()
        cw_id = cw.id
    await add_member(db, CASEWORKER, organization_id=cw_id, role=Role.NAVIGATOR, name="Carla Caseworker")
    await add_member(db, ADMIN, organization_id=network.pks["navs"], role=Role.ADMIN, name="Ada Admin")
    return {"cw": to_global_id("Organization", cw_id), "cw_pk": cw_id}


async def _open(api: Api, network: Network) -> dict[str, Any]:
    case: dict[str, Any] = (await api.gql(OPEN, {"input": {"household": [network["sam"]], "openedOn": TODAY}}, as_=NAVIGATOR))["openCase"]
    await api.gql(ADD_WORKER, {"input": {"caseId": case["id"], "email": CASEWORKER, "role": "CHILD_WELFARE_CASEWORKER"}}, as_=NAVIGATOR)
    return case


async def _agreement(api: Api, world: dict[str, Any], scopes: list[str]) -> str:
    made = await api.gql(
        AGREEMENT,
        {"input": {"name": "Families First MOA", "purpose": "Supportive housing for families known to child welfare",
                   "partyOrganizationIds": [world["cw"]], "scopes": scopes, "startsOn": TODAY}},
        as_=ADMIN,
    )
    agreement = made["createDataSharingAgreement"]
    assert agreement["inForce"] and {p["name"] for p in agreement["parties"]} == {"Eastside Navigators", "County Child Welfare"}
    return str(agreement["id"])


async def _forms_agree(db: Database) -> int:
    """The policy's SQL and its check on loaded rows give every viewer the same cases, fields and records."""
    checked = 0
    async with db.read() as s:
        viewers = (await load_viewers(s, list(await s.scalars(select(User.id))))).values()
        cases = list(await s.scalars(select(Case)))
        facts = await case_policy.load_facts(s, cases)
        records = list(await s.scalars(select(CaseRecord)))
        for viewer in viewers:
            for action in case_policy.Action:
                listed = set(await s.scalars(select(Case.id).where(case_policy.where(viewer, action))))
                assert listed == {c.id for c in cases if case_policy.may(viewer, action, c, facts[c.id])}, (viewer.email, action)
            for fld in case_policy.Field:
                listed = set(await s.scalars(select(Case.id).where(case_policy.RULES.field_where(viewer, fld))))
                assert listed == {c.id for c in cases if fld in case_policy.visible_fields(viewer, c, facts[c.id])}, (viewer.email, fld)
            listed = set(await s.scalars(select(CaseRecord.id).where(case_policy.record_where(viewer))))
            by_id = {c.id: c for c in cases}
            expected = {r.id for r in records if case_policy.may_read_record(viewer, r, by_id[r.case_id], facts[r.case_id])}
            assert listed == expected, viewer.email
            checked += 1
    return checked


async def _case(api: Api, case_id: str, who: str) -> dict[str, Any]:
    data: dict[str, Any] = (await api.gql(CASE, {"id": case_id}, as_=who))["case"]
    return data


async def _follow(api: Api, case_id: str, who: str) -> Subscription:
    """Subscribe as a case page does: from the outbox number of the case as the page loaded it."""
    seen = await _case(api, case_id, who)
    return await api.subscribe(CHANGED, {"id": case_id, "afterSeq": seen["lastSeq"]}, as_=who)


async def test_another_agency_sees_only_what_consent_and_agreement_let_across(
    api: Api, network: Network, world: dict[str, Any], db: Database
) -> None:
    async with db.write() as s:
        other = Seeker(first_name="Olga", last_name="Other", contact_preference=ContactPreference.NONE,
                       created_by_user_id=(await s.scalar(select(User.id).where(User.email == NAVIGATOR))))
        s.add(other)
        await s.flush()
        other_id = to_global_id("Seeker", other.id)
    # A second household's case comes first, so that nothing can read one case's head for another's.
    second = (await api.gql(OPEN, {"input": {"household": [other_id], "openedOn": TODAY}}, as_=NAVIGATOR))["openCase"]["id"]
    await api.gql(ADD_WORKER, {"input": {"caseId": second, "email": CASEWORKER, "role": "LIAISON"}}, as_=NAVIGATOR)
    await api.gql(NOTE, {"input": {"caseId": second, "on": TODAY, "body": "Olga's file"}}, as_=NAVIGATOR)
    case = await _open(api, network)
    cid = case["id"]
    await api.gql(GOAL, {"input": {"caseId": cid, "words": "Keep my kids with me in our own place", "on": TODAY}}, as_=NAVIGATOR)
    await api.gql(NOTE, {"input": {"caseId": cid, "on": TODAY, "body": "Landlord call went well"}}, as_=NAVIGATOR)
    await api.gql(
        ASSIST, {"input": {"caseId": cid, "kind": "SECURITY_DEPOSIT", "amount": "1250.00", "paidOn": TODAY, "payee": "Elm St Apartments"}},
        as_=NAVIGATOR,
    )
    await api.gql(NOTE, {"input": {"caseId": cid, "on": TODAY, "body": "In-home services plan open", "childWelfare": True}}, as_=CASEWORKER)

    # No consent yet: the caseworker sees that the case exists, who leads it and how to reach them, and their own note.
    seen = await _case(api, cid, CASEWORKER)
    assert seen["household"] == [] and seen["stage"] is None
    assert seen["leadOrganization"]["name"] == "Eastside Navigators"
    assert seen["leadContacts"] == [{"person": {"name": "Nadia Navigator"}, "role": "LEAD_CASE_MANAGER"}]
    assert [(r["kind"], r["scope"], r["body"]) for r in seen["records"]] == [("NOTE", "CHILD_WELFARE", "In-home services plan open")]
    assert "HOUSEHOLD" in seen["withheld"] and "CONTACT" in seen["withheld"]
    assert await _forms_agree(db) >= 10
    # The lead sees its own file, not child welfare's note.
    lead = await _case(api, cid, NAVIGATOR)
    assert {r["kind"] for r in lead["records"]} == {"GOAL", "NOTE", "ASSISTANCE"}
    assert all(r["scope"] != "CHILD_WELFARE" for r in lead["records"])
    assert lead["household"][0]["email"] == "sam@example.com" and lead["withheld"] == []

    # The family's consent alone lets nothing across, nor an agreement alone.
    direct = (await api.gql(
        GRANT, {"input": {"seekerId": network["sam"], "toOrganizationId": world["cw"], "scopes": ["CASE_NOTES"]}}, as_=SEEKER
    ))["grantConsent"]
    assert (await _case(api, cid, CASEWORKER))["household"] == []
    await api.gql(REVOKE, {"id": direct["id"]}, as_=SEEKER)
    agreement = await _agreement(api, world, ["CASE_NOTES", "CONTACT", "CHILD_WELFARE"])
    assert (await _case(api, cid, CASEWORKER))["household"] == []
    granted = (await api.gql(
        GRANT, {"input": {"seekerId": network["sam"], "toAgreementId": agreement, "scopes": ["CASE_NOTES", "CONTACT"]}}, as_=SEEKER
    ))["grantConsent"]
    assert granted["state"] == "ACTIVE" and granted["capturedHow"] == "SIGNED_ELECTRONICALLY"
    assert granted["endsOn"] == date.today().replace(year=date.today().year + 3).isoformat()

    # Both: case notes and contact details cross, money and child welfare status do not.
    seen = await _case(api, cid, CASEWORKER)
    assert seen["household"][0]["firstName"] == "Sam" and seen["household"][0]["phone"] == "+12025550143"
    assert {r["kind"] for r in seen["records"]} == {"GOAL", "NOTE"}
    assert all(r["kind"] != "ASSISTANCE" for r in seen["records"])
    assert all(r["scope"] != "CHILD_WELFARE" for r in (await _case(api, cid, NAVIGATOR))["records"])
    assert await _forms_agree(db) >= 10

    # Revoking takes effect on the next query.
    await api.gql(REVOKE, {"id": granted["id"]}, as_=SEEKER)
    seen = await _case(api, cid, CASEWORKER)
    assert seen["household"] == [] and [r["scope"] for r in seen["records"]] == ["CHILD_WELFARE"]
    assert await _forms_agree(db) >= 10
    states = (await api.gql(CONSENTS, {"seeker": network["sam"]}, as_=SEEKER))["consents"]
    assert [c["state"] for c in states] == ["REVOKED", "REVOKED"]


async def test_the_household_sees_its_goals_and_assistance_and_outsiders_see_nothing(
    api: Api, network: Network, world: dict[str, Any]
) -> None:
    case = await _open(api, network)
    cid = case["id"]
    await api.gql(GOAL, {"input": {"caseId": cid, "words": "A job near the new apartment", "on": TODAY}}, as_=NAVIGATOR)
    await api.gql(NOTE, {"input": {"caseId": cid, "on": TODAY, "body": "Worker's own note"}}, as_=NAVIGATOR)
    await api.gql(
        CONTACT,
        {"input": {"caseId": cid, "on": TODAY, "contactType": "HOME_VISIT", "minutes": 45, "intensity": "INTENSIVE",
                   "strengths": "Strong family support"}},
        as_=NAVIGATOR,
    )
    mine = await _case(api, cid, SEEKER)
    assert {r["kind"] for r in mine["records"]} == {"GOAL", "CONTACT"}
    assert [r["strengths"] for r in mine["records"] if r["kind"] == "CONTACT"] == ["Strong family support"]
    assert mine["viewerCan"] == ["READ"]
    assert (await api.gql(CASES, as_=SEEKER))["cases"]["edges"][0]["node"]["id"] == cid

    refused = await api.errors(CASE, {"id": cid}, as_=OUTSIDER)
    assert refused.codes == ["NOT_FOUND"]
    assert (await api.gql(CASES, as_=OUTSIDER))["cases"]["edges"] == []
    wrote = await api.errors(NOTE, {"input": {"caseId": cid, "on": TODAY, "body": "x"}}, as_=OUTSIDER)
    assert wrote.codes == ["NOT_FOUND"]
    # The household cannot write into the workers' file; the caseworker cannot run the case.
    assert (await api.errors(NOTE, {"input": {"caseId": cid, "on": TODAY, "body": "x"}}, as_=SEEKER)).codes == ["FORBIDDEN"]
    stage = {"input": {"caseId": cid, "stage": "MOVED_IN", "on": TODAY, "expectedVersion": mine["version"]}}
    assert (await api.errors(STAGE, stage, as_=CASEWORKER)).codes == ["FORBIDDEN"]


async def test_stages_conferences_and_bad_input(api: Api, network: Network, world: dict[str, Any]) -> None:
    case = await _open(api, network)
    cid = case["id"]
    version = (await _case(api, cid, NAVIGATOR))["version"]
    moved = (await api.gql(STAGE, {"input": {"caseId": cid, "stage": "MOVED_IN", "on": TODAY, "expectedVersion": version}}, as_=NAVIGATOR))["setCaseStage"]
    assert moved["stage"] == "MOVED_IN"
    stale = await api.errors(STAGE, {"input": {"caseId": cid, "stage": "STABILIZING", "on": TODAY, "expectedVersion": version}}, as_=NAVIGATOR)
    assert stale.codes == ["CONFLICT"]
    no_reason = await api.errors(STAGE, {"input": {"caseId": cid, "stage": "CLOSED", "on": TODAY, "expectedVersion": moved["version"]}}, as_=NAVIGATOR)
    assert no_reason.codes == ["BAD_USER_INPUT"] and "why" in no_reason.errors[0]["message"]
    closed = (await api.gql(
        STAGE, {"input": {"caseId": cid, "stage": "CLOSED", "on": TODAY, "expectedVersion": moved["version"], "closureReason": "STABLY_HOUSED"}},
        as_=NAVIGATOR,
    ))["setCaseStage"]
    assert closed["closureReason"] == "STABLY_HOUSED"

    await api.gql(
        CONFERENCE,
        {"input": {"caseId": cid, "on": TODAY, "attendees": ["Nadia Navigator", "Carla Caseworker", "Sam"],
                   "decisions": "Keep weekly visits for a month", "nextSteps": [{"who": "Carla", "what": "Close the safety plan"}]}},
        as_=NAVIGATOR,
    )
    conf = [r for r in (await _case(api, cid, NAVIGATOR))["records"] if r["attendees"]]
    assert conf[0]["nextSteps"] == [{"who": "Carla", "what": "Close the safety plan"}]

    bad = [
        (ASSIST, {"caseId": cid, "kind": "RENT", "amount": "12.345", "paidOn": TODAY, "payee": "x"}, "amount"),
        (ASSIST, {"caseId": cid, "kind": "RENT", "amount": "NaN", "paidOn": TODAY, "payee": "x"}, "amount"),
        (ASSIST, {"caseId": cid, "kind": "RENT", "amount": "-5", "paidOn": TODAY, "payee": "x"}, "amount"),
        (NOTE, {"caseId": cid, "on": (date.today() + timedelta(days=1)).isoformat(), "body": "x"}, "on"),
        (NOTE, {"caseId": cid, "on": TODAY, "body": "bell \x07 in a note"}, "body"),
        (NOTE, {"caseId": cid, "on": TODAY, "body": "x" * 10_001}, "body"),
        (CONTACT, {"caseId": cid, "on": TODAY, "contactType": "PHONE", "minutes": 0, "intensity": "LIGHT"}, "minutes"),
        (CONFERENCE, {"caseId": cid, "on": TODAY, "attendees": [], "decisions": "x"}, "attendees"),
        (GOAL, {"caseId": cid, "words": "   ", "on": TODAY}, "words"),
    ]
    before = len((await _case(api, cid, NAVIGATOR))["records"])
    for doc, payload, field in bad:
        refused = await api.errors(doc, {"input": payload}, as_=NAVIGATOR)
        assert refused.codes == ["BAD_USER_INPUT"], (payload, refused.errors)
        assert refused.errors[0]["extensions"].get("field") == field, (payload, refused.errors)
    assert len((await _case(api, cid, NAVIGATOR))["records"]) == before  # nothing half-written


async def test_a_minor_cannot_sign_their_own_release(api: Api, network: Network, world: dict[str, Any], db: Database) -> None:
    async with db.write() as s:
        sam = await s.scalar(select(Seeker).where(Seeker.id == network.pks["sam"]))
        assert sam is not None
        kid = Seeker(
            first_name="Kim", last_name="Seeker", contact_preference=ContactPreference.NONE,
            dob=date.today().replace(year=date.today().year - 12), created_by_user_id=sam.created_by_user_id,
        )
        s.add(kid)
        await s.flush()
        kid_id = to_global_id("Seeker", kid.id)
    payload = {"seekerId": kid_id, "toOrganizationId": world["cw"], "scopes": ["CASE_NOTES"]}
    refused = await api.errors(GRANT, {"input": payload}, as_=NAVIGATOR)
    assert refused.codes == ["BAD_USER_INPUT"] and "guardian" in refused.errors[0]["message"]
    no_name = await api.errors(GRANT, {"input": {**payload, "grantedBy": "GUARDIAN"}}, as_=NAVIGATOR)
    assert no_name.errors[0]["extensions"]["field"] == "guardianName"
    signed = (await api.gql(
        GRANT, {"input": {**payload, "grantedBy": "GUARDIAN", "guardianName": "Sam Seeker", "guardianRelationship": "Parent"}},
        as_=NAVIGATOR,
    ))["grantConsent"]
    assert signed["grantedBy"] == "GUARDIAN" and signed["capturedHow"] == "SIGNED_PAPER"
    # Someone who does not know the child cannot record or read their releases.
    assert (await api.errors(CONSENTS, {"seeker": kid_id}, as_=OUTSIDER)).codes == ["NOT_FOUND"]
    too_long = await api.errors(GRANT, {"input": {**payload, "grantedBy": "GUARDIAN", "guardianName": "P", "endsOn": "2099-01-01"}}, as_=NAVIGATOR)
    assert too_long.errors[0]["extensions"]["field"] == "endsOn"
    async with db.read() as s:
        assert len((await s.scalars(select(Consent))).all()) == 1


async def test_revoking_during_an_open_subscription_stops_the_next_event(
    api: Api, network: Network, world: dict[str, Any]
) -> None:
    case = await _open(api, network)
    cid = case["id"]
    agreement = await _agreement(api, world, ["CASE_NOTES"])
    granted = (await api.gql(GRANT, {"input": {"seekerId": network["sam"], "toAgreementId": agreement, "scopes": ["CASE_NOTES"]}}, as_=SEEKER))["grantConsent"]
    watching = await _follow(api, cid, CASEWORKER)
    try:
        await api.gql(NOTE, {"input": {"caseId": cid, "on": TODAY, "body": "Visit on Tuesday"}}, as_=NAVIGATOR)
        pushed = (await watching.next())["caseChanged"]
        assert [r["body"] for r in pushed["case"]["records"]] == ["Visit on Tuesday"]
        assert pushed["case"]["household"] == [{"firstName": "Sam"}]

        await api.gql(REVOKE, {"id": granted["id"]}, as_=SEEKER)
        told = (await watching.next())["caseChanged"]
        assert told["case"]["records"] == [] and told["case"]["household"] == []
        await api.gql(NOTE, {"input": {"caseId": cid, "on": TODAY, "body": "Moved to Elm St"}}, as_=NAVIGATOR)
        after = (await watching.next())["caseChanged"]
        assert after["case"]["records"] == [] and "HOUSEHOLD" in after["case"]["withheld"]
    finally:
        await watching.close()


async def test_every_read_write_and_push_of_a_case_is_in_the_audit(
    api: Api, network: Network, world: dict[str, Any], db: Database
) -> None:
    case = await _open(api, network)
    cid = case["id"]
    agreement = await _agreement(api, world, ["CASE_NOTES", "CONTACT"])
    await api.gql(GRANT, {"input": {"seekerId": network["sam"], "toAgreementId": agreement, "scopes": ["CASE_NOTES"]}}, as_=SEEKER)
    watching = await _follow(api, cid, CASEWORKER)
    try:
        await api.gql(NOTE, {"input": {"caseId": cid, "on": TODAY, "body": "Seen at home"}}, as_=NAVIGATOR)
        await watching.next()
    finally:
        await watching.close()
    await _case(api, cid, CASEWORKER)
    async with db.read() as s:
        cw = await s.scalar(select(User.id).where(User.email == CASEWORKER))
    rows: list[AuditEntry] = []
    for _ in range(50):  # a fan-out's push rows are written together, just after the pages are served
        async with db.read() as s:
            rows = list(await s.scalars(select(AuditEntry).where(AuditEntry.seeker_id == network.pks["sam"]).order_by(AuditEntry.id)))
        if any(r.action is AuditAction.PUSH for r in rows):
            break
        await asyncio.sleep(0.05)
    case_rows = [r for r in rows if r.subject_type is AuditSubject.CASE]
    writes = [r for r in case_rows if r.action is AuditAction.WRITE]
    assert {r.scopes for r in writes} >= {"NAME", "CASE_NOTES"}
    reads = [r for r in case_rows if r.action is AuditAction.READ and r.user_id == cw]
    assert reads and reads[-1].scopes == "CASE_NOTES,NAME" and reads[-1].acting_organization_id == world["cw_pk"]
    assert "case" in reads[-1].operation
    pushes = [r for r in case_rows if r.action is AuditAction.PUSH and r.user_id == cw]
    assert pushes and pushes[-1].scopes == "CASE_NOTES,NAME" and pushes[-1].operation == "subscription caseChanged"
    consent_rows = [r for r in rows if r.subject_type is AuditSubject.CONSENT]
    assert consent_rows and consent_rows[0].action is AuditAction.WRITE and consent_rows[0].scopes == "CONSENT"
