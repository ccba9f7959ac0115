"""The cost bound (schema/cost.py): costly operations are refused before anything runs; the dashboards' are not."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import parse
from sqlalchemy import event
from sqlalchemy.engine import Engine

from db.accounts import Role
from schema import schema
from schema.cost import BUDGETS, LIST_SIZE, QUERY_TOO_COSTLY, operation_cost
from tests.support import Api, GraphQLErrors, Network

NAVIGATOR = "navigator@test.example"
APP = Path(__file__).resolve().parent.parent / "web" / "app" / "src"

ATTACK_ALIAS = (
    "peopleImHelping(first: 100) { edges { node { referrals(first: 100) { edges { node {"
    " history { id } comments { id } seeker { id } } } } } } }"
)
ATTACK = "query { " + " ".join(f"a{i}: {ATTACK_ALIAS}" for i in range(30)) + " }"


def cost(document: str, variables: dict[str, Any] | None = None, operation_name: str | None = None) -> int:
    return operation_cost(schema._schema, parse(document), variables, operation_name)


def _dashboard_documents() -> dict[str, str]:
    """Every operation the dashboards send: template literals in web/app/src, `${FRAGMENT}`s expanded."""
    constants: dict[str, tuple[Path, str]] = {}
    for path in sorted(APP.rglob("*")):
        if path.suffix in (".js", ".svelte"):
            for match in re.finditer(r"(?:export\s+)?const\s+(\w+)\s*=\s*`([^`]*)`", path.read_text()):
                constants[match.group(1)] = (path, match.group(2))

    def expand(text: str) -> str:
        return re.sub(r"\$\{(\w+)\}", lambda m: expand(constants[m.group(1)][1]), text)

    documents = {}
    for name, (path, text) in constants.items():
        document = expand(text).strip()
        if re.match(r"(query|mutation|subscription)\b", document):
            documents[f"{path.relative_to(APP)}:{name}"] = document
    return documents


DOCUMENTS = _dashboard_documents()


def test_the_dashboards_documents_are_all_found() -> None:
    assert len(DOCUMENTS) >= 40
    assert any("peopleImHelping" in d for d in DOCUMENTS.values())


@pytest.mark.parametrize("name", DOCUMENTS, ids=list(DOCUMENTS))
def test_every_dashboard_document_fits_its_roles_budget(name: str) -> None:
    # The seeker's page is the only one a seeker uses; every other page is a worker's.
    role = Role.SEEKER if name.startswith("pages/Seeker.svelte") else Role.NAVIGATOR
    budget = min(b for r, b in BUDGETS.items() if r is not None and r is not Role.SEEKER) if role is Role.NAVIGATOR else BUDGETS[role]
    assert cost(DOCUMENTS[name]) <= budget


def test_the_largest_dashboard_document_has_room_to_grow() -> None:
    largest = max(cost(d) for d in DOCUMENTS.values())
    assert largest * 1.3 <= BUDGETS[Role.NAVIGATOR]


def test_fields_lists_and_first_multiply_down_the_tree() -> None:
    assert cost("{ viewer { id name } }") == 3
    # 1 for the connection, then 7 per person: edges, node, id, and the referrals connection with 3 per referral.
    people = "{ peopleImHelping(first: 4) { edges { node { id referrals(first: 2) { edges { node { id } } } } } } }"
    assert cost(people) == 1 + 4 * (1 + 1 + 1 + 1 + 2 * 3)
    # The argument's default (50) when `first` is not given; a list without `first` counts LIST_SIZE.
    assert cost("{ peopleImHelping { edges { node { id } } } }") == 1 + 50 * 3
    assert cost("{ viewer { memberships { role } } }") == 1 + 1 + LIST_SIZE * 1
    assert cost("{ __typename viewer { __typename id } }") == 2


def test_fragments_inline_fragments_and_variables_count_like_the_fields_they_stand_for() -> None:
    plain = "{ peopleImHelping(first: 7) { edges { node { id referrals(first: 3) { edges { node { id status } } } } } } }"
    with_fragments = """
    query People($n: Int, $m: Int = 3) { peopleImHelping(first: $n) { ...Page } }
    fragment Page on PeopleImHelpingConnection { edges { node { ... on Seeker { id ...Refs } } } }
    fragment Refs on Seeker { referrals(first: $m) { edges { node { ...R } } } }
    fragment R on Referral { id status }
    """
    assert cost(with_fragments, {"n": 7}) == cost(plain)
    assert cost(with_fragments, {"n": 7, "m": 30}) > cost(plain)
    # An unset variable falls back to the argument's default.
    assert cost(with_fragments, {}) == cost(plain.replace("first: 7", "first: 50"))
    # A fragment spread twice counts twice.
    twice = "{ viewer { ...V } again: viewer { ...V } } fragment V on Viewer { id name }"
    assert cost(twice) == 2 * cost("{ viewer { id name } }")


def test_the_operation_named_is_the_one_counted() -> None:
    document = "query Small { viewer { id } } query Big { peopleImHelping(first: 100) { edges { node { id } } } }"
    assert cost(document, operation_name="Small") == 2
    assert cost(document, operation_name="Big") == 1 + 100 * 3


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement run while the test runs (the server runs in the test's process)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


async def test_the_issues_attack_is_refused_before_anything_runs(api: Api, network: Network, statements: list[str]) -> None:
    await api.gql("{ viewer { id } }", as_=NAVIGATOR)
    statements.clear()
    await api.gql("{ __typename }", as_=NAVIGATOR)
    baseline = len(statements)  # what signing the request in costs

    statements.clear()
    # CPU time, the client's and the server's (one process): on a shared machine the wall clock
    # also counts the time others had the cores.
    started = time.process_time()
    errors = await api.errors(ATTACK, as_=NAVIGATOR)
    elapsed = time.process_time() - started
    assert errors.codes == [QUERY_TOO_COSTLY]
    message = errors.errors[0]["message"]
    assert f"{cost(ATTACK):,}" in message and f"{BUDGETS[Role.NAVIGATOR]:,}" in message
    assert errors.errors[0]["extensions"]["cost"] == cost(ATTACK)
    assert len(statements) == baseline, statements  # no resolver ran a statement
    assert elapsed < 0.1, f"refused in {elapsed * 1000:.0f} ms of CPU"


async def test_one_alias_of_the_attack_is_already_over_the_budget(api: Api, network: Network) -> None:
    errors = await api.errors("query { " + ATTACK_ALIAS + " }", as_=NAVIGATOR)
    assert errors.codes == [QUERY_TOO_COSTLY]


async def test_the_budget_follows_the_viewers_role_and_variables(api: Api, network: Network) -> None:
    document = (
        "query P($n: Int) { peopleImHelping(first: $n) { edges { node { id referrals(first: 100) { edges { node {"
        " id history { id } comments { id } } } } } } } }"
    )
    assert cost(document, {"n": 5}) <= BUDGETS[Role.NAVIGATOR] < cost(document, {"n": 100})
    assert BUDGETS[None] < cost(document, {"n": 5})
    assert (await api.gql(document, {"n": 5}, as_=NAVIGATOR))["peopleImHelping"]["edges"] == []
    errors = await api.errors(document, {"n": 100}, as_=NAVIGATOR)
    assert errors.codes == [QUERY_TOO_COSTLY]
    # Not signed in, the budget is smaller, and signing in is what raises it.
    errors = await api.errors(document, {"n": 5})
    assert errors.codes == ["UNAUTHENTICATED"]
    assert "sign in" in errors.errors[0]["message"] and f"{BUDGETS[None]:,}" in errors.errors[0]["message"]
    assert errors.errors[0]["extensions"]["budget"] == BUDGETS[None]


async def test_the_navigators_dashboard_document_runs(api: Api, network: Network) -> None:
    document = DOCUMENTS["pages/Navigator.svelte:PEOPLE"]
    data = await api.gql(document, as_=NAVIGATOR)
    assert "peopleImHelping" in data


COSTLY_SUBSCRIPTION = """
subscription { referralChanged { seq referral { seeker { referrals(first: 100) { edges { node {
  seeker { referrals(first: 100) { edges { node { id history { id } comments { id } } } } }
} } } } } } }
"""


async def test_a_costly_subscription_is_refused_over_the_websocket(api: Api, network: Network) -> None:
    assert cost(COSTLY_SUBSCRIPTION) > BUDGETS[Role.NAVIGATOR]
    subscription = await api.subscribe(COSTLY_SUBSCRIPTION, as_=NAVIGATOR)
    try:
        with pytest.raises(GraphQLErrors) as refused:
            await subscription.next()
        assert refused.value.codes == [QUERY_TOO_COSTLY]
    finally:
        await subscription.close()
