"""Faults two workers survive: Redis restarted, PostgreSQL restarted, a worker killed mid-fan-out.

No dashboard waits silently, and each catches up from the outbox with no gap and no duplicate.
The workers poll the outbox only once a minute here, so what arrives within seconds came by the
doorbell: a listener that did not reconnect to Redis would leave its dashboards a minute behind.
Redis is the test's own (restarted freely); PostgreSQL is the suite's, restarted in place and back
before the test ends. PostgreSQL and Redis pass only.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import websockets

from db.settings import ROOT, Settings
from tests.conftest import POSTGRES
from tests.documents import CHANGES, CREATE_REFERRAL, new_seeker_referral
from tests.processes import RedisProcess, ServerProcess, eventually, server_env
from tests.support import Api, Network, Subscription

pytestmark = pytest.mark.skipif(POSTGRES is None, reason="faults between workers need PostgreSQL and Redis: the SQLite pass serves one process")

NAVIGATOR = "navigator@test.example"
INTAKE = "intake@test.example"
INBOUND = "query Inbound { inboundReferrals(first: 1) { lastSeq } }"
SERVICES = ROOT / "var" / "test-services.dir"


class Pair:
    """Two workers, started together, stopped when the test ends."""

    def __init__(self, settings: Settings, tmp: Path) -> None:
        env = server_env(settings, tmp, LIVE_POLL_SECONDS="60")
        self.a, self.b = ServerProcess(env, tmp / "a.log"), ServerProcess(env, tmp / "b.log")

    async def ready(self) -> None:
        await asyncio.gather(self.a.wait_ready(), self.b.wait_ready())

    def stop(self) -> None:
        self.a.stop()
        self.b.stop()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    server.kill()


async def _feed(api: Api) -> Subscription:
    last_seq = (await api.gql(INBOUND, as_=INTAKE))["inboundReferrals"]["lastSeq"]
    return await api.subscribe(CHANGES, {"afterSeq": last_seq}, as_=INTAKE)


async def _refer(api: Api, network: Network, name: str) -> str:
    referral = new_seeker_referral(network["pantry"], seeker={"firstName": name, "lastName": "Test", "email": f"{name.lower()}@example.com"})
    created: dict[str, Any] = (await api.gql(CREATE_REFERRAL, {"input": referral}, as_=NAVIGATOR))["createReferral"]
    return str(created["id"])


async def _names(feed: Subscription, count: int) -> list[str]:
    return [(await feed.next(timeout=10))["referralChanged"]["referral"]["seeker"]["firstName"] for _ in range(count)]


async def test_dashboards_hear_the_other_worker_again_after_redis_restarts(
    settings: Settings, network: Network, redis: RedisProcess, tmp_path: Path
) -> None:
    pair = Pair(replace(settings, broadcast_url=redis.url), tmp_path)
    try:
        await pair.ready()
        async with Api(pair.a.host) as a, Api(pair.b.host) as b:
            feed = await _feed(b)
            await _refer(a, network, "Before")
            assert await _names(feed, 1) == ["Before"]

            redis.kill()
            # The change still commits and answers; only its doorbell is lost.
            await _refer(a, network, "During")
            redis.start()
            # B's listener is back within seconds, and reads what it missed: not a minute later.
            assert await _names(feed, 1) == ["During"]
            await eventually(lambda: _all_hear(pair), what="both workers on the bus again")
            await _refer(a, network, "After")
            assert await _names(feed, 1) == ["After"]
            await feed.nothing(within=1.0)
            await feed.close()
    finally:
        pair.stop()


async def _all_hear(pair: Pair) -> bool:
    return all([(await w.health())["bus"] for w in (pair.a, pair.b)])


def _restart_suite_postgres() -> None:
    if not SERVICES.exists():
        pytest.skip("the suite's PostgreSQL was not started by tests/services.sh, so this test cannot restart it")
    state = Path(SERVICES.read_text().strip())
    pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))[-1]
    # pg_ctl restart keeps the options it was started with (port, loopback only); its log stays where it was.
    command = [str(pg_bin / "pg_ctl"), "-D", str(state / "pg"), "-l", str(state / "pg.log"), "-m", "fast", "-w", "-t", "30", "restart"]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    # No pipes: the server it starts would hold them open.
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", timeout=60)


async def test_dashboards_keep_their_streams_through_a_postgres_restart(settings: Settings, network: Network, tmp_path: Path) -> None:
    pair = Pair(settings, tmp_path)
    try:
        await pair.ready()
        async with Api(pair.a.host) as a, Api(pair.b.host) as b:
            feeds = [await _feed(a), await _feed(b)]
            await _refer(a, network, "Before")
            for feed in feeds:
                assert await _names(feed, 1) == ["Before"]

            _restart_suite_postgres()
            # Pools drop their dead connections (pre-ping): the first request after is answered.
            await eventually(lambda: a.gql(INBOUND, as_=INTAKE), what="worker A to answer again")
            await _refer(a, network, "After")
            await _refer(b, network, "Again")
            for feed in feeds:
                # The same sockets: nothing was dropped, nothing is repeated.
                assert await _names(feed, 2) == ["After", "Again"]
                await feed.nothing(within=1.0)
                await feed.close()
            # The leader's connection died with the server: one worker leads again.
            await eventually(lambda: _one_leader(pair), what="exactly one leader again")
    finally:
        pair.stop()


async def _one_leader(pair: Pair) -> bool:
    return [(await w.health())["leader"] for w in (pair.a, pair.b)].count(True) == 1


async def test_a_worker_killed_mid_fan_out_leaves_no_dashboard_waiting_and_none_misses_an_event(
    settings: Settings, network: Network, tmp_path: Path
) -> None:
    pair = Pair(settings, tmp_path)
    names = [f"Person{n}" for n in range(8)]
    try:
        await pair.ready()
        async with Api(pair.a.host) as a, Api(pair.b.host) as b:
            feed = await _feed(b)
            writing = asyncio.create_task(_refer_all(a, network, names))
            seen = [(await feed.next(timeout=10))["referralChanged"] for _ in range(2)]
            pair.b.kill()
            # The dashboard is told at once that its connection is gone, rather than waiting on it.
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    seen.append((await feed.next(timeout=5))["referralChanged"])
            await writing
            # It reconnects to the surviving worker from the last event it had.
            again = await a.subscribe(CHANGES, {"afterSeq": seen[-1]["seq"]}, as_=INTAKE)
            rest = [(await again.next(timeout=10))["referralChanged"] for _ in range(len(names) - len(seen))]
            await again.nothing(within=1.0)
            await again.close()
            got = seen + rest
            seqs = [e["seq"] for e in got]
            assert seqs == sorted(set(seqs)), f"a gap or a duplicate: {seqs}"
            assert sorted(e["referral"]["seeker"]["firstName"] for e in got) == sorted(names)
            # Whoever led, the survivor leads now.
            await eventually(lambda: _leads(pair.a), what="the surviving worker to lead")
    finally:
        pair.stop()


async def _refer_all(api: Api, network: Network, names: list[str]) -> None:
    for name in names:
        await _refer(api, network, name)


async def _leads(worker: ServerProcess) -> bool:
    return bool((await worker.health())["leader"])
