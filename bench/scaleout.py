"""Two workers with Redis beside one process: commit-to-delivery for many dashboards, pages per second.

    .venv/bin/python -m bench.scaleout --postgres postgresql+asyncpg://postgres@127.0.0.1:5432 --redis redis://127.0.0.1:6379

A fresh PostgreSQL database (dropped at the end) with the test network and one live referral to
the pantry. Each setup runs real servers (`python -m uvicorn web.app:app`, notifications off) in
their own processes: **one process**, then **two workers** (two processes on two ports, over the
same database and Redis; the dashboards split evenly between them, the changes made through the
first). `--dashboards` graphql-transport-ws connections (bench/fanout.py's client: worker processes
of up to 2,500 sockets each) subscribe to `referralChanged` as the pantry's intake worker;
`--changes` status changes are made one after another, each once every dashboard has the previous
one. Latency is per (change, dashboard): receipt minus the moment the mutation was sent. Then `--requests` inbound pages (`inboundReferrals(first: 50)`) at concurrency
8, spread over the servers. Prints figures and writes its section of bench/results.md; never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.fanout import Workers
from bench.live_and_inbound import INTAKE, NAVIGATOR, Server, raise_fd_limit, sign_in, subscribers_now
from bench.results import write_section

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
UPDATE = "mutation U($input: UpdateReferralStatusInput!) { updateReferralStatus(input: $input) { id version } }"
INBOUND = """
query Inbound { inboundReferrals(first: 50) { lastSeq totalCount edges { node { id status version seeker { firstName lastName email }
  program { name } history { toStatus at } } } } }
"""


def log(message: str) -> None:
    print(f"[bench.scaleout {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Figures:
    setup: str
    dashboards: int
    latencies: list[float]
    pages_per_second: float

    def row(self) -> str:
        return (
            f"| {self.setup} | {self.dashboards:,} | {percentile(self.latencies, 0.5) * 1000:.0f} ms | "
            f"{percentile(self.latencies, 0.99) * 1000:.0f} ms | {self.pages_per_second:.1f} |"
        )


async def _ready(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.base) as http:
        await server.wait_ready(http, timeout=120)


async def _subscribers(server: Server) -> int:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
        try:
            return await subscribers_now(http)
        except httpx.TransportError:
            return 0


async def measure(url: str, redis: str, tmp: Path, *, workers: int, dashboards: int, changes: int, requests: int, referral: str) -> Figures:
    servers = [Server(url, tmp, broadcast=redis, name=f"{workers}-{n}") for n in range(workers)]
    clients = [Workers() for _ in servers]
    try:
        await asyncio.gather(*(_ready(s) for s in servers))
        async with httpx.AsyncClient(base_url=servers[0].base, timeout=60) as http:
            intake = await sign_in(http, INTAKE)
            # The same client as bench/fanout.py's: worker processes of up to 2,500 sockets each,
            # the dashboards split evenly between the servers.
            shares = [dashboards // workers + (1 if n < dashboards % workers else 0) for n in range(workers)]
            await asyncio.gather(*(c.start(url=s.ws_url, token=intake, count=n, wall=False) for c, s, n in zip(clients, servers, shares)))
            deadline = time.monotonic() + 600
            while sum([await _subscribers(s) for s in servers]) < dashboards:
                if time.monotonic() > deadline:
                    raise TimeoutError("dashboards did not all subscribe")
                await asyncio.sleep(0.5)
            log(f"{workers} worker(s): {dashboards} dashboards subscribed")
            headers = {"authorization": f"Bearer {intake}"}
            version = int((await http.post("/graphql", json={"query": "query R($id: ID!) { referral(id: $id) { version } }", "variables": {"id": referral}}, headers=headers)).json()["data"]["referral"]["version"])
            latencies: list[float] = []
            missed = 0
            for n in range(changes + 2):  # the first two warm up every code path
                # Each change moves the version on by one, so the status alternates whatever it was.
                status = ("PENDING", "ELIGIBLE")[version % 2]
                sent = time.perf_counter()
                body = (await http.post("/graphql", json={"query": UPDATE, "variables": {"input": {"referralId": referral, "status": status, "expectedVersion": version}}}, headers=headers)).json()
                if body.get("errors"):
                    raise RuntimeError(f"the status change failed: {body['errors']}")
                version = int(body["data"]["updateReferralStatus"]["version"])
                for client in clients:
                    times, lost, _ = await client.event(60)
                    missed += lost
                    if n >= 2:
                        latencies.extend(t - sent for t in times)
                await asyncio.sleep(0.05)
            log(f"{workers} worker(s): p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms; {missed} client workers missed a change")
            for client in clients:
                await client.stop()
            clients = []
            https = [httpx.AsyncClient(base_url=s.base, timeout=60, headers=headers) for s in servers]
            queue = list(range(requests))

            async def reader(client_index: int) -> None:
                while queue:
                    queue.pop()
                    response = await https[client_index % workers].post("/graphql", json={"query": INBOUND})
                    assert response.status_code == 200 and "errors" not in response.json(), response.text[:300]

            started = time.perf_counter()
            await asyncio.gather(*(reader(i) for i in range(8)))
            pages = requests / (time.perf_counter() - started)
            for session in https:
                await session.aclose()
        return Figures(setup="one process" if workers == 1 else f"{workers} workers + Redis", dashboards=dashboards, latencies=latencies, pages_per_second=pages)
    finally:
        for client in clients:
            await client.stop()
        for server in servers:
            await asyncio.to_thread(server.stop)


async def seed(url: str) -> str:
    from db import migrate
    from db.accounts import User
    from db.engine import Database
    from resolvers.referrals import create_referral_in
    from resolvers.viewer import load_viewer
    from schema.ids import to_global_id
    from tests.support import build_network, pantry_referral

    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(url)
    try:
        network = await build_network(db)
        async with db.write() as session:
            navigator = await load_viewer(session, int(await session.scalar(select(User.id).where(User.email == NAVIGATOR)) or 0))
            assert navigator is not None
            for n in range(60):
                referral = await create_referral_in(session, navigator, pantry_referral(network, n))
        return to_global_id("Referral", referral.id)
    finally:
        await db.dispose()


async def run(args: argparse.Namespace) -> None:
    server = args.postgres.rstrip("/")
    name = f"referloop_bench_scaleout_{os.getpid()}"
    admin = create_async_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    async with admin.connect() as c:
        await c.execute(text(f"CREATE DATABASE {name}"))
    url = f"{server}/{name}"
    figures: list[Figures] = []
    log(f"open-file limit {raise_fd_limit(max(int(c) for c in args.dashboards.split(',')) + 512)}")
    try:
        referral = await seed(url)
        with tempfile.TemporaryDirectory(prefix="referloop-bench-scaleout-") as tmp:
            for count in [int(c) for c in args.dashboards.split(",")]:
                for workers in (1, 2):
                    figures.append(
                        await measure(url, args.redis, Path(tmp), workers=workers, dashboards=count, changes=args.changes, requests=args.requests, referral=referral)
                    )
                    print(figures[-1].row(), flush=True)
    finally:
        async with admin.connect() as c:
            await c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await admin.dispose()
    load = os.getloadavg()[0]
    lines = [
        "## Two workers with Redis beside one process (bench/scaleout.py)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, PostgreSQL and Redis on loopback, {args.changes} changes, "
        f"1-minute load average {load:.1f} at the end.",
        "",
        "| setup | dashboards | p50 from sending the change to delivery | p99 | inbound pages of 50 per second (concurrency 8) |",
        "|---|---|---|---|---|",
        *[f.row() for f in figures],
        "",
    ]
    write_section("workers", "\n".join(lines))
    print("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432"))
    p.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379"))
    p.add_argument("--dashboards", default="1000,10000")
    p.add_argument("--changes", type=int, default=20)
    p.add_argument("--requests", type=int, default=100)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
