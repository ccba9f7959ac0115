"""A schema-driven fuzzer: thousands of generated operations, as every role, against the real server.

hypothesis-graphql builds queries and mutations from the printed schema, valid ones and ones that
break it in one place (a wrong type, a missing argument, an unknown enum value...); about half
have their arguments moved into variables. Ids are drawn mostly from ids that exist in the test
network, so that operations get past the id checks into the resolvers. Whatever is sent, the server
must answer without a 500 and without a crash (a masked INTERNAL_SERVER_ERROR is one), every error
must carry an `extensions.code`, and no message may show Python or SQL.

HOSTILE_FUZZ_OPERATIONS sets how many operations (2,000 by default) and HOSTILE_FUZZ_SEED the seed
(fixed, so every run sends the same operations; change it to explore further).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import json
import os
import random
import re
import tempfile
import time
from datetime import timezone
from pathlib import Path
from typing import Any

import graphql
import httpx
import hypothesis
import pytest
from graphql import (
    ArgumentNode,
    DocumentNode,
    NameNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    value_from_ast_untyped,
    visit,
)
from hypothesis import strategies as st
from hypothesis.control import BuildContext
from hypothesis.internal.conjecture.data import ConjectureData
from hypothesis_graphql import Mode, from_schema, nodes
from hypothesis_graphql._strategies.strategy import GraphQLStrategy

from db.accounts import Role
from db.engine import Database
from schema import schema
from schema.ids import to_global_id
from tests.documents import CREATE_REFERRAL, new_seeker_referral
from tests.figures import report
from tests.support import Api, Network, add_member

OPERATIONS = int(os.environ.get("HOSTILE_FUZZ_OPERATIONS", "2000"))
SEED = int(os.environ.get("HOSTILE_FUZZ_SEED", "20261201"))
CE_MANAGER = "fuzz-ce@test.example"
ADMIN = "fuzz-admin@test.example"
# Every role, and no one signed in.
ROLES: tuple[str | None, ...] = (
    "seeker@test.example",
    "navigator@test.example",
    "intake@test.example",
    CE_MANAGER,
    ADMIN,
    None,
)
# What a message must never show: Python's words for its failures, a traceback, SQL or a driver.
INTERNAL = re.compile(
    r"Traceback|File \"|\.py\b|line \d+|Error\(|Exception|object has no attribute|NoneType|not subscriptable"
    r"|unexpected keyword|positional argument|KeyError|IndexError|TypeError|ValueError|AttributeError"
    r"|sqlalchemy|sqlite|psycopg|asyncpg|postgres|\bSELECT\b|\bINSERT\b|\bUPDATE \w+ SET\b|\bWHERE\b|IntegrityError"
)


_arguments_of = GraphQLStrategy.list_of_arguments
_argument_strategies: dict[tuple[int, tuple[tuple[str, int], ...]], tuple[GraphQLStrategy, Any]] = {}


def _cached_arguments(self: GraphQLStrategy, arguments: dict[str, graphql.GraphQLArgument]) -> Any:
    # hypothesis-graphql (0.13.5) builds a new composite strategy for a field's arguments each time
    # it selects the field, and Hypothesis inspects and validates each new one: half the time of a
    # draw. The strategy only depends on the arguments (the schema's own objects), so one for each.
    key = (id(self), tuple((name, id(argument)) for name, argument in arguments.items()))
    if key not in _argument_strategies:
        _argument_strategies[key] = (self, _arguments_of(self, arguments))
    return _argument_strategies[key][1]


GraphQLStrategy.list_of_arguments = _cached_arguments  # type: ignore[method-assign]


def _id_pool() -> list[str]:
    """Ids of every node type for the first few rows: most name something in the test network."""
    types = sorted(
        t.name
        for t in schema._schema.type_map.values()
        if isinstance(t, graphql.GraphQLObjectType) and any(i.name == "Node" for i in t.interfaces)
    )
    return [str(to_global_id(name, n)) for name in types for n in (1, 2, 3, 4)] + [str(to_global_id("Nothing", 1))]


def _strategy() -> st.SearchStrategy[str]:
    ids = st.one_of(st.sampled_from(_id_pool()), st.text(max_size=12)).map(nodes.String)
    moments = st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat())
    scalars = {
        "ID": ids,
        "Date": st.one_of(st.dates().map(lambda d: d.isoformat()), st.text(max_size=12)).map(nodes.String),
        "DateTime": st.one_of(moments, st.text(max_size=12)).map(nodes.String),
    }
    valid = from_schema(schema._schema, custom_scalars=scalars)
    broken = from_schema(schema._schema, custom_scalars=scalars, mode=Mode.NEGATIVE)
    return st.one_of(valid, valid, valid, broken)


class _ToVariables(Visitor):
    """Moves the arguments of an operation's fields into variables, the way clients send them."""

    def __init__(self, type_info: TypeInfo, chosen: random.Random) -> None:
        super().__init__()
        self.type_info = type_info
        self.chosen = chosen
        self.definitions: list[VariableDefinitionNode] = []
        self.values: dict[str, Any] = {}

    def enter_argument(self, node: ArgumentNode, *_: Any) -> ArgumentNode | None:
        argument = self.type_info.get_argument()
        if argument is None or isinstance(node.value, VariableNode) or self.chosen.random() < 0.3:
            return None
        name = f"v{len(self.definitions)}"
        type_ = graphql.parse_type(str(argument.type))
        self.definitions.append(VariableDefinitionNode(variable=VariableNode(name=NameNode(value=name)), type=type_, directives=()))
        self.values[name] = value_from_ast_untyped(node.value)
        return ArgumentNode(name=node.name, value=VariableNode(name=NameNode(value=name)))


def with_variables(text: str, chosen: random.Random) -> tuple[str, dict[str, Any]]:
    document = parse(text)
    mover = _ToVariables(TypeInfo(schema._schema), chosen)
    changed: DocumentNode = visit(document, TypeInfoVisitor(mover.type_info, mover))
    if not mover.definitions:
        return text, {}
    operations = []
    for definition in changed.definitions:
        if isinstance(definition, OperationDefinitionNode):
            definition = OperationDefinitionNode(
                operation=definition.operation,
                name=NameNode(value="Fuzzed"),
                variable_definitions=tuple(mover.definitions),
                directives=definition.directives,
                selection_set=definition.selection_set,
            )
        operations.append(definition)
    return print_ast(DocumentNode(definitions=tuple(operations))), mover.values


def operations(count: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """`count` generated operations, the same ones for the same seed (and schema and libraries).

    Kept in a file in the temporary directory: `make test` runs the suite twice, and the second run
    sends what the first one generated instead of generating it again.
    """
    versions = f"{hypothesis.__version__} {importlib.metadata.version('hypothesis-graphql')}"
    recipe = f"{schema.as_str()}\n{Path(__file__).read_text()}\n{count} {seed} {versions}"
    key = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    kept = Path(tempfile.gettempdir()) / f"referloop-fuzz-{key}.json"
    if kept.exists():
        loaded: list[tuple[str, dict[str, Any]]] = [(text, variables) for text, variables in json.loads(kept.read_text())]
        return loaded
    generated = _generate(count, seed)
    partial = kept.with_suffix(f".{os.getpid()}")
    partial.write_text(json.dumps(generated))
    partial.replace(kept)
    return generated


def _generate(count: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """Drawn straight from the strategy with a seeded random: Hypothesis's test runner, which would
    also replay and mutate each example, takes three times as long for the same count."""
    strategy = _strategy()
    chosen = random.Random(seed)
    generated = []
    for _ in range(count):
        data = ConjectureData(random=chosen, max_choices=100_000)
        with BuildContext(data, wrapped_test=lambda: None):
            text = data.draw(strategy)
        if chosen.random() < 0.5:
            generated.append(with_variables(text, chosen))
        else:
            generated.append((text, {}))
    return generated


def _problems(status: int, text: str) -> list[str]:
    if status >= 500:
        return [f"HTTP {status}"]
    try:
        body = json.loads(text)
    except ValueError:
        return [f"not JSON: {text[:200]}"]
    found = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if not code:
            found.append(f"no code: {error}")
        elif code == "INTERNAL_SERVER_ERROR":
            found.append(f"a crash: {error}")
        if INTERNAL.search(str(error.get("message"))):
            found.append(f"internal words: {error.get('message')}")
    return found


# 2,000 operations take about a minute of CPU; on a machine shared with other work, several of wall clock.
@pytest.mark.timeout(1200)
async def test_generated_operations_as_every_role_never_crash(api: Api, network: Network, db: Database) -> None:
    await add_member(db, CE_MANAGER, organization_id=network.pks["navs"], role=Role.CE_MANAGER, name="Cora Fuzz")
    await add_member(db, ADMIN, organization_id=network.pks["food"], role=Role.ADMIN, name="Ada Fuzz")
    for n in range(3):
        seeker = {"firstName": f"F{n}", "lastName": "Fuzz", "email": f"f{n}@example.com"}
        await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], seeker=seeker)}, as_="navigator@test.example")
    tokens = {role: await api.token(role) for role in ROLES if role is not None}

    started = time.perf_counter()
    generated = operations(OPERATIONS, SEED)
    generating = time.perf_counter() - started
    mutations = sum(text.lstrip().startswith("mutation") for text, _ in generated)
    with_vars = sum(bool(variables) for _, variables in generated)
    assert mutations > OPERATIONS // 5 and with_vars > OPERATIONS // 4

    found: list[str] = []
    retried: list[str] = []
    answered: dict[str, int] = {}
    gate = asyncio.Semaphore(4)

    async def send(n: int, text: str, variables: dict[str, Any]) -> None:
        role = ROLES[n % len(ROLES)]
        headers = {"content-type": "application/json"}
        if role is not None:
            headers["authorization"] = f"Bearer {tokens[role]}"
        body = json.dumps({"query": text, "variables": variables})
        async with gate:
            try:
                response = await api.http.post("/graphql", content=body, headers=headers)
            except httpx.TransportError:
                # uvicorn closes a kept-alive connection after 5 idle seconds; a request sent on it
                # just then finds it gone. Once more on a fresh connection; a second failure counts.
                retried.append(text)
                response = await api.http.post("/graphql", content=body, headers=headers)
        problems = _problems(response.status_code, response.text)
        if problems:
            found.append(f"as {role or 'signed out'}: {problems[0]}\n{text}\nvariables: {json.dumps(variables)[:500]}")
        codes = {(e.get("extensions") or {}).get("code") for e in response.json().get("errors") or []} if response.status_code < 500 else set()
        outcome = "data" if not codes else "/".join(sorted(str(c) for c in codes))
        answered[outcome] = answered.get(outcome, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(send(n, text, variables) for n, (text, variables) in enumerate(generated)))
    sending = time.perf_counter() - started
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(answered.items(), key=lambda kv: -kv[1])[:8])
    report(
        f"fuzzer: {len(generated):,} operations ({mutations:,} mutations, {with_vars:,} with variables) as {len(ROLES)} roles; "
        f"generated in {generating:.1f} s, answered in {sending:.1f} s ({len(retried)} sent again); {outcomes}"
    )
    assert not found, f"{len(found)} problems; the first ones:\n\n" + "\n\n".join(found[:5])
    # The server still answers.
    assert (await api.gql("{ viewer { name } }", as_="navigator@test.example"))["viewer"]["name"] == "Nadia Navigator"
