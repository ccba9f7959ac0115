"""Status updates per second: the write path (the change, its event, its notifications, the reload).

    .venv/bin/python -m bench.writes                                  # SQLite
    .venv/bin/python -m bench.writes --postgres postgresql+asyncpg://postgres@127.0.0.1:5432

`--writers` concurrent writers (default 8), each going round 25 referrals of its own and changing
their status (PENDING and ELIGIBLE in turn, with the right expectedVersion) through
`resolvers.referrals.update_referral_status`, the resolver the mutation calls, with the live hub
running and the notification sender off (the messages are planned, not sent). Prints figures,
never pass/fail. A throwaway database: a SQLite file in a temporary directory, or a fresh
PostgreSQL database dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.results import write_section

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

INTAKE = "intake@test.example"
NAVIGATOR = "navigator@test.example"


def log(message: str) -> None:
    print(f"[bench.writes {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


@dataclass
class WriteResult:
    database: str
    writers: int
    updates: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds

    def line(self) -> str:
        return (
            f"{self.database}, {self.writers} writers: {self.per_second:.0f} status updates/s "
            f"({self.updates} in {self.seconds:.1f} s; p50 {percentile(self.latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(self.latencies, 0.99) * 1000:.1f} ms per update)"
        )


async def measure(url: str, *, label: str, writers: int, seconds: float, per_writer: int = 25) -> WriteResult:
    from db import migrate
    from db.accounts import User
    from db.settings import Settings
    from resolvers.referrals import create_referral_in, update_referral_status
    from resolvers.runtime import Runtime
    from resolvers.viewer import load_viewer
    from db.referrals import ReferralStatus
    from tests.support import build_network, pantry_referral

    from web.serving import tune_collector

    tune_collector()  # as the app does when it starts
    log(f"{label}: migrating a fresh database")
    await asyncio.to_thread(migrate.upgrade, url)
    settings = Settings(
        environment="test",
        database_url=url,
        broadcast_url="memory://",
        secret_key="bench-writes-secret-key-0123456789abcdef",
        notifications_worker=False,
        statement_timeout_seconds=float(os.environ.get("BENCH_STATEMENT_TIMEOUT", "5")),
    )
    runtime = Runtime.create(settings)
    network = await build_network(runtime.db)
    async with runtime.db.write() as session:
        navigator = await load_viewer(session, int(await session.scalar(select(User.id).where(User.email == NAVIGATOR)) or 0))
        intake = await load_viewer(session, int(await session.scalar(select(User.id).where(User.email == INTAKE)) or 0))
        assert navigator is not None and intake is not None
        # Each writer goes round referrals of its own, so that a referral's history stays the few
        # changes a real one has: one referral changed thousands of times would measure reading
        # its ever-longer history (every change answers with it) rather than the write path.
        referral_ids = [
            [(await create_referral_in(session, navigator, pantry_referral(network, w * per_writer + n))).id for n in range(per_writer)]
            for w in range(writers)
        ]
    log(f"{label}: {writers} writers for {seconds:.0f} s")
    await runtime.start()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def writer(own: list[int]) -> None:
        versions = dict.fromkeys(own, 1)
        statuses = (ReferralStatus.PENDING, ReferralStatus.ELIGIBLE)
        turn = 0
        while time.perf_counter() < deadline:
            referral_id = own[turn % len(own)]
            turn += 1
            version = versions[referral_id]
            started = time.perf_counter()
            done = await update_referral_status(
                runtime, intake, referral_id=referral_id, status=statuses[version % 2], expected_version=version, note=None
            )
            latencies.append(time.perf_counter() - started)
            versions[referral_id] = done.version

    started = time.perf_counter()
    try:
        await asyncio.gather(*(writer(r) for r in referral_ids))
    finally:
        elapsed = time.perf_counter() - started
        # Bounded: before 2026-12 the hub's stop could hang (wait_for swallowing its cancellation).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.stop(), 15)
    return WriteResult(database=label, writers=writers, updates=len(latencies), seconds=elapsed, latencies=latencies)


async def run_sqlite(writers: int, seconds: float) -> WriteResult:
    with tempfile.TemporaryDirectory(prefix="referloop-bench-writes-") as tmp:
        return await measure(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}", label="SQLite", writers=writers, seconds=seconds)


async def run_postgres(server: str, writers: int, seconds: float) -> WriteResult:
    name = f"referloop_bench_writes_{os.getpid()}"
    admin = create_async_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    async with admin.connect() as c:
        await c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        await c.execute(text(f"CREATE DATABASE {name}"))
    try:
        return await measure(f"{server}/{name}", label="PostgreSQL", writers=writers, seconds=seconds)
    finally:
        async with admin.connect() as c:
            await c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await admin.dispose()


async def run(args: argparse.Namespace) -> list[WriteResult]:
    results = []
    if not args.skip_sqlite:
        results.append(await run_sqlite(args.writers, args.seconds))
        print(results[-1].line(), flush=True)
    if args.postgres:
        results.append(await run_postgres(args.postgres.rstrip("/"), args.writers, args.seconds))
        print(results[-1].line(), flush=True)
    return results


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL", ""), help="a PostgreSQL server, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432"
    )
    p.add_argument("--skip-sqlite", action="store_true")
    return p




def main() -> None:
    results = asyncio.run(run(parser().parse_args()))
    load = os.getloadavg()[0]
    lines = [
        "## Status updates per second (bench/writes.py)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, 1-minute load average {load:.1f} at the end.",
        "",
        "| database | writers | status updates per second | p50 per update | p99 |",
        "|---|---|---|---|---|",
        *[
            f"| {r.database} | {r.writers} | {r.per_second:.0f} | {percentile(r.latencies, 0.5) * 1000:.1f} ms | "
            f"{percentile(r.latencies, 0.99) * 1000:.1f} ms |"
            for r in results
        ],
        "",
    ]
    write_section("writes", "\n".join(lines))


if __name__ == "__main__":
    main()
