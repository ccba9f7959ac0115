"""A rate of operation cost per caller: a token bucket per user (or address), RATE_LIMITED when empty."""

from __future__ import annotations

import dataclasses

import pytest

from db.accounts import Role
from db.settings import Settings
from resolvers.rate_limit import CostBuckets, Rate, rates_of
from schema.cost import BUDGETS
from tests.support import Api, GraphQLErrors, Network
from tests.test_cost import DOCUMENTS, cost

NAVIGATOR = "navigator@test.example"
INTAKE = "intake@test.example"
# 1 + 100 * 3: three of them fit a bucket of 1,000, a fourth does not.
HUNDRED_PEOPLE = "{ peopleImHelping(first: 100) { edges { node { id } } } }"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Small buckets that refill slowly, so that a test empties one in a few requests.
    return dataclasses.replace(
        settings,
        rate_limit_worker_burst=1_000,
        rate_limit_worker_per_second=1,
        rate_limit_signed_out_burst=5,
        rate_limit_signed_out_per_second=0.5,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_pays_until_empty_then_says_when_to_retry_and_refills() -> None:
    clock = Clock()
    buckets = CostBuckets({None: Rate(burst=100, per_second=10)}, clock=clock)
    assert buckets.charge("a", None, 60) is None
    assert buckets.charge("a", None, 60) == pytest.approx(2.0)  # 40 left, 20 more at 10 a second
    assert buckets.charge("b", None, 60) is None  # every caller has a bucket of their own
    clock.now = 1.0
    assert buckets.charge("a", None, 60) == pytest.approx(1.0)  # a refusal took nothing
    clock.now = 2.0
    assert buckets.charge("a", None, 60) is None
    clock.now = 1000.0
    assert buckets.charge("a", None, 100) is None  # refilled to the burst, never beyond
    assert buckets.charge("a", None, 1) is not None
    # A burst of 0 is no limit.
    assert CostBuckets({None: Rate(burst=0, per_second=0)}, clock=clock).charge("a", None, 10**9) is None


async def test_an_empty_bucket_refuses_with_429_and_retry_after(server: str, api: Api, network: Network) -> None:
    assert cost(HUNDRED_PEOPLE) == 301
    for _ in range(3):
        await api.gql(HUNDRED_PEOPLE, as_=NAVIGATOR)
    headers = {"authorization": f"Bearer {await api.token(NAVIGATOR)}"}
    response = await api.http.post("/graphql", json={"query": HUNDRED_PEOPLE}, headers=headers)
    assert response.status_code == 429
    body = response.json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry = error["extensions"]["retryAfter"]
    assert isinstance(retry, int) and 1 <= retry <= 210  # 204 short, at 1 a second
    assert response.headers["retry-after"] == str(retry)
    assert body.get("data") is None
    # A cheap operation still fits what is left; another user's bucket is full.
    assert (await api.gql("{ viewer { id } }", as_=NAVIGATOR))["viewer"]["id"]
    assert (await api.gql(HUNDRED_PEOPLE.replace("peopleImHelping", "inboundReferrals"), as_=INTAKE))["inboundReferrals"]


async def test_signed_out_callers_share_their_addresss_bucket(api: Api, network: Network) -> None:
    document = "{ viewer { id name } }"  # 3
    assert (await api.gql(document))["viewer"] is None
    errors = await api.errors(document)
    assert errors.codes == ["RATE_LIMITED"]
    # Signing in is a bucket of one's own.
    assert (await api.gql(document, as_=NAVIGATOR))["viewer"]["name"]


SUBSCRIPTION = "subscription { referralChanged { seq kind referral { id status } } }"


async def test_a_subscription_is_charged_when_it_subscribes(api: Api, network: Network) -> None:
    assert cost(SUBSCRIPTION) == 6
    first = await api.subscribe(SUBSCRIPTION, as_=NAVIGATOR)
    await first.close()
    # Empty the bucket: three dear queries, then cheap ones until one is refused.
    for _ in range(3):
        await api.gql(HUNDRED_PEOPLE, as_=NAVIGATOR)
    for _ in range(100):
        body = await api.raw("{ viewer { id } }", as_=NAVIGATOR)
        if body.get("errors"):
            assert [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"]
            break
    else:
        raise AssertionError("the bucket never emptied")
    refused = await api.subscribe(SUBSCRIPTION, as_=NAVIGATOR)
    try:
        with pytest.raises(GraphQLErrors) as error:
            await refused.next()
        assert error.value.codes == ["RATE_LIMITED"]
        assert error.value.errors[0]["extensions"]["retryAfter"] >= 1
    finally:
        await refused.close()


def test_the_default_rates_leave_the_dashboards_room() -> None:
    """The reasoning behind the defaults (README, "Limits"), checked against the dashboards' documents."""
    rates = rates_of(Settings())
    costs = {name: cost(document) for name, document in DOCUMENTS.items()}
    largest = max(costs.values())
    worker, seeker = rates[Role.NAVIGATOR], rates[Role.SEEKER]
    # A navigator may reload People I'm Helping (the largest document) ten times in a row, then once
    # every ten seconds for as long as they like; the wall refetches (debounced, 400 ms) its board
    # two and a half times a second at most.
    assert 10 * largest <= worker.burst and largest / worker.per_second <= 10
    assert 2.5 * costs["pages/Wall.svelte:WALLBOARD"] <= worker.per_second
    # The seeker's page, twenty times in a row, then every four seconds.
    seeker_page = costs["pages/Seeker.svelte:QUERY"]
    assert 20 * seeker_page <= seeker.burst and seeker_page / seeker.per_second <= 4
    # Every bucket holds at least one operation at its role's budget.
    for role, rate in rates.items():
        assert rate.burst >= BUDGETS[role]
