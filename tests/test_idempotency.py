"""Idempotency keys over the real API: a double click, a retry, ten copies at once create one record, and answer it alike."""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.accounts import Organization, Role
from db.base import utcnow
from db.engine import Database
from db.idempotency import IdempotencyKey, prune_expired_keys
from db.seekers import ContactPreference, Seeker
from schema.ids import to_global_id
from tests.documents import CREATE_REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.support import Api, Network, add_housing_program, add_member, row_counts
from tests.test_ce_cycle import ASSESS, CE, POST_VACANCY, PROVIDER, REFER, World, assessment, ce_world

NAVIGATOR = "navigator@test.example"
TEAMMATE = "teammate@test.example"
SEEKER = "seeker@test.example"
INTAKE = "intake@test.example"
ADMIN = "admin@navs.example"
TODAY = date.today().isoformat()

CASE = "id version stage lastSeq household { firstName } workers { person { name } role } records { id kind body amount }"
DOCUMENTS = {
    "createReferral": CREATE_REFERRAL,
    "addReferralComment": "mutation($input: AddReferralCommentInput!) { addReferralComment(input: $input) { id version comments { body author { name } } } }",
    "createEnrollment": "mutation($input: CreateEnrollmentInput!) { createEnrollment(input: $input) { id entryDate household { id seeker { id } } } }",
    "recordCeAssessment": ASSESS,
    "postVacancy": POST_VACANCY,
    "createCeReferral": REFER,
    "openCase": f"mutation($input: OpenCaseInput!) {{ openCase(input: $input) {{ {CASE} }} }}",
    "addCaseWorker": f"mutation($input: AddCaseWorkerInput!) {{ addCaseWorker(input: $input) {{ {CASE} }} }}",
    "addCaseGoal": f"mutation($input: AddCaseGoalInput!) {{ addCaseGoal(input: $input) {{ {CASE} }} }}",
    "recordServiceContact": f"mutation($input: RecordServiceContactInput!) {{ recordServiceContact(input: $input) {{ {CASE} }} }}",
    "addCaseNote": f"mutation($input: AddCaseNoteInput!) {{ addCaseNote(input: $input) {{ {CASE} }} }}",
    "recordCaseConference": f"mutation($input: RecordCaseConferenceInput!) {{ recordCaseConference(input: $input) {{ {CASE} }} }}",
    "recordFinancialAssistance": (
        f"mutation($input: RecordFinancialAssistanceInput!) {{ recordFinancialAssistance(input: $input) {{ {CASE} }} }}"
    ),
    "linkToCase": f"mutation($input: LinkToCaseInput!) {{ linkToCase(input: $input) {{ {CASE} }} }}",
    "grantConsent": "mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id state scopes grantedBy } }",
    "createDataSharingAgreement": (
        "mutation($input: CreateAgreementInput!) { createDataSharingAgreement(input: $input) { id name parties { name } scopes } }"
    ),
}


@dataclass(frozen=True)
class Create:
    """One create mutation: who sends it, and its n-th distinct valid input (n = 1, 2, 3)."""

    mutation: str
    who: str
    input: Callable[[int], dict[str, Any]]


@dataclass
class Everything:
    """A network where every create mutation can be made three times over, each time legitimately."""

    creates: list[Create]


async def _extra_seekers(db: Database, names: list[str]) -> list[int]:
    async with db.write() as s:
        seekers = [
            Seeker(first_name=n, last_name="Idem", email=f"{n.lower()}@example.com", contact_preference=ContactPreference.EMAIL)
            for n in names
        ]
        s.add_all(seekers)
        await s.flush()
        return [x.id for x in seekers]


async def _everything(api: Api, db: Database, network: Network) -> Everything:
    ce: World = await ce_world(db, network)
    async with db.write() as s:
        county = Organization(name="County Child Welfare")
        s.add(county)
        await s.flush()
        county_id = to_global_id("Organization", county.id)
        county_pk = county.id
    await add_member(db, ADMIN, organization_id=network.pks["navs"], role=Role.ADMIN, name="Ada Admin")
    workers = [
        await add_member(db, f"worker{n}@county.example", organization_id=county_pk, role=Role.NAVIGATOR, name=f"Worker {n}")
        for n in (1, 2, 3)
    ]
    # Three logged referrals of Sam's (to link to the case); the first is commented on.
    sams = []
    for n in range(3):
        given: dict[str, Any] = {"programId": network["snap"], "seekerId": network["sam"]}
        if n:
            given["overrideDuplicateReason"] = f"Second try {n}"
        sams.append((await api.gql(CREATE_REFERRAL, {"input": given}, as_=NAVIGATOR))["createReferral"]["id"])
    case = (
        await api.gql(DOCUMENTS["openCase"], {"input": {"household": [network["sam"]], "openedOn": TODAY}}, as_=NAVIGATOR)
    )["openCase"]["id"]
    # Three people referred to the clinic's housing program, whom its staff may enroll.
    housing = await add_housing_program(db, network)
    housed = []
    for n in range(3):
        referral = new_seeker_referral(
            housing, seeker={"firstName": f"Hana{n}", "lastName": "Rivera", "email": f"hana{n}@example.com"}, screenerAnswers=[]
        )
        housed.append((await api.gql(CREATE_REFERRAL, {"input": referral}, as_=NAVIGATOR))["createReferral"]["seeker"]["id"])
    # Three people on the priority list and three vacancies, one CE referral each.
    listed = await _extra_seekers(db, ["Fay", "Gus", "Hal"])
    entries, vacancies = [], []
    for n, seeker_id in enumerate(listed):
        placed = await api.gql(
            ASSESS, {"input": {**assessment(ce, "Ada"), "seekerId": to_global_id("Seeker", seeker_id)}}, as_=CE
        )
        entries.append(placed["recordCeAssessment"]["priorityListEntry"]["id"])
        given = {"programId": ce.program("rrh"), "description": f"Unit {n}", "size": 1}
        vacancies.append((await api.gql(POST_VACANCY, {"input": given}, as_=PROVIDER))["postVacancy"]["id"])
    assessed = ["Ada", "Ben", "Cy"]
    scopes = ["CASE_NOTES", "CONTACT", "REFERRALS"]
    creates = [
        Create(
            "createReferral",
            NAVIGATOR,
            lambda n: new_seeker_referral(
                network["pantry"], seeker={"firstName": f"Mara{n}", "lastName": "Lopez", "email": f"mara{n}@example.com"}
            ),
        ),
        Create("addReferralComment", NAVIGATOR, lambda n: {"referralId": sams[0], "body": f"Called them ({n})."}),
        Create(
            "createEnrollment",
            PROVIDER,
            lambda n: {"programId": housing, "entryDate": TODAY, "members": [{"seekerId": housed[n - 1], "relationshipToHoH": 1}]},
        ),
        Create("recordCeAssessment", CE, lambda n: assessment(ce, assessed[n - 1])),
        Create("postVacancy", PROVIDER, lambda n: {"programId": ce.program("psh"), "description": f"Studio {n}", "size": 1}),
        Create("createCeReferral", CE, lambda n: {"entryId": entries[n - 1], "vacancyId": vacancies[n - 1], "note": "Top"}),
        Create("openCase", NAVIGATOR, lambda n: {"household": [network["sam"]], "openedOn": (date.today() - timedelta(days=n)).isoformat()}),
        Create("addCaseWorker", NAVIGATOR, lambda n: {"caseId": case, "email": workers[n - 1], "role": "CHILD_WELFARE_CASEWORKER"}),
        Create("addCaseGoal", NAVIGATOR, lambda n: {"caseId": case, "words": f"Find a home ({n})", "on": TODAY}),
        Create(
            "recordServiceContact",
            NAVIGATOR,
            lambda n: {"caseId": case, "on": TODAY, "contactType": "PHONE", "minutes": 10 + n, "intensity": "LIGHT"},
        ),
        Create("addCaseNote", NAVIGATOR, lambda n: {"caseId": case, "on": TODAY, "body": f"Visited the unit ({n})."}),
        Create(
            "recordCaseConference",
            NAVIGATOR,
            lambda n: {"caseId": case, "on": TODAY, "attendees": ["Nadia", "Sam"], "decisions": f"Apply ({n})"},
        ),
        Create(
            "recordFinancialAssistance",
            NAVIGATOR,
            lambda n: {"caseId": case, "kind": "RENT", "amount": f"{1000 + n}.00", "paidOn": TODAY, "payee": "Elm St LLC"},
        ),
        Create("linkToCase", NAVIGATOR, lambda n: {"caseId": case, "referralId": sams[n - 1]}),
        Create("grantConsent", SEEKER, lambda n: {"seekerId": network["sam"], "toOrganizationId": county_id, "scopes": [scopes[n - 1]]}),
        Create(
            "createDataSharingAgreement",
            ADMIN,
            lambda n: {
                "name": f"Families First MOA {n}",
                "purpose": "Supportive housing",
                "partyOrganizationIds": [county_id],
                "scopes": ["CASE_NOTES"],
                "startsOn": TODAY,
            },
        ),
    ]
    return Everything(creates=creates)


def grown(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


async def send(api: Api, create: Create, n: int, key: str | None) -> dict[str, Any]:
    given = {**create.input(n), **({"idempotencyKey": key} if key else {})}
    return await api.raw(DOCUMENTS[create.mutation], {"input": given}, as_=create.who)


def data_of(body: dict[str, Any], mutation: str) -> Any:
    assert not body.get("errors"), json.dumps(body["errors"], indent=1)
    return body["data"][mutation]


def answer_of(body: dict[str, Any], mutation: str) -> Any:
    """The answer as a repeat must match it: `lastSeq` says where in the outbox the answer was read,
    and on PostgreSQL the creating request reads it before its own event is numbered (at commit)."""
    answer = data_of(body, mutation)
    return {k: v for k, v in answer.items() if k != "lastSeq"} if isinstance(answer, dict) else answer


async def _once_however_often(api: Api, db: Database, create: Create) -> None:
    """One mutation's story: one request, ten copies of another at once, its key with a third input."""
    name = create.mutation
    await api.token(create.who)  # signed in before the burst, as a dashboard is
    # One request, for what one creation writes.
    before = await row_counts(db)
    data_of(await send(api, create, 1, f"{name}-first"), name)
    once = grown(before, await row_counts(db))

    # Ten copies of another request at once: a double click, a retry, a flaky network.
    before = await row_counts(db)
    # On fresh connections: a pooled one the server is just closing for being idle would fail the burst.
    async with Api(api.host) as burst:
        burst.tokens = api.tokens
        bodies = await asyncio.gather(*(send(burst, create, 2, f"{name}-burst") for _ in range(10)))
    answers = [answer_of(b, name) for b in bodies]
    assert all(a == answers[0] for a in answers), f"the ten answers differ: {[a for a in answers if a != answers[0]][:1]} vs {answers[0]}"
    after = await row_counts(db)
    assert grown(before, after) == once, f"ten copies wrote {grown(before, after)}, one request {once}"
    assert once[IdempotencyKey.__tablename__] == 1, "the key is kept with what it created"

    # The same key with another input is refused, and writes nothing.
    refused = await send(api, create, 3, f"{name}-burst")
    assert [e["extensions"]["code"] for e in refused.get("errors", [])] == ["CONFLICT"], refused
    assert refused["errors"][0]["extensions"]["reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert refused["errors"][0]["extensions"]["field"] == "idempotencyKey"
    assert await row_counts(db) == after, "a refused key wrote something"

    # Sent again later, the key answers as the first request did.
    assert answer_of(await send(api, create, 2, f"{name}-burst"), name) == answers[0]


async def test_ten_copies_of_each_create_at_once_make_one_record_and_one_answer(api: Api, network: Network, db: Database) -> None:
    world = await _everything(api, db, network)
    assert {c.mutation for c in world.creates} == set(DOCUMENTS)
    problems = {}
    for create in world.creates:
        try:
            await _once_however_often(api, db, create)
        except AssertionError as failed:
            problems[create.mutation] = str(failed)[:300]
    assert problems == {}


async def test_a_repeat_answers_the_record_as_it_stands_now(api: Api, network: Network) -> None:
    given = {**new_seeker_referral(network["pantry"]), "idempotencyKey": "form-1"}
    first = (await api.gql(CREATE_REFERRAL, {"input": given}, as_=NAVIGATOR))["createReferral"]
    await api.gql(UPDATE_STATUS, {"input": {"referralId": first["id"], "status": "PENDING", "expectedVersion": 1}}, as_=INTAKE)
    again = (await api.gql(CREATE_REFERRAL, {"input": given}, as_=NAVIGATOR))["createReferral"]
    assert (again["id"], again["status"], again["version"]) == (first["id"], "PENDING", 2)
    assert again.keys() == first.keys()


async def test_keys_are_each_users_own(api: Api, network: Network, db: Database) -> None:
    given = {**new_seeker_referral(network["pantry"]), "idempotencyKey": "same-key"}
    mine, theirs = await asyncio.gather(
        api.gql(CREATE_REFERRAL, {"input": given}, as_=NAVIGATOR), api.gql(CREATE_REFERRAL, {"input": given}, as_=TEAMMATE)
    )
    assert mine["createReferral"]["id"] != theirs["createReferral"]["id"]
    assert mine["createReferral"]["navigator"]["name"] == "Nadia Navigator"
    assert theirs["createReferral"]["navigator"]["name"] == "Tomas Teammate"
    # And each mutation's: the key a referral used may name a comment too.
    comment = {"referralId": mine["createReferral"]["id"], "body": "Called.", "idempotencyKey": "same-key"}
    await api.gql(DOCUMENTS["addReferralComment"], {"input": comment}, as_=NAVIGATOR)
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(IdempotencyKey)) == 3


async def test_a_failed_request_does_not_use_up_its_key(api: Api, network: Network) -> None:
    without_consent = {**new_seeker_referral(network["pantry"], consent=None), "idempotencyKey": "form-2"}
    assert (await api.errors(CREATE_REFERRAL, {"input": without_consent}, as_=NAVIGATOR)).codes == ["BAD_USER_INPUT"]
    fixed = {**without_consent, "consent": True}
    made = (await api.gql(CREATE_REFERRAL, {"input": fixed}, as_=NAVIGATOR))["createReferral"]
    assert made["status"] == "NOT_UPDATED"


async def test_without_a_key_each_request_creates(api: Api, network: Network) -> None:
    given = {**new_seeker_referral(network["pantry"], seeker=None, seekerId=network["sam"]), "overrideDuplicateReason": "Again"}
    made = await asyncio.gather(*(api.gql(CREATE_REFERRAL, {"input": given}, as_=NAVIGATOR) for _ in range(2)))
    assert len({m["createReferral"]["id"] for m in made}) == 2


async def test_a_key_is_1_to_100_printable_ascii_characters(api: Api, network: Network, db: Database) -> None:
    given = new_seeker_referral(network["pantry"])
    before = await row_counts(db)
    for key in ["", "k" * 101, "clé", "line\nbreak", "tab\there"]:
        errors = await api.errors(CREATE_REFERRAL, {"input": {**given, "idempotencyKey": key}}, as_=NAVIGATOR)
        assert errors.codes == ["BAD_USER_INPUT"], key
        assert errors.errors[0]["extensions"]["field"] == "idempotencyKey"
    assert await row_counts(db) == before
    made = await api.gql(CREATE_REFERRAL, {"input": {**given, "idempotencyKey": "~ A-Z 0-9 " + "k" * 90}}, as_=NAVIGATOR)
    assert made["createReferral"]["id"]


async def test_a_key_stands_for_a_day(api: Api, network: Network, db: Database) -> None:
    given = {**new_seeker_referral(network["pantry"]), "idempotencyKey": "yesterday"}
    first = (await api.gql(CREATE_REFERRAL, {"input": given}, as_=NAVIGATOR))["createReferral"]
    async with db.write() as s:
        await s.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    # A day on, the key is forgotten: the same request is a new one.
    given["overrideDuplicateReason"] = "A day later"
    second = (await api.gql(CREATE_REFERRAL, {"input": given}, as_=NAVIGATOR))["createReferral"]
    assert second["id"] != first["id"]
    async with db.write() as s:
        await s.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
        assert await prune_expired_keys(s) == 1
        assert await s.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


class InjectedFailure(Exception):
    """A failure after the mutation's last statement, before its commit."""


def _from_a_mutation() -> bool:
    """Whether a write transaction is opened by a mutation's own resolver (not a read's audit row, nor a worker)."""
    frames = traceback.extract_stack()
    return any("/schema/" in f.filename for f in frames) and not any(f.name == "record_read" for f in frames)


async def test_each_create_is_one_transaction_and_a_late_failure_leaves_nothing(
    api: Api, network: Network, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await _everything(api, db, network)
    opened: list[str] = []
    failing = False
    write = Database.write

    @asynccontextmanager
    async def watched(self: Database) -> AsyncIterator[AsyncSession]:
        ours = _from_a_mutation()
        async with write(self) as session:
            yield session
            if ours:
                opened.append("write")
                await session.flush()
                if failing:
                    raise InjectedFailure()

    monkeypatch.setattr(Database, "write", watched)
    for create in world.creates:
        await api.token(create.who)
        opened.clear()
        data_of(await send(api, create, 1, None), create.mutation)
        assert opened == ["write"], f"{create.mutation} opened {len(opened)} write transactions"

    failing = True
    for create in world.creates:
        before = await row_counts(db, reads=True)
        failed = await send(api, create, 2, f"{create.mutation}-late")
        assert [e["extensions"]["code"] for e in failed["errors"]] == ["INTERNAL_SERVER_ERROR"], create.mutation
        assert await row_counts(db, reads=True) == before, f"{create.mutation} left something written"
