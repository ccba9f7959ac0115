"""The dashboards' lists: search, keyset pages, counts, the profile typeahead, and their SQL cost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select, update

from db.engine import Database
from db.seekers import ContactPreference, Seeker
from db.settings import Settings
from resolvers.referrals import create_referral_in
from resolvers.runtime import Runtime
from resolvers.viewer import load_viewer
from schema import schema
from schema.context import Context
from tests.documents import CREATE_REFERRAL, INBOUND, UPDATE_STATUS, new_seeker_referral
from tests.support import Api, Network, pantry_referral

NAVIGATOR = "navigator@test.example"
INTAKE = "intake@test.example"
PROGRAMS = """
query($search: String, $category: ProgramCategory, $postalCode: String, $first: Int, $after: String) {
  programs(search: $search, category: $category, postalCode: $postalCode, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { name connectMode acceptsReferrals categories } }
  }
}
"""


async def _names(api: Api, **variables: object) -> list[str]:
    data = await api.gql(PROGRAMS, variables)
    return [e["node"]["name"] for e in data["programs"]["edges"]]


async def test_program_search_by_text_category_and_postal_code(api: Api, network: Network) -> None:
    assert await _names(api) == ["Harbor Pantry", "Harbor SNAP Help", "Northside Primary Care"]
    assert await _names(api, search="harbor") == ["Harbor Pantry", "Harbor SNAP Help"]
    assert await _names(api, search="groceries") == ["Harbor Pantry"]
    assert await _names(api, category="HEALTH") == ["Northside Primary Care"]
    # The pantry serves 90012 only; the others serve everywhere.
    assert await _names(api, postalCode="90012") == ["Harbor Pantry", "Harbor SNAP Help", "Northside Primary Care"]
    assert await _names(api, postalCode="10001") == ["Harbor SNAP Help", "Northside Primary Care"]
    errors = await api.errors(PROGRAMS, {"postalCode": "ABCDE"})
    assert errors.codes == ["BAD_USER_INPUT"] and "ZIP" in errors.errors[0]["message"]


async def test_program_pages_follow_on_without_gaps_or_repeats(api: Api, network: Network) -> None:
    names: list[str] = []
    after = None
    while True:
        page = (await api.gql(PROGRAMS, {"first": 1, "after": after}))["programs"]
        names += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert names == await _names(api)


async def test_inbound_referrals_filters_counts_and_pages(api: Api, network: Network) -> None:
    ids = []
    for _ in range(5):
        created = await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR)
        ids.append(created["createReferral"]["id"])
    await api.gql(UPDATE_STATUS, {"input": {"referralId": ids[0], "status": "ELIGIBLE", "expectedVersion": 1}}, as_=INTAKE)

    everything = (await api.gql(INBOUND, {"first": 2}, as_=INTAKE))["inboundReferrals"]
    assert (everything["notUpdatedCount"], everything["totalCount"]) == (4, 5)
    assert [e["node"]["id"] for e in everything["edges"]] == ids[::-1][:2]
    rest = (await api.gql(INBOUND, {"first": 10, "after": everything["pageInfo"]["endCursor"]}, as_=INTAKE))["inboundReferrals"]
    assert [e["node"]["id"] for e in rest["edges"]] == ids[::-1][2:]
    assert rest["pageInfo"]["hasNextPage"] is False

    eligible = (await api.gql(INBOUND, {"status": "ELIGIBLE"}, as_=INTAKE))["inboundReferrals"]
    assert [e["node"]["id"] for e in eligible["edges"]] == [ids[0]]
    assert (eligible["notUpdatedCount"], eligible["totalCount"]) == (4, 1)
    other_program = (await api.gql(INBOUND, {"programId": network["snap"]}, as_=INTAKE))["inboundReferrals"]
    assert other_program["edges"] == [] and other_program["notUpdatedCount"] == 0


async def test_profile_typeahead_searches_only_the_300_most_recently_updated(
    api: Api, network: Network, db: Database
) -> None:
    async with db.write() as session:
        navigator = await load_viewer(session, 1)
        assert navigator is not None and navigator.email == NAVIGATOR
        for n in range(301):
            email = "oldest@example.com" if n == 0 else f"person{n}@example.com"
            session.add(Seeker(first_name=f"Person{n}", last_name="Zed", email=email, contact_preference="EMAIL", created_by_user_id=1))
        await session.flush()
        oldest = await session.scalar(select(Seeker).where(Seeker.email == "oldest@example.com"))
        assert oldest is not None
        await session.execute(update(Seeker).where(Seeker.id == oldest.id).values(updated_at=oldest.updated_at.replace(year=2020)))
    query = "query($s: String) { seekerProfiles(search: $s, first: 5) { edges { node { firstName email } } } }"
    found = (await api.gql(query, {"s": "zed"}, as_=NAVIGATOR))["seekerProfiles"]["edges"]
    assert len(found) == 5
    assert (await api.gql(query, {"s": "oldest"}, as_=NAVIGATOR))["seekerProfiles"]["edges"] == []
    assert (await api.gql(query, {"s": "person300"}, as_=NAVIGATOR))["seekerProfiles"]["edges"][0]["node"]["email"] == (
        "person300@example.com"
    )
    errors = await api.errors(query, {"s": "zed"}, as_=INTAKE)
    assert errors.codes == ["FORBIDDEN"]


@contextmanager
def count_statements(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def test_an_inbound_page_costs_the_same_few_statements_however_long(settings: Settings, network: Network) -> None:
    runtime = Runtime.create(settings)
    async with runtime.db.write() as session:
        navigator = await load_viewer(session, 1)
        assert navigator is not None
        for n in range(60):
            await create_referral_in(
                session, navigator, pantry_referral(network, n, contact_preference=ContactPreference.EMAIL, comment="Hi")
            )
    async with runtime.db.read() as session:
        intake = await load_viewer(session, 5)
    assert intake is not None and intake.email == INTAKE

    costs = {}
    for first in (5, 50):
        with count_statements(runtime.db) as statements:
            result = await schema.execute(
                INBOUND, {"first": first}, context_value=Context(runtime=runtime, request=None, viewer=intake)  # type: ignore[arg-type]
            )
        assert result.errors is None and result.data is not None and len(result.data["inboundReferrals"]["edges"]) == first
        costs[first] = len([s for s in statements if s.lstrip().upper().startswith("SELECT")])
    await runtime.db.dispose()
    # 8, and the programs' HSDS details (locations, phones, schedules, languages: db.programs.DETAILS_LOAD).
    assert costs[5] == costs[50] <= 12, costs
