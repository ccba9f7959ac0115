"""Several server processes over one PostgreSQL and one Redis, as `referloop serve --workers N` runs them.

Two `referloop serve` processes stand for two workers (each on its own port, so a test can choose
which one a dashboard talks to). Their polling is set to a minute: whatever arrives sooner came by
the doorbell through Redis.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from db.settings import ROOT, Settings
from tests.conftest import POSTGRES
from tests.documents import CREATE_REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.processes import ServerProcess, eventually, server_env
from tests.support import Api, Network, Subscription

NAVIGATOR = "navigator@test.example"
INTAKE = "intake@test.example"
SLOW_POLL = {"LIVE_POLL_SECONDS": "60"}
INBOUND = "query Inbound { inboundReferrals(first: 1) { lastSeq } }"
needs_postgres_and_redis = pytest.mark.skipif(
    POSTGRES is None, reason="several workers need PostgreSQL and Redis: this is the SQLite pass (the refusal is tested instead)"
)


def _serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "serve", "--port", "0", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_several_workers_on_sqlite_are_refused_at_start(settings: Settings, tmp_path: Path) -> None:
    env = server_env(settings, tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'one.sqlite3'}")
    done = _serve(env, "--workers", "2")
    assert done.returncode != 0
    assert "2 workers need PostgreSQL" in done.stderr, done.stderr


def test_several_workers_with_the_in_process_bus_are_refused_at_start(settings: Settings, tmp_path: Path) -> None:
    # Refused before anything connects: the database need not even be there.
    env = server_env(settings, tmp_path, DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/none", BROADCAST_URL="memory://")
    done = _serve(env, "--workers", "3")
    assert done.returncode != 0
    assert "3 workers need a bus between them: set BROADCAST_URL=redis://" in done.stderr, done.stderr


@pytest.fixture
def workers(settings: Settings, network: Network, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = server_env(settings, tmp_path, **SLOW_POLL)
    pair = (ServerProcess(env, tmp_path / "a.log"), ServerProcess(env, tmp_path / "b.log"))
    try:
        yield pair
    finally:
        for worker in pair:
            worker.stop()


@pytest.fixture
async def apis(workers: tuple[ServerProcess, ServerProcess]) -> AsyncIterator[tuple[Api, Api]]:
    for worker in workers:
        await worker.wait_ready()
    async with Api(workers[0].host) as a, Api(workers[1].host) as b:
        yield a, b


CHANGES_WITH_STATUS = """
subscription Changes($afterSeq: Int) {
  referralChanged(afterSeq: $afterSeq) { seq kind change { toStatus } referral { id status version } }
}
"""

async def _changes_from_page(api: Api) -> Subscription:
    """The pantry's intake dashboard as it opens: its page, then its stream from the page's lastSeq."""
    page = (await api.gql(INBOUND, as_=INTAKE))["inboundReferrals"]
    return await api.subscribe(CHANGES_WITH_STATUS, {"afterSeq": page["lastSeq"]}, as_=INTAKE)


@needs_postgres_and_redis
async def test_a_change_made_through_one_worker_reaches_dashboards_on_both_once_each_in_order(
    apis: tuple[Api, Api], workers: tuple[ServerProcess, ServerProcess], network: Network
) -> None:
    a, b = apis
    on_a, on_b = await _changes_from_page(a), await _changes_from_page(b)
    created = (await a.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_=NAVIGATOR))["createReferral"]
    version = created["version"]
    for status in ("PENDING", "ELIGIBLE", "NEEDS_CLIENT_ACTION", "GOT_HELP"):
        # Alternate the workers the changes go through: each dashboard hears both.
        api = a if status in {"PENDING", "NEEDS_CLIENT_ACTION"} else b
        done = await api.gql(
            UPDATE_STATUS, {"input": {"referralId": created["id"], "status": status, "expectedVersion": version}}, as_=INTAKE
        )
        version = done["updateReferralStatus"]["version"]
    last_seen = []
    for feed in (on_a, on_b):
        seen = [(await feed.next(timeout=10))["referralChanged"] for _ in range(5)]
        # Each event says what it changed; its referral is the referral as it is when pushed, so
        # events read in one batch (a busy hub) all show the newest status.
        assert [e["kind"] for e in seen] == ["CREATED", *["STATUS_CHANGED"] * 4]
        assert [e["change"]["toStatus"] for e in seen[1:]] == ["PENDING", "ELIGIBLE", "NEEDS_CLIENT_ACTION", "GOT_HELP"]
        assert seen[-1]["referral"]["status"] == "GOT_HELP"
        seqs = [e["seq"] for e in seen]
        assert seqs == sorted(set(seqs)), f"out of order or twice: {seqs}"
        last_seen.append(seqs[-1])
        await feed.nothing(within=1.0)
        await feed.close()
    # A page's lastSeq is the database's, whichever worker answers and however far its hub has read.
    pages = [(await api.gql(INBOUND, as_=INTAKE))["inboundReferrals"]["lastSeq"] for api in (a, b)]
    assert pages == last_seen
    healths = [await w.health() for w in workers]
    assert sorted(h["leader"] for h in healths) == [False, True], "exactly one worker prunes and composes digests"
    assert all(h["bus"] for h in healths)


@needs_postgres_and_redis
async def test_serve_with_two_workers_answers(settings: Settings, network: Network, tmp_path: Path) -> None:
    server = ServerProcess(server_env(settings, tmp_path), tmp_path / "pair.log", args=("--workers", "2"))
    try:
        await server.wait_ready(timeout=60)
        async with Api(server.host) as api:
            assert (await api.gql(INBOUND, as_=INTAKE))["inboundReferrals"]["lastSeq"] >= 0
        # Both processes run their hubs; one of them leads.
        await eventually(lambda: _leader_seen(server), timeout=15, what="a leader among the workers")
    finally:
        server.stop()


async def _leader_seen(server: ServerProcess) -> bool:
    return any([(await server.health())["leader"] for _ in range(6)])
