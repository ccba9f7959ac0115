"""Live delivery under pressure: bounded queues, resync, the replay window, authorization at push."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from collections.abc import AsyncIterator

import pytest

from db.engine import Database
from db.settings import Settings
from resolvers.live.hub import RESYNC, Delivery, referral_changes
from resolvers.live.outbox import prune_events
from resolvers.referrals import create_referral
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer, load_viewer
from tests.documents import CHANGES, CHANGES_WITH_FRAGMENT, CREATE_REFERRAL, new_seeker_referral
from tests.support import Api, GraphQLErrors, Network, pantry_referral, until


@pytest.fixture
async def runtime(settings: Settings, network: Network) -> AsyncIterator[Runtime]:
    # A small queue, so overflowing it takes a handful of referrals rather than hundreds.
    started = Runtime.create(replace(settings, subscriber_queue_size=8))
    await started.start()
    yield started
    await started.stop()


async def _viewer(runtime: Runtime, email: str) -> Viewer:
    from sqlalchemy import select

    from db.accounts import User

    async with runtime.db.read() as s:
        user_id = await s.scalar(select(User.id).where(User.email == email))
        assert user_id is not None, email
        viewer = await load_viewer(s, user_id)
    assert viewer is not None, email
    return viewer


async def test_a_subscriber_that_stops_reading_never_delays_the_others(runtime: Runtime, network: Network) -> None:
    navigator = await _viewer(runtime, "navigator@test.example")
    intake = await _viewer(runtime, "intake@test.example")
    total = runtime.settings.subscriber_queue_size * 2

    stalled = referral_changes(runtime.live, intake, after_seq=None, program_id=None)
    stalled_first = asyncio.create_task(anext(stalled))  # subscribes, then never reads again
    fast = referral_changes(runtime.live, intake, after_seq=None, program_id=None)

    async def read_all() -> list[Delivery]:
        return [await anext(fast) for _ in range(total)]

    reading = asyncio.create_task(read_all())
    await until(lambda: runtime.live.subscriber_count == 2, what="both subscribers to join")
    for n in range(total):
        await create_referral(runtime, navigator, pantry_referral(network, n))

    received = await asyncio.wait_for(reading, 10)
    assert [d.kind for d in received] == ["CREATED"] * total
    assert [d.seq for d in received] == sorted({d.seq for d in received})

    first = await asyncio.wait_for(stalled_first, 5)
    backlog = [first]
    while True:
        try:
            backlog.append(await asyncio.wait_for(anext(stalled), 0.2))
        except TimeoutError:
            break
    assert any(d.kind == RESYNC for d in backlog), "an overflowing subscriber is told to refetch"
    assert len(backlog) <= runtime.settings.subscriber_queue_size + 1
    await stalled.aclose()
    await fast.aclose()


async def test_replay_from_before_the_window_asks_for_a_refetch(api: Api, network: Network, db: Database) -> None:
    for _ in range(3):
        await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    async with db.write() as session:
        assert await prune_events(session, retention_days=0) == 2

    feed = await api.subscribe(CHANGES, {"afterSeq": 0}, as_="intake@test.example")
    first = (await feed.next())["referralChanged"]
    assert first["kind"] == "RESYNC" and first["referral"] is None
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    after = (await feed.next())["referralChanged"]
    assert after["kind"] == "CREATED" and after["seq"] > first["seq"]
    await feed.close()


async def test_program_filter_narrows_the_stream(api: Api, network: Network) -> None:
    feed = await api.subscribe(CHANGES, {"programId": network["clinic_program"]}, as_="navigator@test.example")
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    clinic = await api.gql(
        CREATE_REFERRAL,
        {"input": new_seeker_referral(network["clinic_program"], screenerAnswers=[])},
        as_="navigator@test.example",
    )
    pushed = (await feed.next())["referralChanged"]
    assert pushed["referral"]["id"] == clinic["createReferral"]["id"]
    await feed.nothing()
    await feed.close()


async def test_a_removed_membership_stops_the_pushes(api: Api, network: Network, db: Database) -> None:
    from sqlalchemy import delete, select

    from db.accounts import Membership, User

    feed = await api.subscribe(CHANGES, as_="intake@test.example")
    # Live first (one event through), so that the stream surely opened with the membership.
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    await feed.next(timeout=10)
    async with db.write() as session:
        intake = await session.scalar(select(User.id).where(User.email == "intake@test.example"))
        await session.execute(delete(Membership).where(Membership.user_id == intake))
    # The hub re-reads subscribers' memberships (every 0.5 s in the tests) and ends this stream.
    with pytest.raises(GraphQLErrors) as ended:
        await feed.next(timeout=5)
    assert ended.value.codes == ["UNAUTHENTICATED"]
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    await feed.close()


async def test_an_event_is_rendered_once_per_audience(runtime: Runtime, network: Network) -> None:
    """A thousand program dashboards cost one rendering per event, not a thousand."""
    from schema import schema
    from schema.context import Context

    intake = await _viewer(runtime, "intake@test.example")
    navigator = await _viewer(runtime, "navigator@test.example")
    streams = [
        await schema.subscribe(CHANGES_WITH_FRAGMENT, variable_values=variables, context_value=Context(runtime=runtime, request=None, viewer=v))  # type: ignore[arg-type]
        for variables, v in (({"afterSeq": 0}, intake), ({}, intake), ({}, navigator))
    ]
    firsts = [asyncio.create_task(anext(s)) for s in streams]
    await until(lambda: runtime.live.subscriber_count == 3, what="the three subscriptions to join")
    await create_referral(runtime, navigator, pantry_referral(network, 1))
    first_intake, second_intake, first_navigator = [await asyncio.wait_for(f, 5) for f in firsts]
    assert first_intake.data is second_intake.data, "same audience, different afterSeq: one rendering"
    assert first_navigator.data is not first_intake.data
    # The seeker chose not to be reached: the navigator who entered the details sees them, the program not.
    assert first_navigator.data is not None and first_intake.data is not None
    assert first_navigator.data["referralChanged"]["referral"]["seeker"]["email"] == "p1@example.com"
    assert first_intake.data["referralChanged"]["referral"]["seeker"]["email"] is None
    for stream in streams:
        await stream.aclose()


async def test_switching_organization_ends_the_stream_opened_for_the_other(api: Api, network: Network) -> None:
    """A dashboard never keeps receiving under the organization it was opened with."""
    both = "both@test.example"
    feed = await api.subscribe(CHANGES, as_=both)
    await api.gql(
        "mutation($id: ID!) { switchOrganization(organizationId: $id) { organization { name } } }",
        {"id": network["food"]},
        as_=both,
    )
    with pytest.raises(GraphQLErrors) as ended:
        await feed.next(timeout=5)
    assert ended.value.codes == ["UNAUTHENTICATED"]
    await feed.close()


async def test_a_change_made_here_is_pushed_from_what_it_committed_and_one_made_elsewhere_is_read(
    runtime: Runtime, network: Network, settings: Settings
) -> None:
    """The hub pushes this process's own change from the referral its transaction left, without reading it again."""
    from db.referrals import ReferralStatus
    from resolvers.referrals import update_referral_status
    from tests.test_lists import count_statements

    navigator = await _viewer(runtime, "navigator@test.example")
    intake = await _viewer(runtime, "intake@test.example")
    before = runtime.live.last_seq
    referral = await create_referral(runtime, navigator, pantry_referral(network, 1))
    await until(lambda: runtime.live.last_seq > before, what="the creation to be dispatched")
    stream = referral_changes(runtime.live, intake, after_seq=None, program_id=None)
    first = asyncio.create_task(anext(stream))
    await until(lambda: runtime.live.subscriber_count == 1, what="the subscriber to join")

    with count_statements(runtime.db) as statements:
        changed = await update_referral_status(
            runtime, intake, referral_id=referral.id, status=ReferralStatus.PENDING, expected_version=referral.version, note=None
        )
        pushed = await asyncio.wait_for(first, 10)
    assert pushed.referral is not None and (pushed.referral.status, pushed.referral.version) == (ReferralStatus.PENDING, changed.version)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM referrals" in s]
    # The change's own two (the referral it checks, the referral it answers); none from the hub.
    assert len(reads) == 2, reads

    # Another process's change (here, another runtime on the same database): the hub reads it.
    elsewhere = Runtime.create(settings)
    try:
        await update_referral_status(
            elsewhere, intake, referral_id=referral.id, status=ReferralStatus.ELIGIBLE, expected_version=changed.version, note=None
        )
    finally:
        await elsewhere.db.dispose()
    await runtime.live.ring()
    read = await asyncio.wait_for(anext(stream), 10)
    assert read.referral is not None and read.referral.status is ReferralStatus.ELIGIBLE
    await stream.aclose()
