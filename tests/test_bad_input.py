"""Bad input gets BAD_USER_INPUT with a message a person understands, and nothing is written."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from db.engine import Database
from db.events import OutboxEvent
from db.programs import ConnectMode, Program
from db.referrals import Referral
from db.seekers import Seeker
from schema.ids import to_global_id
from tests.documents import CREATE_REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.support import Api, Network
from web.limits import GRAPHQL_BODY_LIMIT, LOGIN_BODY_LIMIT

NAVIGATOR = "navigator@test.example"


async def _counts(db: Database) -> tuple[int, int, int]:
    async with db.read() as s:
        return (
            await s.scalar(select(func.count()).select_from(Referral)),
            await s.scalar(select(func.count()).select_from(Seeker)),
            await s.scalar(select(func.count()).select_from(OutboxEvent)),
        )  # type: ignore[return-value]


CASES: dict[str, tuple[dict[str, object], str]] = {
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


# --- Page cursors -------------------------------------------------------------------------------

BAD_CURSOR = "That page cursor is not valid; start again from the first page."
SEEKER = "seeker@test.example"
INTAKE = "intake@test.example"
PROGRAM_PAGE = "query($after: String) { programs(first: 1, after: $after) { edges { cursor node { name } } } }"
INBOUND_PAGE = "query($after: String) { inboundReferrals(first: 1, after: $after) { edges { cursor } } }"
FOR_ME_PAGE = "query($after: String) { referralsForMe(first: 1, after: $after) { edges { cursor } } }"
AWARE = "2024-05-01T12:00:00+00:00"


def _cursor(value: object) -> str:
    """A cursor as the server spells them: URL-safe base64 of JSON."""
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode()


# Shared by every list: the cursor string itself, not what it holds.
MALFORMED_ANY_ORDER = {
    "not base64": "!!! not base64 at all !!!",
    "base64 with junk inside": _cursor([AWARE, 1])[:4] + "*" + _cursor([AWARE, 1])[4:],
    "base64 of invalid UTF-8": _cursor(b"\xff\xfe\xfd\xfc"),
    "base64 of not JSON": _cursor(b"hello there"),
    "JSON but not a list": _cursor({"created_at": AWARE, "id": 1}),
    "empty list": _cursor([]),
    "NaN": _cursor(b"[NaN, 1]"),
    "nested deeper than Python recurses": _cursor(b"[" * 1500),
    "far too long": "A" * 100_000,
    "non-ASCII": "ü" * 20,
}
# Ordered by (created_at, id), as Inbound Referrals and Referrals for Me are.
MALFORMED_BY_TIME = {
    **MALFORMED_ANY_ORDER,
    "naive datetime": _cursor(["2024-05-01T12:00:00", 1]),
    "date without a time": _cursor(["2024-05-01", 1]),
    "datetime out of range once in UTC": _cursor(["9999-12-31T23:59:59-23:59", 1]),
    "not a datetime": _cursor(["yesterday", 1]),
    "number for a datetime": _cursor([1714564800, 1]),
    "list inside": _cursor([[AWARE], 1]),
    "dict inside": _cursor([AWARE, {"id": 1}]),
    "id of 10^30": _cursor([AWARE, 10**30]),
    "id below signed 64 bits": _cursor([AWARE, -(2**63) - 1]),
    "id past the 32-bit id column": _cursor([AWARE, 2**31]),
    "boolean id": _cursor([AWARE, True]),
    "float id": _cursor([AWARE, 1.5]),
    "string id": _cursor([AWARE, "1"]),
    "null id": _cursor([AWARE, None]),
    "too few values": _cursor([AWARE]),
    "too many values": _cursor([AWARE, 1, 2]),
}
# Ordered by (name, id), as the program directory is.
MALFORMED_BY_NAME = {
    **MALFORMED_ANY_ORDER,
    "list inside": _cursor([["Harbor"], 1]),
    "number for a name": _cursor([5, 1]),
    "name longer than the column": _cursor(["x" * 201, 1]),
    "NUL in the name": _cursor(["Harbor\u0000", 1]),
    "lone surrogate in the name": _cursor(["Harbor\ud800", 1]),
    "id of 10^30": _cursor(["Harbor", 10**30]),
    "boolean id": _cursor(["Harbor", False]),
    "too few values": _cursor(["Harbor"]),
    "too many values": _cursor(["Harbor", 1, 2]),
}
LISTS = {
    "programs": (PROGRAM_PAGE, None, MALFORMED_BY_NAME),
    "inboundReferrals": (INBOUND_PAGE, INTAKE, MALFORMED_BY_TIME),
    "referralsForMe": (FOR_ME_PAGE, SEEKER, MALFORMED_BY_TIME),
}
CURSOR_CASES = [(field, case) for field, (_, _, cases) in LISTS.items() for case in cases]


@pytest.mark.parametrize(("field", "case"), CURSOR_CASES, ids=[f"{f}-{c}" for f, c in CURSOR_CASES])
async def test_a_malformed_cursor_is_bad_user_input(field: str, case: str, api: Api, network: Network) -> None:
    query, viewer, cases = LISTS[field]
    errors = await api.errors(query, {"after": cases[case]}, as_=viewer)
    assert errors.codes == ["BAD_USER_INPUT"]
    assert errors.errors[0]["message"] == BAD_CURSOR


async def test_cursors_the_server_gave_still_work(api: Api, network: Network, db: Database) -> None:
    for n in range(3):
        seeker = {"firstName": f"P{n}", "lastName": "T", "email": f"p{n}@example.com"}
        await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], seeker=seeker)}, as_=NAVIGATOR)
    seen = []
    after = None
    for _ in range(3):
        edges = (await api.gql(INBOUND_PAGE, {"after": after}, as_=INTAKE))["inboundReferrals"]["edges"]
        seen += [e["cursor"] for e in edges]
        after = edges[-1]["cursor"]
    assert len(set(seen)) == 3
    assert (await api.gql(INBOUND_PAGE, {"after": after}, as_=INTAKE))["inboundReferrals"]["edges"] == []
    # A cursor with an offset other than UTC names the same moment.
    created_at, pk = json.loads(base64.urlsafe_b64decode(seen[0]))
    moment = datetime.fromisoformat(created_at).astimezone(timezone(timedelta(hours=-7)))
    elsewhere = await api.gql(INBOUND_PAGE, {"after": _cursor([moment.isoformat(), pk])}, as_=INTAKE)
    assert elsewhere["inboundReferrals"]["edges"][0]["cursor"] == seen[1]


async def test_the_cursor_after_the_longest_program_name_works(api: Api, network: Network, db: Database) -> None:
    # The longest cursor the server can hand out: a 200-character name (the column's length) of
    # characters JSON escapes to six bytes each, then an id.
    longest = "\u0001" * 200
    async with db.write() as s:
        s.add(Program(organization_id=network.pks["food"], name=longest, connect_mode=ConnectMode.REFER))
    first = (await api.gql(PROGRAM_PAGE, {}))["programs"]["edges"][0]
    assert first["node"]["name"] == longest
    following = (await api.gql(PROGRAM_PAGE, {"after": first["cursor"]}))["programs"]["edges"]
    assert [e["node"]["name"] for e in following] == ["Harbor Pantry"]


# --- Global ids ---------------------------------------------------------------------------------


def _raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


MALFORMED_IDS = {
    "number of 10^30": _raw_id(f"Program:{10**30}"),
    "just past signed 64 bits": _raw_id(f"Program:{2**63}"),
    "just past the 32-bit id column": _raw_id(f"Program:{2**31}"),
    "negative": _raw_id("Program:-1"),
    "zero": _raw_id("Program:0"),
    "plus sign": _raw_id("Program:+1"),
    "spaces": _raw_id("Program: 1 "),
    "underscores": _raw_id("Program:1_0"),
    "non-ASCII digits": _raw_id("Program:\u0661"),
    "no number": _raw_id("Program:"),
    "no type": _raw_id(":1"),
    "no colon": _raw_id("Program1"),
    "far too long": _raw_id("Program:1") + "A" * 100_000,
    "junk inside": "UHJv*Z3JhbTox",
    "not UTF-8": _raw_id("Program:1")[:2] + "__",
}
ID_FIELDS = {
    "program(id:)": "query($id: ID!) { program(id: $id) { id } }",
    "node(id:)": "query($id: ID!) { node(id: $id) { id } }",
    "referral(id:)": "query($id: ID!) { referral(id: $id) { id } }",
}
ID_CASES = [(field, case) for field in ID_FIELDS for case in MALFORMED_IDS]


@pytest.mark.parametrize(("field", "case"), ID_CASES, ids=[f"{f}-{c}" for f, c in ID_CASES])
async def test_a_malformed_id_is_bad_user_input(field: str, case: str, api: Api, network: Network) -> None:
    errors = await api.errors(ID_FIELDS[field], {"id": MALFORMED_IDS[case]}, as_=NAVIGATOR)
    assert errors.codes == ["BAD_USER_INPUT"]
    assert "not a valid id" in errors.errors[0]["message"]
    assert len(errors.errors[0]["message"]) < 200


async def test_the_largest_id_is_simply_not_found(api: Api, network: Network) -> None:
    errors = await api.errors(ID_FIELDS["program(id:)"], {"id": to_global_id("Program", 2**31 - 1)})
    assert errors.codes == ["NOT_FOUND"]
    assert (await api.gql(ID_FIELDS["program(id:)"], {"id": network["pantry"]}))["program"]["id"] == network["pantry"]


# --- Free-text search ---------------------------------------------------------------------------

PROGRAM_SEARCH = "query($s: String) { programs(search: $s, first: 50) { edges { node { name } } } }"
PROFILE_SEARCH = "query($s: String) { seekerProfiles(search: $s, first: 5) { edges { node { firstName } } } }"
SEARCHES = {"programs": (PROGRAM_SEARCH, None), "seekerProfiles": (PROFILE_SEARCH, NAVIGATOR)}
TOO_MUCH = {
    "20,000 words": " ".join(["food"] * 20_000),
    "11 words": " ".join("abcdefghijk"),
    "201 characters": "x" * 201,
}
SEARCH_CASES = [(field, case) for field in SEARCHES for case in TOO_MUCH]


@pytest.mark.parametrize(("field", "case"), SEARCH_CASES, ids=[f"{f}-{c}" for f, c in SEARCH_CASES])
async def test_a_search_too_long_is_bad_user_input(field: str, case: str, api: Api, network: Network) -> None:
    query, viewer = SEARCHES[field]
    errors = await api.errors(query, {"s": TOO_MUCH[case]}, as_=viewer)
    assert errors.codes == ["BAD_USER_INPUT"]
    assert errors.errors[0]["extensions"]["field"] == "search"
    assert "10 words" in errors.errors[0]["message"] and "200 characters" in errors.errors[0]["message"]


@pytest.mark.parametrize("field", SEARCHES)
async def test_the_longest_search_allowed_still_works(field: str, api: Api, network: Network) -> None:
    query, viewer = SEARCHES[field]
    ten_words = " ".join(["x" * 19] * 10)  # 205 characters with the spaces around it, 199 inside them
    assert (await api.gql(query, {"s": f"  {ten_words}    "}, as_=viewer))[field]["edges"] == []


async def _program_names(api: Api, search: str) -> list[str]:
    return [e["node"]["name"] for e in (await api.gql(PROGRAM_SEARCH, {"s": search}))["programs"]["edges"]]


async def test_search_wildcards_match_only_themselves(api: Api, network: Network, db: Database) -> None:
    async with db.write() as s:
        for name in ["100% Fresh Produce", "1000 Meals", "a_b Tutoring", "axb Tutoring", "Back\\slash Legal"]:
            s.add(Program(organization_id=network.pks["food"], name=name, connect_mode=ConnectMode.REFER))
    assert await _program_names(api, "100%") == ["100% Fresh Produce"]
    assert await _program_names(api, "%") == ["100% Fresh Produce"]
    assert await _program_names(api, "a_b") == ["a_b Tutoring"]
    assert await _program_names(api, "_") == ["a_b Tutoring"]
    assert await _program_names(api, "\\") == ["Back\\slash Legal"]
    assert await _program_names(api, "k\\s") == ["Back\\slash Legal"]
    assert await _program_names(api, "%%") == []
    assert await _program_names(api, "\\%") == []
    # Ordinary words still match anywhere, in any case.
    assert await _program_names(api, "TUTOR") == ["a_b Tutoring", "axb Tutoring"]


async def test_profile_search_wildcards_match_only_themselves(api: Api, network: Network) -> None:
    async def first_names(search: str) -> list[str]:
        found = (await api.gql(PROFILE_SEARCH, {"s": search}, as_=NAVIGATOR))["seekerProfiles"]["edges"]
        return [e["node"]["firstName"] for e in found]

    assert await first_names("sam") == ["Sam"]
    for wildcard in ["_", "%", "s_m", "s%m"]:
        assert await first_names(wildcard) == []


@pytest.mark.parametrize("field", SEARCHES)
@pytest.mark.parametrize("escaped", ["\\u0000", "\\ud800"], ids=["NUL", "lone surrogate"])
async def test_a_search_no_database_can_hold_is_bad_user_input(field: str, escaped: str, api: Api, network: Network) -> None:
    query, viewer = SEARCHES[field]
    # Written by hand: httpx would refuse to encode a lone surrogate, but JSON can carry one.
    body = '{"query": %s, "variables": {"s": "food%s"}}' % (json.dumps(query), escaped)
    headers = {"content-type": "application/json"}
    if viewer:
        headers["authorization"] = f"Bearer {await api.token(viewer)}"
    response = await api.http.post("/graphql", content=body.encode(), headers=headers)
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
    assert errors[0]["extensions"]["field"] == "search"


# --- Request bodies -----------------------------------------------------------------------------


def _too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
    assert "too large" in errors[0]["message"]


async def _streamed(body: bytes, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """The body without a Content-Length: sent chunked, so only counting it as it arrives can stop it."""
    for start in range(0, len(body), chunk):
        yield body[start : start + chunk]


def _graphql_body(padding: int) -> bytes:
    # A variable the document does not declare is ignored, so it pads the body and nothing else.
    return json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * padding}}).encode()


async def test_a_5_mb_graphql_request_is_refused(api: Api, network: Network) -> None:
    _too_large(await api.http.post("/graphql", content=_graphql_body(5_000_000), headers={"content-type": "application/json"}))


async def test_a_5_mb_graphql_request_without_a_length_is_refused(api: Api, network: Network) -> None:
    body = _streamed(_graphql_body(5_000_000))
    _too_large(await api.http.post("/graphql", content=body, headers={"content-type": "application/json"}))


async def test_a_graphql_request_just_under_the_limit_works(api: Api, network: Network) -> None:
    body = _graphql_body(GRAPHQL_BODY_LIMIT - 100)
    assert len(body) <= GRAPHQL_BODY_LIMIT
    for content in (body, _streamed(body)):
        response = await api.http.post("/graphql", content=content, headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text
        assert response.json() == {"data": {"__typename": "Query"}}
    # The server keeps working, and keeps working on the same connection.
    assert (await api.gql("{ __typename }")) == {"__typename": "Query"}


async def test_a_100_kb_sign_in_is_refused(api: Api, network: Network) -> None:
    body = json.dumps({"email": "navigator@test.example", "password": "x" * 100_000}).encode()
    _too_large(await api.http.post("/auth/login", content=body, headers={"content-type": "application/json"}))
    _too_large(await api.http.post("/auth/login", content=_streamed(body, 4096), headers={"content-type": "application/json"}))
    # An ordinary sign-in still works.
    assert await api.token(NAVIGATOR)


NOT_CREDENTIALS = {
    "a string": b'"navigator@test.example"',
    "a number": b"12345",
    "a list": b'["navigator@test.example", "password"]',
    "null": b"null",
    "empty": b"",
    "not JSON": b"email=navigator@test.example",
    "invalid UTF-8": b'{"email": "\xff\xfe", "password": "\xc3\x28"}',
    "nested deeper than Python recurses": b"[" * 8000 + b"]" * 8000,
    "unclosed nesting": b'{"a":' * 3000,
    "a number for the password": b'{"email": "navigator@test.example", "password": 5}',
    "a lone surrogate": b'{"email": "navigator@test.example\\ud800", "password": "x"}',
    "a NUL": b'{"email": "navigator@test.example\\u0000", "password": "x"}',
    "a lone surrogate in the password": b'{"email": "navigator@test.example", "password": "\\udfff"}',
}


@pytest.mark.parametrize("case", NOT_CREDENTIALS, ids=list(NOT_CREDENTIALS))
async def test_a_sign_in_that_is_not_credentials_is_a_400(case: str, api: Api, network: Network) -> None:
    assert len(NOT_CREDENTIALS[case]) <= LOGIN_BODY_LIMIT
    response = await api.http.post("/auth/login", content=NOT_CREDENTIALS[case], headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "Send JSON with your email and password.", "code": "BAD_USER_INPUT"}


async def test_a_sign_in_nested_100_000_deep_is_refused_for_its_size(api: Api, network: Network) -> None:
    _too_large(await api.http.post("/auth/login", content=b"[" * 100_000 + b"]" * 100_000))


async def test_a_graphql_body_nested_too_deep_is_a_400(api: Api, network: Network) -> None:
    for body in (b"[" * 500_000, b'{"query": "\xff\xfe"}'):
        response = await api.http.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text[:200]


NOT_A_REQUEST = {
    "a string": b'"{ __typename }"',
    "a number": b"12345",
    "a list": b'[{"query": "{ __typename }"}]',
    "null": b"null",
    "true": b"true",
    "empty": b"",
    "a query that is a number": b'{"query": 5}',
    "variables that are a list": b'{"query": "{ __typename }", "variables": [1]}',
    "invalid UTF-8": b'{"query": "{ __typename }", "x": "\xc3\x28"}',
    "nested deeper than Python recurses": b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 8000 + b"]" * 8000 + b"}}",
}


@pytest.mark.parametrize("case", NOT_A_REQUEST, ids=list(NOT_A_REQUEST))
async def test_a_graphql_body_that_is_not_a_request_is_a_400(case: str, api: Api, network: Network) -> None:
    response = await api.http.post("/graphql", content=NOT_A_REQUEST[case], headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    # The server keeps working.
    assert (await api.gql("{ __typename }")) == {"__typename": "Query"}


def _only_error(body: dict[str, Any]) -> dict[str, Any]:
    errors = body.get("errors")
    assert isinstance(errors, list) and len(errors) == 1, body
    error = errors[0]
    assert isinstance(error, dict)
    return error


@pytest.mark.parametrize("document", ["{ __typename", "query { viewer { id } } }", "{ viewer(id: ) { id } }", "!"])
async def test_a_syntax_error_has_a_code(document: str, api: Api, network: Network) -> None:
    error = _only_error(await api.raw(document))
    assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}
    assert "Syntax Error" in str(error["message"])


async def test_a_lone_surrogate_in_the_document_is_a_syntax_error(api: Api, network: Network) -> None:
    response = await api.http.post("/graphql", content=b'{"query": "{ __typename \\ud800 }"}', headers={"content-type": "application/json"})
    error = _only_error(response.json())
    assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


async def test_too_many_tokens_has_a_code(api: Api, network: Network) -> None:
    document = "{ " + " ".join(["__typename"] * 5000) + " }"
    error = _only_error(await api.raw(document))
    assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}
    assert "tokens" in str(error["message"])


@pytest.mark.parametrize("length", [300, 2000])
async def test_a_chain_of_fragments_is_a_coded_masked_error(length: int, api: Api, network: Network) -> None:
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(length))
    document = "query { ...F0 } " + fragments + f" fragment F{length} on Query {{ __typename }}"
    started = time.perf_counter()
    body = await api.raw(document, as_=NAVIGATOR)
    assert time.perf_counter() - started < 1
    error = _only_error(body)
    assert "recursion" not in str(error["message"])
    assert (error.get("extensions") or {}).get("code") in ("GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "BAD_USER_INPUT"), error
    assert (await api.gql("{ __typename }")) == {"__typename": "Query"}


async def test_a_cycle_of_fragments_is_a_validation_error(api: Api, network: Network) -> None:
    document = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    error = _only_error(await api.raw(document, as_=NAVIGATOR))
    assert (error.get("extensions") or {}).get("code") == "GRAPHQL_VALIDATION_FAILED"


async def test_a_subscription_over_http_is_a_400(api: Api, network: Network) -> None:
    headers = {"authorization": f"Bearer {await api.token(NAVIGATOR)}"}
    response = await api.http.post("/graphql", json={"query": "subscription { referralChanged { seq } }"}, headers=headers)
    assert response.status_code == 400, response.text
    assert "subscription" in response.text.lower()


def test_the_graphql_body_limit_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    from db.settings import Settings

    assert Settings.from_env().graphql_body_limit == GRAPHQL_BODY_LIMIT == 1024 * 1024
    monkeypatch.setenv("GRAPHQL_BODY_LIMIT", "65536")
    assert Settings.from_env().graphql_body_limit == 65536


def test_the_document_cache_is_bounded_by_size() -> None:
    from graphql import parse

    from schema.document_cache import DocumentStore

    store = DocumentStore(max_document=1000, max_total=3000, max_count=100)
    padded = "{ __typename } #" + "x" * 2000
    store.put(padded, parse(padded))
    assert store.get(padded) is None  # too long to keep
    texts = [f"{{ __typename }} #{i:03d}" + "x" * 700 for i in range(10)]
    for text in texts:
        store.put(text, parse(text))
    assert store.total <= 3000 and len(store.entries) == 4
    assert [t for t in texts if store.get(t)] == texts[-4:]


async def test_identical_documents_are_parsed_once() -> None:
    from schema import schema
    from schema.document_cache import STORE

    document = "query Same { __typename }"
    for _ in range(2):
        result = await schema.execute(document)
        assert result.errors is None
    entry = STORE.get(document)
    assert entry is not None and entry.errors == []
