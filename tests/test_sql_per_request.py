"""SQL statements per request do not grow with the number of parents: nested lists load through DataLoaders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from db.accounts import Role, User
from db.engine import Database
from db.seekers import ContactPreference
from db.settings import Settings
from resolvers.referrals import NewReferral, create_referral_in
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer, load_viewer
from schema import schema
from schema.context import Context
from tests.documents import INBOUND, PEOPLE, UPDATE_STATUS
from tests.support import Api, Network, add_member, pantry_referral
from tests.test_cost import DOCUMENTS, cost
from tests.test_lists import count_statements

NAVIGATOR = "navigator@test.example"
INTAKE = "intake@test.example"
CE = "ce@test.example"
BUDGET = 200_000

# The attack shapes at the largest size the cost bound lets through.
PEOPLE_ALIAS = (
    "peopleImHelping(first: 47) { edges { node { id referrals(first: 5) { edges { node {"
    " id history { id } comments { id } seeker { id } } } } } } }"
)
PEOPLE_ATTACK = "query { " + " ".join(f"a{i}: {PEOPLE_ALIAS}" for i in range(30)) + " }"
INBOUND_ATTACK = """
query { inboundReferrals(first: 73) { edges { node { id seeker { id referrals(first: 100) { edges { node {
  id history { id } comments { id } seeker { id } } } } } } } } }
"""
WALL_ATTACK = """
query { wallboard(cocCode: "XX-500") { changesToday(first: 100) { seq referral { id status seekerInitials program { name } } } } }
"""


async def _seed(runtime: Runtime, network: Network, numbers: range) -> None:
    """A live referral of a new person per number, and for each a second one, to the clinic (the pantry's staff cannot see it)."""
    async with runtime.db.read() as session:
        navigator = await load_viewer(session, 1)
    assert navigator is not None and navigator.email == NAVIGATOR
    for n in numbers:
        # A transaction each: one session holding them all would reload ever more on every referral.
        async with runtime.db.write() as session:
            first = await create_referral_in(
                session, navigator, pantry_referral(network, n, contact_preference=ContactPreference.EMAIL, comment="Hi")
            )
            await create_referral_in(
                session,
                navigator,
                NewReferral(program_id=network.pks["clinic_program"], seeker_id=first.seeker_id, consent=True, comment="Also"),
            )


async def _viewer(runtime: Runtime, email: str) -> Viewer:
    async with runtime.db.read() as session:
        user_id = await session.scalar(select(User.id).where(User.email == email))
        assert user_id is not None
        viewer = await load_viewer(session, user_id)
    assert viewer is not None
    return viewer


async def _statements(runtime: Runtime, viewer: Viewer, document: str, variables: dict[str, Any] | None = None) -> tuple[int, Any]:
    with count_statements(runtime.db) as statements:
        result = await schema.execute(document, variables, context_value=Context(runtime=runtime, request=None, viewer=viewer))  # type: ignore[arg-type]
    assert result.errors is None, result.errors
    return len(statements), result.data


def _edges(data: Any, *path: str) -> list[Any]:
    for key in path:
        data = data[key]
    assert isinstance(data, list)
    return data


async def test_statements_per_request_do_not_grow_with_the_parents(settings: Settings, network: Network) -> None:
    runtime = Runtime.create(settings)
    await add_member(runtime.db, CE, organization_id=network.pks["navs"], role=Role.CE_MANAGER, name="Cora CE")
    navigator, intake, ce = await _viewer(runtime, NAVIGATOR), await _viewer(runtime, INTAKE), await _viewer(runtime, CE)
    for document in (PEOPLE_ATTACK, INBOUND_ATTACK, WALL_ATTACK):
        assert cost(document) <= BUDGET, cost(document)
    cases = {
        "tests/documents.py INBOUND": (intake, INBOUND, {"first": 50}, ("inboundReferrals", "edges")),
        "tests/documents.py PEOPLE": (navigator, PEOPLE, None, ("peopleImHelping", "edges")),
        "Navigator.svelte PEOPLE": (navigator, DOCUMENTS["pages/Navigator.svelte:PEOPLE"], None, ("peopleImHelping", "edges")),
        "Program.svelte INBOUND": (intake, DOCUMENTS["pages/Program.svelte:INBOUND"], {}, ("inboundReferrals", "edges")),
        "Wall.svelte WALLBOARD": (ce, DOCUMENTS["pages/Wall.svelte:WALLBOARD"], {"cocCode": "XX-500"}, ("wallboard", "changesToday")),
        "30 aliases of peopleImHelping": (navigator, PEOPLE_ATTACK, None, ("a29", "edges")),
        "inboundReferrals' seekers' referrals": (intake, INBOUND_ATTACK, None, ("inboundReferrals", "edges")),
        "the wall's changes": (ce, WALL_ATTACK, None, ("wallboard", "changesToday")),
    }
    counts: dict[str, list[int]] = {name: [] for name in cases}
    sizes: dict[str, list[int]] = {name: [] for name in cases}
    for numbers in (range(5), range(5, 50)):
        await _seed(runtime, network, numbers)
        for name, (viewer, document, variables, path) in cases.items():
            count, data = await _statements(runtime, viewer, document, variables)
            counts[name].append(count)
            sizes[name].append(len(_edges(data, *path)))
    await runtime.db.dispose()
    # Every list grew (5 people, then 50, or the page's size), yet no request costs a statement more.
    assert all(small < large for small, large in sizes.values()), sizes
    assert {name: small for name, (small, _) in counts.items()} == {name: large for name, (_, large) in counts.items()}, counts


async def test_the_nested_lists_answer_as_each_viewer_may_see_them(settings: Settings, network: Network) -> None:
    runtime = Runtime.create(settings)
    await _seed(runtime, network, range(3))
    navigator, intake = await _viewer(runtime, NAVIGATOR), await _viewer(runtime, INTAKE)
    _, seen_by_intake = await _statements(runtime, intake, INBOUND_ATTACK)
    _, seen_by_navigator = await _statements(
        runtime, navigator, "query { peopleImHelping(first: 10) { edges { node { id referrals(first: 10, after: null) { edges { node { id program { name } } } } } } } }"
    )
    await runtime.db.dispose()
    # The pantry's staff see each person's pantry referral only; the navigator sees both of each person's.
    for edge in seen_by_intake["inboundReferrals"]["edges"]:
        assert len(edge["node"]["seeker"]["referrals"]["edges"]) == 1
    for edge in seen_by_navigator["peopleImHelping"]["edges"]:
        assert len(edge["node"]["referrals"]["edges"]) == 2


EVENT_WITH_LISTS = """
subscription { referralChanged { seq kind referral { id status seeker { id referrals { edges { node { id status program { name } } } } } } } }
"""


async def _event_with_status(subscription: Any, referral_id: str, status: str) -> dict[str, Any]:
    """The next event that shows this referral in this status (the creations before it are pushed too)."""
    while True:
        event: dict[str, Any] = (await subscription.next())["referralChanged"]
        if event["referral"]["id"] == referral_id and event["referral"]["status"] == status:
            return event


async def test_each_pushed_event_loads_its_lists_afresh_for_each_audience(api: Api, network: Network) -> None:
    """A subscription's loaders are the event's own: nothing from an earlier event, nothing from another viewer."""
    navigator = await api.subscribe(EVENT_WITH_LISTS, as_=NAVIGATOR)
    intake = await api.subscribe(EVENT_WITH_LISTS, as_=INTAKE)
    try:
        created = await api.gql(
            "mutation($input: CreateReferralInput!) { createReferral(input: $input) { id version } }",
            {"input": {"programId": network["pantry"], "seekerId": network["sam"], "contactPreference": "EMAIL", "consent": True,
                       "screenerAnswers": [{"key": "household_size", "value": "2"}, {"key": "has_income", "value": "No"}]}},
            as_=NAVIGATOR,
        )
        pantry = created["createReferral"]
        await api.gql(
            "mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }",
            {"input": {"programId": network["clinic_program"], "seekerId": network["sam"], "consent": True}},
            as_=NAVIGATOR,
        )
        version = pantry["version"]
        for status in ("PENDING", "ELIGIBLE"):
            await api.gql(UPDATE_STATUS, {"input": {"referralId": pantry["id"], "status": status, "expectedVersion": version}}, as_=INTAKE)
            version += 1
            for subscription, programs in ((navigator, {"Harbor Pantry", "Northside Primary Care"}), (intake, {"Harbor Pantry"})):
                event = await _event_with_status(subscription, pantry["id"], status)
                listed = [e["node"] for e in event["referral"]["seeker"]["referrals"]["edges"]]
                # Each viewer's own: the pantry's staff never see the clinic referral.
                assert {r["program"]["name"] for r in listed} == programs
                # This event's status, not what an earlier event loaded.
                assert next(r["status"] for r in listed if r["id"] == pantry["id"]) == status
    finally:
        await navigator.close()
        await intake.close()


def test_the_attack_shapes_are_the_largest_the_budget_allows() -> None:
    assert cost(PEOPLE_ATTACK) <= BUDGET < cost(PEOPLE_ATTACK.replace("referrals(first: 5)", "referrals(first: 6)"))
    assert cost(INBOUND_ATTACK) <= BUDGET < cost(INBOUND_ATTACK.replace("first: 73", "first: 74"))


ENROLLMENTS = """
query { enrollments(first: 50) { edges { node { id seeker { id firstName email } household { id seeker { id firstName } } } } } }
"""


async def test_enrollments_load_their_people_and_households_in_one_batch(
    api: Api, network: Network, db: Database, settings: Settings
) -> None:
    from tests.test_enrollments import CLINIC, ENROLL, _household, _housing

    await _housing(db, network)
    runtime = Runtime.create(settings)
    clinic = await _viewer(runtime, CLINIC)
    counts: list[int] = []
    sizes: list[int] = []
    for households in (1, 4):
        while len(sizes) < households:
            await api.gql(ENROLL, {"input": await _household(api, network)}, as_=CLINIC)
            sizes.append(1)
        count, data = await _statements(runtime, clinic, ENROLLMENTS)
        edges = data["enrollments"]["edges"]
        assert len(edges) == 2 * households and all(len(e["node"]["household"]) == 2 for e in edges)
        assert all(e["node"]["seeker"]["firstName"] in ("Ana", "Leo") for e in edges)
        counts.append(count)
    await runtime.db.dispose()
    assert counts[0] == counts[1], counts
