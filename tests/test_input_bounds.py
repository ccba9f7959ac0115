"""Every input the schema takes, found by walking the schema: bounded, without control characters,
ids, cursors and moments checked, and refused with BAD_USER_INPUT before anything is written.

A new argument or input field is covered the moment it is added; one without a bound in
schema/inputs.py's BOUNDS fails `test_every_string_and_list_input_has_a_bound`.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_named_type,
)
import httpx

from db.accounts import Role
from db.engine import Database
from resolvers.text import Bound, Many
from schema import schema as strawberry_schema
from schema.ids import to_global_id
from schema.inputs import BOUNDS, DEFAULT_LIST, DEFAULT_TEXT, list_inputs, string_inputs
from tests.documents import CREATE_REFERRAL, new_seeker_referral
from tests.support import Api, GraphQLErrors, Network, add_member, row_counts

SCHEMA: GraphQLSchema = strawberry_schema._schema
ROOTS = {"Query": "query", "Mutation": "mutation", "Subscription": "subscription"}
NAVIGATOR = "navigator@test.example"
SEEKER = "seeker@test.example"
INTAKE = "intake@test.example"
CE_MANAGER = "ce@test.example"
ADMIN = "admin@test.example"
# graphql-core's own bound on Int, for the dummies of Int arguments.
DUMMY_SCALARS = {"String": "x", "Int": 1, "Float": 1.0, "Boolean": True, "Date": "2024-01-02", "DateTime": "2024-01-02T03:04:05Z"}


# --- Walking the schema -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One input (an argument, or an input field some levels down an argument) and how to reach it."""

    coordinate: str
    root: str  # Query, Mutation or Subscription
    field: str  # the root field
    argument: str  # the root field's argument that holds the input
    path: tuple[str, ...]  # input fields from that argument down to the input

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else self.argument


def _dummy(type_: GraphQLInputType, *, depth: int = 0) -> Any:
    """A value of `type_` the guard lets through: required fields filled, optional ones left out."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        return [_dummy(type_.of_type, depth=depth)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _dummy(f.type, depth=depth + 1)
            for name, f in type_.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
        }
    assert isinstance(type_, GraphQLScalarType)
    if type_.name == "ID":
        return to_global_id("Program", 1)
    return DUMMY_SCALARS[type_.name]



def _paths(type_: GraphQLInputType, seen: frozenset[str] = frozenset()) -> Iterable[tuple[str, tuple[str, ...]]]:
    """(input type.field, path) for every input field reachable inside `type_`."""
    named = get_named_type(type_)
    if not isinstance(named, GraphQLInputObjectType) or named.name in seen:
        return
    for name, f in named.fields.items():
        yield f"{named.name}.{name}", (name,)
        for coordinate, rest in _paths(f.type, seen | {named.name}):
            yield coordinate, (name, *rest)


def targets() -> dict[str, Target]:
    """The first way found from a root field to each argument and input field of the schema."""
    found: dict[str, Target] = {}
    for root in ROOTS:
        type_ = SCHEMA.get_type(root)
        assert isinstance(type_, GraphQLObjectType)
        for field_name, field in type_.fields.items():
            for arg_name, arg in field.args.items():
                found.setdefault(f"{root}.{field_name}.{arg_name}", Target(f"{root}.{field_name}.{arg_name}", root, field_name, arg_name, ()))
                for coordinate, path in _paths(arg.type):
                    found.setdefault(coordinate, Target(coordinate, root, field_name, arg_name, path))
    return found


def _input_of(target: Target) -> GraphQLArgument | GraphQLInputField:
    field = _root_field(target)
    holder: GraphQLArgument | GraphQLInputField = field.args[target.argument]
    for name in target.path:
        named = get_named_type(holder.type)
        assert isinstance(named, GraphQLInputObjectType)
        holder = named.fields[name]
    return holder


def _root_field(target: Target) -> GraphQLField:
    root = SCHEMA.get_type(target.root)
    assert isinstance(root, GraphQLObjectType)
    field: GraphQLField = root.fields[target.field]
    return field


def _selection(field: GraphQLField) -> str:
    return "" if isinstance(get_named_type(field.type), (GraphQLScalarType, GraphQLEnumType)) else " { __typename }"


def request(target: Target, value: Any) -> tuple[str, dict[str, Any]]:
    """A document reaching `target` with `value` in it, every other required input a harmless dummy."""
    field = _root_field(target)
    variables: dict[str, Any] = {}
    for name, arg in field.args.items():
        if name == target.argument:
            if not target.path:
                variables[name] = value
                continue
            outer = _dummy(arg.type)
            holder = outer[0] if isinstance(outer, list) else outer
            holder_type = get_named_type(arg.type)
            for step in target.path[:-1]:
                assert isinstance(holder_type, GraphQLInputObjectType)
                step_type = holder_type.fields[step].type
                if step not in holder:
                    holder[step] = _dummy(step_type)
                holder = holder[step][0] if isinstance(holder[step], list) else holder[step]
                holder_type = get_named_type(step_type)
            holder[target.path[-1]] = value
            variables[name] = outer
        elif isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined:
            variables[name] = _dummy(arg.type)
    declared = ", ".join(f"${name}: {field.args[name].type}" for name in variables)
    passed = ", ".join(f"{name}: ${name}" for name in variables)
    document = f"{ROOTS[target.root]}{f'({declared})' if declared else ''} {{ {target.field}{f'({passed})' if passed else ''}{_selection(field)} }}"
    return document, variables


def _in_list(target: Target, value: Any) -> Any:
    """`value` as the input takes it: alone, or as the one item of a list."""
    return [value] if isinstance(_nullable(_input_of(target).type), GraphQLList) else value


def _nullable(type_: GraphQLInputType) -> GraphQLInputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


# --- Sending many requests to one server --------------------------------------------------------


async def _send(api: Api, document: str, variables: dict[str, Any], as_: str | None) -> dict[str, Any]:
    # json.dumps escapes a lone surrogate as "\ud800", which JSON allows and httpx's encoder would refuse.
    body = json.dumps({"query": document, "variables": variables}).encode()
    headers = {"content-type": "application/json"}
    if as_:
        headers["authorization"] = f"Bearer {await api.token(as_)}"
    try:
        response = await api.http.post("/graphql", content=body, headers=headers)
    except (httpx.ReadError, httpx.RemoteProtocolError):
        # A pooled connection uvicorn closed as idle (5 s keep-alive) just as it was reused, which a
        # loaded machine makes likely. Every request here is refused, so sending one twice is harmless.
        response = await api.http.post("/graphql", content=body, headers=headers)
    # 200 once execution began; 400 or 422 for a request refused before it (GraphQL over HTTP).
    assert response.status_code in (200, 400, 422), (document, response.status_code, response.text[:300])
    answer: dict[str, Any] = response.json()
    return answer


async def _subscribe(api: Api, document: str, variables: dict[str, Any], as_: str) -> dict[str, Any]:
    subscription = await api.subscribe(document, variables, as_=as_)
    try:
        await subscription.next()
    except GraphQLErrors as refused:
        return {"errors": refused.errors}
    finally:
        await subscription.close()
    raise AssertionError(f"{document} was not refused")


async def _batched(calls: list[Awaitable[Any]], width: int = 8) -> list[Any]:
    """All of `calls`, at most `width` at a time: one server, a few connections kept busy."""
    gate = asyncio.Semaphore(width)

    async def one(call: Awaitable[Any]) -> Any:
        async with gate:
            return await call

    return await asyncio.gather(*(one(c) for c in calls))


async def _answer(api: Api, target: Target, value: Any, as_: str | None = None) -> dict[str, Any]:
    document, variables = request(target, value)
    if target.root == "Subscription":
        return await _subscribe(api, document, variables, as_ or NAVIGATOR)
    return await _send(api, document, variables, as_)


def _refusal(answer: dict[str, Any]) -> dict[str, Any]:
    errors = answer.get("errors") or []
    assert len(errors) == 1, answer
    error: dict[str, Any] = errors[0]
    return error


# --- Every String and list has a bound -------------------------------------------------------------


def test_every_string_and_list_input_has_a_bound() -> None:
    strings, lists = string_inputs(SCHEMA), list_inputs(SCHEMA)
    assert len(strings) > 60 and len(lists) > 10  # the walk finds them at all
    unbounded = [c for c in strings if not isinstance(BOUNDS.get(c), Bound) and not isinstance(BOUNDS.get(c), Many)]
    assert unbounded == [], f"give these String inputs a bound in schema/inputs.py BOUNDS: {unbounded}"
    uncounted = [c for c in lists if not isinstance(BOUNDS.get(c), Many)]
    assert uncounted == [], f"give these list inputs a Many(...) in schema/inputs.py BOUNDS: {uncounted}"
    string_lists = [c for c in lists if c in strings]
    assert all(isinstance(BOUNDS[c], Many) and BOUNDS[c].each for c in string_lists), string_lists  # type: ignore[union-attr]
    stale = sorted(set(BOUNDS) - set(strings) - set(lists))
    assert stale == [], f"BOUNDS names inputs the schema no longer has: {stale}"
    # A new scalar (a JSON map, say) needs its own rule in schema/inputs.py: bounded in size and depth.
    scalars = {t.name for t in SCHEMA.type_map.values() if isinstance(t, GraphQLScalarType)}
    assert scalars == {"String", "ID", "Int", "Float", "Boolean", "Date", "DateTime"}, scalars
    # Every input is reachable from a root field, so the tests below send every one of them.
    assert set(strings) - set(targets()) <= {"Seeker.referrals.after"}


def _bound(coordinate: str) -> Bound:
    found = BOUNDS.get(coordinate, DEFAULT_TEXT)
    if isinstance(found, Many):
        return found.each or DEFAULT_TEXT
    return found


def _bad_text(bound: Bound) -> dict[str, str]:
    values = {
        "over its bound": "x" * (bound.limit + 1),
        "NUL": "a\u0000b",
        "right-to-left override": "abc\u202edef",
        "bidi isolate": "abc\u2066def",
        "BEL": "ding\u0007",
        "ESC": "\u001b[31mred",
        "C1 control": "a\u0085b",
        "lone surrogate": "a\ud800b",
    }
    if not bound.lines:
        values["line break in one line"] = "one\ntwo"
    return values


async def test_every_string_input_refuses_what_it_cannot_keep(api: Api, network: Network, db: Database) -> None:
    found = targets()
    cases = [
        (found[c], label, value)
        for c in sorted(string_inputs(SCHEMA))
        if c in found
        for label, value in _bad_text(_bound(c)).items()
    ]
    before = await row_counts(db, reads=True)
    answers = await _batched([_answer(api, t, _in_list(t, v), NAVIGATOR) for t, _, v in cases])
    wrong: list[tuple[str, str, object]] = []
    for (target, label, _), answer in zip(cases, answers):
        error = _refusal(answer)
        extensions = error.get("extensions") or {}
        if extensions.get("code") != "BAD_USER_INPUT" or extensions.get("field") != target.name:
            wrong.append((target.coordinate, label, error))
        elif len(error["message"]) > 200:
            wrong.append((target.coordinate, label, "message too long"))
    assert wrong == [], wrong
    assert len(cases) > 600
    assert await row_counts(db, reads=True) == before


async def test_every_list_input_refuses_too_many_items(api: Api, network: Network, db: Database) -> None:
    found = targets()
    lists = sorted(list_inputs(SCHEMA))
    before = await row_counts(db, reads=True)
    cases: list[tuple[Target, list[Any]]] = []
    for coordinate in lists:
        target = found[coordinate]
        many = BOUNDS.get(coordinate, DEFAULT_LIST)
        assert isinstance(many, Many)
        list_type = _nullable(_input_of(target).type)
        assert isinstance(list_type, GraphQLList)
        item = _dummy(list_type.of_type)
        cases.append((target, [item] * (many.limit + 1)))
    answers = await _batched([_answer(api, t, v, NAVIGATOR) for t, v in cases])
    for (target, _), answer in zip(cases, answers):
        error = _refusal(answer)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": target.name}, (target.coordinate, error)
        assert "items at most" in error["message"]
    assert await row_counts(db, reads=True) == before


async def test_text_is_trimmed_and_composed_and_layout_kept(api: Api, network: Network, db: Database) -> None:
    comment = "  Cafe\u0301 on\n\tMain  "  # e + combining acute: NFC makes it one character, é
    seeker = {"firstName": " Zoe\u0308 ", "lastName": "T", "email": "z@example.com"}
    created = await api.gql(
        CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], comment=comment, seeker=seeker)}, as_=NAVIGATOR
    )
    read = created["createReferral"]
    assert [c["body"] for c in read["comments"]] == ["Caf\u00e9 on\n\tMain"]
    assert read["seeker"]["firstName"] == "Zo\u00eb"


# --- Error messages quote a short prefix at most ------------------------------------------------


async def test_no_error_echoes_a_100_kb_value(api: Api, network: Network, db: Database) -> None:
    huge = "maria@" + "x" * 100_000 + "@example"
    # Each is under its field's length bound only if bounds were gone; the resolvers' own messages
    # (email, phone, ZIP code, screener key, CoC code, id) each quote at most a short prefix.
    inputs: dict[str, dict[str, Any]] = {
        "email": {"seeker": {"firstName": "A", "lastName": "B", "email": huge}},
        "phone": {"seeker": {"firstName": "A", "lastName": "B", "phone": "1" * 100_000}, "contactPreference": "TEXT"},
        "screener key": {"screenerAnswers": [{"key": "k" * 100_000, "value": "1"}]},
    }
    for overrides in inputs.values():
        body = await api.raw(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], **overrides)}, as_=NAVIGATOR)
        assert len(json.dumps(body)) < 1000, json.dumps(body)[:300]
    for document, variables in [
        ("query($z: String) { programs(postalCode: $z) { edges { cursor } } }", {"z": "9" * 100_000}),
        ("query($id: ID!) { program(id: $id) { id } }", {"id": "P" * 100_000}),
        ("query($after: String) { programs(after: $after) { edges { cursor } } }", {"after": "A" * 100_000}),
    ]:
        body = await api.raw(document, variables, as_=NAVIGATOR)
        assert body.get("errors") and len(json.dumps(body)) < 1000, json.dumps(body)[:300]


def test_domain_messages_quote_an_excerpt_of_a_100_kb_value() -> None:
    # Called directly, past the guard's bounds: the messages themselves must not echo it all.
    from db.programs import Program
    from resolvers.errors import BadInput
    from resolvers.referrals import ScreenerAnswer, check_screener
    from resolvers.seekers import normalize_email, normalize_phone
    from schema.ids import pk_of

    huge = "x" * 100_000
    program = Program(screener=[{"key": "size", "label": "Size?", "required": True, "choices": ["1", "2"]}])
    calls: dict[str, Callable[[], object]] = {
        "email": lambda: normalize_email(huge + "@@example"),
        "phone": lambda: normalize_phone(huge),
        "screener key": lambda: check_screener(program, [ScreenerAnswer(huge, "1")]),
        "screener choice": lambda: check_screener(program, [ScreenerAnswer("size", huge)]),
        "id of a type": lambda: pk_of(_raw_id("A" * 60 + ":1"), "Program", field="programId"),
    }
    for what, call in calls.items():
        try:
            call()
        except BadInput as refused:
            assert len(refused.message) < 200 and "x" * 41 not in refused.message, (what, refused.message[:300])
        else:
            raise AssertionError(f"{what} was accepted")


async def test_graphql_core_messages_quote_an_excerpt(api: Api, network: Network) -> None:
    huge = "Q" * 100_000
    for document in (
        "query($s: ReferralStatus) { inboundReferrals(status: $s) { totalCount } }",
        "query($s: DateTime) { auditTrail(from: $s) { __typename } }",
        "query($s: Int) { programs(first: $s) { __typename } }",
    ):
        error = _refusal(await _send(api, document, {"s": huge}, INTAKE))
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert len(error["message"]) < 300 and "Q" * 41 not in error["message"], error["message"][:300]


def test_the_excerpt_helper_quotes_a_short_prefix() -> None:
    from resolvers.text import excerpt

    assert excerpt("short") == "short"
    assert excerpt("x" * 100_000) == "x" * 40 + "…"
    assert excerpt("a\u0000\ud800b") == "a\ufffd\ufffdb"


# --- Ids, cursors and moments -----------------------------------------------------------------------


def _raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


MALFORMED_IDS = {
    "number of 10^30": _raw_id(f"Program:{10**30}"),
    "negative number": _raw_id("Program:-5"),
    "not base64": "!!not-base64!!",
    "base64 of not UTF-8": base64.urlsafe_b64encode(b"\xff\xfe:1").decode(),
    "far too long": _raw_id("Program:1") + "A" * 10_000,
    "non-ASCII": "Pr\u00f6gram",
    "empty": "",
}


def _id_inputs() -> list[str]:
    return sorted(
        c for c, f in _all_inputs().items() if get_named_type(f.type).name == "ID" and c.split(".")[0] in ROOTS or
        (get_named_type(f.type).name == "ID" and c.split(".")[0] not in ROOTS and len(c.split(".")) == 2)
    )


def _all_inputs() -> dict[str, GraphQLArgument | GraphQLInputField]:
    from schema.inputs import _inputs

    return _inputs(SCHEMA)


async def test_every_id_input_refuses_a_malformed_id(api: Api, network: Network, db: Database) -> None:
    found = targets()
    ids = [c for c in _id_inputs() if c in found]
    assert len(ids) > 50
    before = await row_counts(db, reads=True)
    cases = [(found[c], label, value) for c in ids for label, value in MALFORMED_IDS.items()]
    answers = await _batched([_answer(api, t, _in_list(t, v), NAVIGATOR) for t, _, v in cases])
    wrong: list[tuple[str, str, object]] = []
    for (target, label, _), answer in zip(cases, answers):
        error = _refusal(answer)
        if error.get("extensions") != {"code": "BAD_USER_INPUT", "field": target.name} or "not a valid id" not in error["message"]:
            wrong.append((target.coordinate, label, error))
    assert wrong == [], wrong
    assert await row_counts(db, reads=True) == before


async def test_an_id_of_an_unknown_type_is_refused_or_not_found(api: Api, network: Network, db: Database) -> None:
    found = targets()
    ids = [c for c in _id_inputs() if c in found]
    before = await row_counts(db, reads=True)
    answers = await _batched([_answer(api, found[c], _in_list(found[c], _raw_id("Nonesuch:7")), NAVIGATOR) for c in ids])
    codes = {c: _refusal(a).get("extensions", {}).get("code") for c, a in zip(ids, answers)}
    # Which one depends on whether the field looks the id up or checks its type first, and on what
    # the navigator may do; never a fault of ours.
    assert {c: code for c, code in codes.items() if code not in ("BAD_USER_INPUT", "NOT_FOUND", "FORBIDDEN")} == {}
    assert await row_counts(db, reads=True) == before


def _cursor(value: object) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode()


AWARE = "2024-05-01T12:00:00+00:00"
CRAFTED_CURSORS = {
    "naive datetime": _cursor(["2024-05-01T12:00:00", 1]),
    "a list inside": _cursor([[AWARE], 1]),
    "10^30": _cursor([10**30]),
    "10^30 after a time": _cursor([AWARE, 10**30]),
    "10^30 after a name": _cursor(["Harbor", 10**30]),
    "a list of lists": _cursor([[1], [2]]),
    "garbage": "garbage",
    "base64 of garbage": _cursor(b"\x00\x01garbage"),
    "nested 5,000 deep": _cursor(b"[" * 5000),
}
TEXT_FIRST = {"Query.programs.after"}
# Who can see each paginated list, and what else it needs: the cursor must reach the page it continues.
LIST_ROUTES: dict[str, tuple[str | None, str]] = {
    "Query.programs.after": (None, "query($after: String) { programs(after: $after) { edges { cursor } } }"),
    "Query.referralsForMe.after": (SEEKER, "query($after: String) { referralsForMe(after: $after) { edges { cursor } } }"),
    "Query.peopleImHelping.after": (NAVIGATOR, "query($after: String) { peopleImHelping(after: $after) { edges { cursor } } }"),
    "Query.inboundReferrals.after": (INTAKE, "query($after: String) { inboundReferrals(after: $after) { edges { cursor } } }"),
    "Query.priorityList.after": (CE_MANAGER, 'query($after: String) { priorityList(cocCode: "XX-500", after: $after) { edges { cursor } } }'),
    "Query.ceEvents.after": (CE_MANAGER, 'query($after: String) { ceEvents(cocCode: "XX-500", after: $after) { edges { cursor } } }'),
    "Query.enrollments.after": (INTAKE, "query($after: String) { enrollments(after: $after) { edges { cursor } } }"),
    "Query.cases.after": (NAVIGATOR, "query($after: String) { cases(after: $after) { edges { cursor } } }"),
    "Query.auditTrail.after": (ADMIN, "query($after: String) { auditTrail(after: $after) { edges { cursor } } }"),
    "Query.familiesKnownToBoth.after": (
        ADMIN,
        "query($after: String, $agreement: ID!) { familiesKnownToBoth(agreementId: $agreement, after: $after) { families { edges { cursor } } } }",
    ),
    "Seeker.referrals.after": (
        NAVIGATOR,
        "query($after: String, $sam: ID!) { node(id: $sam) { ... on Seeker { referrals(after: $after) { edges { cursor } } } } }",
    ),
}


async def _route_variables(db: Database, network: Network) -> dict[str, Any]:
    """What the routes need beyond the test network: a CE manager, an admin, an agreement."""
    await add_member(db, CE_MANAGER, organization_id=network.pks["navs"], role=Role.CE_MANAGER)
    await add_member(db, ADMIN, organization_id=network.pks["navs"], role=Role.ADMIN)
    from db.consent import AgreementParty, DataSharingAgreement

    async with db.write() as s:
        agreement = DataSharingAgreement(name="Test agreement", purpose="Testing", starts_on=date(2024, 1, 1))
        s.add(agreement)
        await s.flush()
        s.add_all([AgreementParty(agreement_id=agreement.id, organization_id=network.pks[o]) for o in ("navs", "food")])
        agreement_id = agreement.id
    return {"sam": network["sam"], "agreement": to_global_id("DataSharingAgreement", agreement_id)}


async def test_every_page_cursor_refuses_crafted_cursors(api: Api, network: Network, db: Database) -> None:
    afters = sorted(c for c in _all_inputs() if c.endswith(".after"))
    assert afters and set(afters) == set(LIST_ROUTES), f"give each paginated list a route: {set(afters) ^ set(LIST_ROUTES)}"
    extra = await _route_variables(db, network)
    for coordinate, (viewer, document) in LIST_ROUTES.items():
        variables = {k: v for k, v in extra.items() if f"${k}" in document}
        # The route works with no cursor, so a refusal below is the cursor's.
        ok = await _send(api, document, {**variables, "after": None}, viewer)
        assert not ok.get("errors"), (coordinate, ok)
        # The program directory is ordered by name first, and any string, a naive time's too, may be a name.
        crafted = {k: v for k, v in CRAFTED_CURSORS.items() if not (k == "naive datetime" and coordinate in TEXT_FIRST)}
        answers = await _batched([_send(api, document, {**variables, "after": c}, viewer) for c in crafted.values()])
        for label, answer in zip(crafted, answers):
            error = _refusal(answer)
            assert error["extensions"]["code"] == "BAD_USER_INPUT", (coordinate, label, error)
            assert error["message"] == "That page cursor is not valid; start again from the first page.", (coordinate, label)


BAD_MOMENTS = {
    "no time zone": "2024-05-01T12:00:00",
    "year 0": "0000-01-01T00:00:00Z",
    "year 10000": "10000-01-01T00:00:00Z",
    "beyond year 9999 once in UTC": "9999-12-31T23:59:59-23:59",
    "before year 1 once in UTC": "0001-01-01T00:00:00+23:59",
    "not a moment": "yesterday",
}
BAD_DAYS = {"year 0": "0000-01-01", "year 10000": "10000-01-01", "not a day": "2024-02-30", "a moment": "2024-05-01T12:00:00Z"}


async def test_every_date_and_moment_input_refuses_what_is_not_one(api: Api, network: Network, db: Database) -> None:
    found = targets()
    dates = [c for c, f in _all_inputs().items() if get_named_type(f.type).name in ("Date", "DateTime")]
    assert len(dates) > 20
    before = await row_counts(db, reads=True)
    cases: list[tuple[Target, str, str]] = []
    for coordinate in sorted(dates):
        if coordinate == "Wallboard.changesToday.since":
            continue  # below, through the wall display
        target = found[coordinate]
        kind = get_named_type(_input_of(target).type).name
        for label, value in (BAD_MOMENTS if kind == "DateTime" else BAD_DAYS).items():
            cases.append((target, label, value))
    answers = await _batched([_answer(api, t, _in_list(t, v), NAVIGATOR) for t, _, v in cases])
    for (target, label, _), answer in zip(cases, answers):
        error = _refusal(answer)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (target.coordinate, label, error)
    assert await row_counts(db, reads=True) == before
    # The wall display's `since`, a field of a field.
    await add_member(db, CE_MANAGER, organization_id=network.pks["navs"], role=Role.CE_MANAGER)
    wall = 'query($since: DateTime) { wallboard(cocCode: "XX-500") { changesToday(since: $since) { seq } } }'
    assert not (await _send(api, wall, {"since": "2024-05-01T12:00:00Z"}, CE_MANAGER)).get("errors")
    for label, value in BAD_MOMENTS.items():
        error = _refusal(await _send(api, wall, {"since": value}, CE_MANAGER))
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (label, error)
