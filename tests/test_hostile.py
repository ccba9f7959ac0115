"""Hostile documents are refused with a code, within 100 ms of the server's CPU time, before any field runs.

Each attack is sent as a fresh text (a comment numbers it), so no cache answers for the server. The
server runs in the test's process: the fixture counts, while it lasts, every field graphql-core
executes, every SQL statement a request runs, and the time the GraphQL endpoint takes to answer each request.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql.execution.executor import Executor
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.types import Receive, Scope, Send

from schema.cost import QUERY_TOO_COSTLY
from schema.selections import MAX_FIELDS, MAX_REPEATS
from schema.variables import MAX_VALUES
from tests.figures import report
from tests.documents import CREATE_REFERRAL, new_seeker_referral
from tests.support import Api, Network
from tests.test_cost import ATTACK
from web.graphql import GraphQLEndpoint

NAVIGATOR = "navigator@test.example"
BOUND = 0.1  # seconds: the issue's bound on refusing an attack
_fresh = itertools.count()


@dataclass
class Server:
    """What the server did while a test ran."""

    fields: int = 0
    statements: list[str] = field(default_factory=list)
    # (CPU seconds of the process, wall-clock seconds) the endpoint took for each request.
    durations: list[tuple[float, float]] = field(default_factory=list)

    def clear(self) -> None:
        self.fields = 0
        self.statements.clear()
        self.durations.clear()


@pytest.fixture
def server_side(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    seen = Server()
    execute_field = Executor.execute_field
    endpoint = GraphQLEndpoint.__call__

    def counting_execute_field(self: Executor[Any], *args: Any, **kwargs: Any) -> Any:
        seen.fields += 1
        return execute_field(self, *args, **kwargs)

    requests: set[asyncio.Task[Any] | None] = set()

    async def timed(self: GraphQLEndpoint, scope: Scope, receive: Receive, send: Send) -> None:
        requests.add(asyncio.current_task())
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            await endpoint(self, scope, receive, send)
        finally:
            seen.durations.append((time.process_time() - cpu, time.perf_counter() - wall))
            requests.discard(asyncio.current_task())

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Only the requests' own: the outbox relay and other background work run in their own tasks.
        if asyncio.current_task() in requests:
            seen.statements.append(statement)

    monkeypatch.setattr(Executor, "execute_field", counting_execute_field)
    monkeypatch.setattr(GraphQLEndpoint, "__call__", timed)
    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def _bomb(width: int, depth: int, on: str = "Query", leaf: str = "__typename") -> str:
    """Fragments each spreading the next `width` times: a few hundred tokens, width**depth fields."""
    spreads = [f"fragment F{i} on {on} {{ " + " ".join([f"...F{i + 1}"] * width) + " }" for i in range(depth)]
    return " ".join(spreads) + f" fragment F{depth} on {on} {{ {leaf} }}"


def _nested(turns: int) -> str:
    """People, their referrals, those referrals' people...: 4 levels a turn, 4 more around them."""
    inner = "id"
    for _ in range(turns):
        inner = f"referrals {{ edges {{ node {{ seeker {{ {inner} }} }} }} }}"
    return f"{{ peopleImHelping {{ edges {{ node {{ {inner} }} }} }} }}"


@dataclass(frozen=True)
class Attack:
    code: str
    words: str
    document: str
    variables: dict[str, Any] | None = None


SCREENER_FLOOD = {"input": new_seeker_referral("UHJvZ3JhbTox", screenerAnswers=[{"key": "k", "value": "v"}] * 30_000)}
ATTACKS: dict[str, Callable[[Network], Attack]] = {
    "depth: 16 levels of people and referrals": lambda n: Attack("GRAPHQL_VALIDATION_FAILED", "depth", _nested(3)),
    "depth: 1,000 braces deep": lambda n: Attack("GRAPHQL_PARSE_FAILED", "nested too deeply", "{" + "a {" * 1000 + "}" * 1001),
    "aliases: 100 of the viewer": lambda n: Attack(
        "GRAPHQL_VALIDATION_FAILED", "aliases", "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(100)) + " }"
    ),
    "fragments: a chain of 200": lambda n: Attack(
        "GRAPHQL_VALIDATION_FAILED",
        "Fragments nest",
        "query { ...F0 } " + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(200)) + " fragment F200 on Query { __typename }",
    ),
    "fragments: a cycle": lambda n: Attack(
        "GRAPHQL_VALIDATION_FAILED", "cycle", "query { ...A } fragment A on Query { viewer { id } ...B } fragment B on Query { ...A }"
    ),
    "fragments: 3 spreads each, 15 deep (14 million fields)": lambda n: Attack(
        "GRAPHQL_VALIDATION_FAILED", "14,348,907 fields", "query { ...F0 } " + _bomb(3, 15)
    ),
    "fragments: 10 spreads each, 6 deep, on the viewer": lambda n: Attack(
        "GRAPHQL_VALIDATION_FAILED", "1,000,001 fields", "query { viewer { ...F0 } } " + _bomb(10, 6, on="Viewer", leaf="name")
    ),
    "fragments: a bomb that no operation spreads": lambda n: Attack(
        "GRAPHQL_VALIDATION_FAILED", "fields", "query { __typename } " + _bomb(4, 12)
    ),
    "cost: the issue's 30 aliases of nested pages": lambda n: Attack(QUERY_TOO_COSTLY, "would cost", ATTACK),
    "duplicate field: 10,000 times in one selection": lambda n: Attack(
        "GRAPHQL_VALIDATION_FAILED",
        "10,001 fields",
        "query { viewer { " + " ".join(["...V"] * 10) + " } } fragment V on Viewer { " + " ".join(["name"] * 1000) + " }",
    ),
    "duplicate field: 10,000 times written out": lambda n: Attack(
        "GRAPHQL_PARSE_FAILED", "tokens", "{ viewer { " + " ".join(["name"] * 10_000) + " } }"
    ),
    "duplicate field: just over the repeats allowed": lambda n: Attack(
        "GRAPHQL_VALIDATION_FAILED", "same field", "{ viewer { " + " ".join(["name"] * (MAX_REPEATS + 1)) + " } }"
    ),
    "duplicate field: 1,500 __typenames": lambda n: Attack(
        "GRAPHQL_VALIDATION_FAILED", "1,500 fields", "{ " + " ".join(["__typename"] * 1500) + " }"
    ),
    "directives: @include(if: true) 1,000 times": lambda n: Attack(
        "GRAPHQL_PARSE_FAILED", "tokens", "{ viewer { id " + " ".join(["@include(if: true)"] * 1000) + " } }"
    ),
    "directives: @include(if: true) 250 times": lambda n: Attack(
        "GRAPHQL_VALIDATION_FAILED", "@include", "{ viewer { id " + " ".join(["@include(if: true)"] * 250) + " } }"
    ),
    "variables: 300 declared": lambda n: Attack(
        "GRAPHQL_VALIDATION_FAILED", "never used", "query(" + " ".join(f"$v{i}: Int" for i in range(300)) + ") { __typename }"
    ),
    "variables: a list of 100,000 for an id": lambda n: Attack(
        "BAD_USER_INPUT", "values", "query($id: ID!) { referral(id: $id) { id } }", {"id": list(range(100_000))}
    ),
    "variables: 30,000 screener answers (under the body limit)": lambda n: Attack(
        "BAD_USER_INPUT", f"{MAX_VALUES:,} values", CREATE_REFERRAL, SCREENER_FLOOD
    ),
    "tokens: just over the limit": lambda n: Attack("GRAPHQL_PARSE_FAILED", "tokens", "{ " + " ".join(["__typename"] * 2001) + " }"),
}


async def _send(api: Api, attack: Attack, nonce: int) -> dict[str, Any]:
    token = await api.token(NAVIGATOR)
    body = json.dumps({"query": f"{attack.document}\n# {nonce}", "variables": attack.variables or {}})
    response = await api.http.post(
        "/graphql", content=body, headers={"authorization": f"Bearer {token}", "content-type": "application/json"}
    )
    assert response.status_code in (200, 400, 422), response.text[:300]
    answer: dict[str, Any] = response.json()
    return answer


async def test_every_attack_is_refused_fast_before_anything_runs(api: Api, network: Network, server_side: Server) -> None:
    # One server for them all: a server per attack would be most of this test's time.
    await _send(api, Attack("", "", "{ __typename }"), next(_fresh))  # signs in, warms the connection
    server_side.clear()
    await _send(api, Attack("", "", "{ __typename }"), next(_fresh))
    signing_in = list(server_side.statements)  # what authenticating a request costs
    assert server_side.fields == 1
    slow = []
    for name, make in ATTACKS.items():
        attack = make(network)
        # Three fresh copies, the fastest counted. The bound is on the CPU time the server spends:
        # on a machine shared with other work the wall clock also counts the time others had the cores.
        times = []
        for _ in range(3):
            server_side.clear()
            body = await _send(api, attack, next(_fresh))
            errors = body.get("errors") or []
            assert errors and body.get("data") is None, (name, body)
            assert {(e.get("extensions") or {}).get("code") for e in errors} == {attack.code}, (name, errors[:3])
            assert attack.words in errors[0]["message"], (name, errors[0])
            assert server_side.fields == 0, f"{name}: a field ran"
            assert server_side.statements == signing_in, (name, server_side.statements)
            times.append(server_side.durations[-1])
        cpu, wall = min(times)
        report(f"{name}: refused in {cpu * 1000:.0f} ms of CPU ({wall * 1000:.0f} ms wall clock)")
        if cpu >= BOUND:
            slow.append(f"{name}: {', '.join(f'{c * 1000:.0f} ms of CPU ({w * 1000:.0f} ms wall)' for c, w in times)}")
    assert not slow, slow
    # The server is still answering.
    assert (await api.gql("{ viewer { name } }", as_=NAVIGATOR))["viewer"]["name"] == "Nadia Navigator"


async def test_just_under_each_bound_still_runs(api: Api, network: Network, server_side: Server) -> None:
    # The same field as often as allowed, and fields spread through many fragments.
    data = await api.gql("{ viewer { " + " ".join(["name"] * MAX_REPEATS) + " } }", as_=NAVIGATOR)
    assert data["viewer"]["name"] == "Nadia Navigator"
    flat = "query { viewer { " + " ".join(f"...V{j}" for j in range(10)) + " } } " + " ".join(
        f"fragment V{j} on Viewer {{ {' '.join(['name'] * 2)} memberships {{ role }} }}" for j in range(10)
    )
    assert (await api.gql(flat, as_=NAVIGATOR))["viewer"]["name"] == "Nadia Navigator"
    # Variables as large as allowed are read, and answered for what they say.
    answers = [{"key": "household_size", "value": "4"}] * ((MAX_VALUES - 20) // 3)
    body = await api.raw(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], screenerAnswers=answers)}, as_=NAVIGATOR)
    assert not any(f"{MAX_VALUES:,} values" in e["message"] for e in body.get("errors") or []), body
