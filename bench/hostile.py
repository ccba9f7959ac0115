"""The hardening issue's attack queries, timed: what one navigator can make the server do, and what intake feels meanwhile.

    .venv/bin/python -m bench.hostile                       # this checkout
    .venv/bin/python -m bench.hostile --root /tmp/before    # another checkout's server (e.g. `git archive` of main)

Prints figures, never pass/fail. A throwaway SQLite file gets the test network and `--people`
people, each with a live referral to the Harbor Pantry (with a comment and a status change) and one
to the clinic; a real server runs in its own process (bench.live_and_inbound.Server). Measured:

- each attack over HTTP as the navigator (or intake), `--runs` times: the median and max time;
- the SQL statements of each attack and of the intake page, counted in-process (a
  `before_cursor_execute` listener) by a child process run from the same checkout as the server;
- the intake worker's small page (`inboundReferrals(first: 10)`, a few fields) sequentially, alone
  and while `--attackers` clients send the 30-alias attack back to back: p50/p99;
- with the default rates (this checkout only): how many attacks in a row pass before RATE_LIMITED.

The server runs with the rate limit off (RATE_LIMIT_WORKER_BURST=0) except for the last figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.live_and_inbound import INTAKE, NAVIGATOR, RATE_LIMITS_OFF, Server, log, percentile, sign_in

ROOT = Path(__file__).resolve().parent.parent

# The attack shapes, at the largest size the cost bound (200,000 for a worker) lets through.
PEOPLE_ALIAS = (
    "peopleImHelping(first: 47) { edges { node { id referrals(first: 5) { edges { node {"
    " id history { id } comments { id } seeker { id } } } } } } }"
)
ATTACKS = {
    "30 aliases of peopleImHelping(first: 47) { referrals(first: 5) { history comments seeker } }": (
        NAVIGATOR,
        "query { " + " ".join(f"a{i}: {PEOPLE_ALIAS}" for i in range(30)) + " }",
    ),
    "inboundReferrals(first: 73) { seeker { referrals(first: 100) { history comments seeker } } }": (
        INTAKE,
        "query { inboundReferrals(first: 73) { edges { node { id seeker { id referrals(first: 100) { edges { node {"
        " id history { id } comments { id } seeker { id } } } } } } } } }",
    ),
    # The wall shape: a wall referral no longer has a seeker, so its lists cannot nest.
    "peopleImHelping(first: 100) { referrals(first: 20) } (the navigator's page, at 100 people)": (
        NAVIGATOR,
        "query { peopleImHelping(first: 100) { edges { node { id firstName lastName referrals(first: 20) { edges { node {"
        " id status kind updatedAt program { name } history { toStatus at } comments { body } } } } } } } }",
    ),
}
SMALL_INTAKE = "query Small { inboundReferrals(first: 10) { totalCount edges { node { id status updatedAt seeker { firstName } } } } }"


async def seed(url: str, people: int) -> None:
    from sqlalchemy import select

    from db.accounts import User
    from db.engine import Database
    from db.referrals import ReferralStatus
    from db.seekers import ContactPreference
    from resolvers.referrals import NewReferral, create_referral_in, update_status_in
    from resolvers.viewer import load_viewer
    from tests.support import build_network, pantry_referral

    db = Database(url)
    try:
        network = await build_network(db)
        async with db.read() as session:
            ids = {e: await session.scalar(select(User.id).where(User.email == e)) for e in (NAVIGATOR, INTAKE)}
            navigator = await load_viewer(session, ids[NAVIGATOR] or 0)
            intake = await load_viewer(session, ids[INTAKE] or 0)
        assert navigator is not None and intake is not None
        for n in range(people):
            async with db.write() as session:
                first = await create_referral_in(
                    session, navigator, pantry_referral(network, n, contact_preference=ContactPreference.EMAIL, comment="Hi")
                )
                await create_referral_in(
                    session,
                    navigator,
                    NewReferral(program_id=network.pks["clinic_program"], seeker_id=first.seeker_id, consent=True, comment="Also"),
                )
            async with db.write() as session:
                await update_status_in(
                    session, intake, referral_id=first.id, status=ReferralStatus.PENDING, expected_version=1, note="Called"
                )
    finally:
        await db.dispose()


def count_in_process(url: str) -> dict[str, int]:
    """Run in a child process from the server's checkout: statements per document under schema.execute."""
    import asyncio as aio

    from sqlalchemy import select

    from bench.live_and_inbound import count_statements
    from db.accounts import User
    from db.settings import Settings
    from resolvers.runtime import Runtime
    from resolvers.viewer import load_viewer
    from schema import schema
    from schema.context import Context
    from tests.documents import INBOUND

    async def main() -> dict[str, int]:
        runtime = Runtime.create(Settings(environment="development", database_url=url, secret_key="x" * 40))
        async with runtime.db.read() as session:
            viewers = {}
            for email in (NAVIGATOR, INTAKE):
                user_id = await session.scalar(select(User.id).where(User.email == email))
                viewers[email] = await load_viewer(session, user_id or 0)
        documents: dict[str, tuple[str, str, dict[str, Any] | None]] = {name: (who, document, None) for name, (who, document) in ATTACKS.items()}
        documents["the intake page (tests/documents.py INBOUND, first: 50)"] = (INTAKE, INBOUND, {"first": 50})
        documents["the intake worker's small page"] = (INTAKE, SMALL_INTAKE, None)
        counts = {}
        for name, (who, document, variables) in documents.items():
            with count_statements(runtime.db.engine) as statements:
                result = await schema.execute(document, variables, context_value=Context(runtime=runtime, request=None, viewer=viewers[who]))  # type: ignore[arg-type]
            counts[name] = len(statements) if not result.errors else -1
        await runtime.db.dispose()
        return counts

    return aio.run(main())


async def timed(http: httpx.AsyncClient, token: str, document: str) -> tuple[float, int, dict[str, Any]]:
    started = time.perf_counter()
    response = await http.post("/graphql", json={"query": document}, headers={"authorization": f"Bearer {token}"}, timeout=300)
    return time.perf_counter() - started, response.status_code, response.json()


async def measure(args: argparse.Namespace, url: str, tmp: Path, root: Path, *, rate_limited: bool) -> None:
    server = Server(url, tmp, profile=None, notifications=False, rate_limits=rate_limited)
    if root != ROOT:
        server.process.kill()
        server.process.wait()
        command = [sys.executable, "-m", "uvicorn", "web.app:app", "--host", "127.0.0.1", "--port", str(server.port), "--log-level", "warning", "--no-access-log"]
        environment = dict(os.environ, **({} if rate_limited else RATE_LIMITS_OFF), DATABASE_URL=url, REFERLOOP_ENV="development", SECRET_KEY="referloop-bench-secret-key-not-for-production-0123456789", NOTIFICATIONS_WORKER="0", OUTBOX_DIR=str(tmp / "outbox"))
        server.process = subprocess.Popen(command, cwd=root, env=environment, stdout=server._log, stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient(base_url=server.base) as http:
            await server.wait_ready(http)
            tokens = {e: await sign_in(http, e) for e in (NAVIGATOR, INTAKE)}
            if rate_limited:
                # Four connections at once as the same navigator: the server is not what holds them back.
                who, document = next(iter(ATTACKS.values()))
                passed = 0
                refused: list[tuple[float, int]] = []
                started = time.perf_counter()

                async def one_attacker() -> None:
                    nonlocal passed
                    async with httpx.AsyncClient(base_url=server.base) as own:
                        while not refused and passed < 60:
                            _, status, body = await timed(own, tokens[who], document)
                            if status == 429:
                                refused.append((time.perf_counter() - started, body["errors"][0]["extensions"]["retryAfter"]))
                            else:
                                passed += 1

                await asyncio.gather(*(one_attacker() for _ in range(4)))
                if refused:
                    at, retry = refused[0]
                    print(f"  default rates, 4 connections at once: {passed} attacks passed, the first 429 after {at:.1f} s (retryAfter {retry} s)")
                else:
                    print(f"  default rates, 4 connections at once: {passed} attacks passed, none refused")
                return
            for name, (who, document) in ATTACKS.items():
                times, errors = [], set()
                for _ in range(args.runs):
                    elapsed, status, body = await timed(http, tokens[who], document)
                    times.append(elapsed)
                    if body.get("errors"):
                        errors.add(f"{status} {body['errors'][0].get('extensions', {}).get('code')}")
                print(f"  {name}: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
                      + (f"  errors: {sorted(errors)}" if errors else ""))
            alone = [(await timed(http, tokens[INTAKE], SMALL_INTAKE))[0] for _ in range(args.small)]
            stop = asyncio.Event()
            attacks_done = 0

            async def attacker() -> None:
                nonlocal attacks_done
                who, document = next(iter(ATTACKS.values()))
                async with httpx.AsyncClient(base_url=server.base) as own:
                    while not stop.is_set():
                        await timed(own, tokens[who], document)
                        attacks_done += 1

            tasks = [asyncio.create_task(attacker()) for _ in range(args.attackers)]
            await asyncio.sleep(0.5)
            meanwhile = []
            for _ in range(args.small):
                meanwhile.append((await timed(http, tokens[INTAKE], SMALL_INTAKE))[0])
            stop.set()
            await asyncio.gather(*tasks)
            print(f"  intake's small page alone: p50 {percentile(alone, 0.5) * 1000:.0f} ms, p99 {percentile(alone, 0.99) * 1000:.0f} ms")
            print(f"  ... while {args.attackers} navigator(s) send the 30-alias attack back to back ({attacks_done} sent): "
                  f"p50 {percentile(meanwhile, 0.5) * 1000:.0f} ms, p99 {percentile(meanwhile, 0.99) * 1000:.0f} ms")
    finally:
        server.stop()


async def run(args: argparse.Namespace) -> None:
    from db import migrate

    root = Path(args.root).resolve() if args.root else ROOT
    tmp = Path(tempfile.mkdtemp(prefix="referloop-hostile-"))
    try:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
        await asyncio.to_thread(migrate.upgrade, url)
        await seed(url, args.people)
        log(f"seeded {args.people} people with 3 referrals' worth of rows each in {tmp}; server from {root}")
        if root != ROOT and not (root / "bench" / "hostile.py").exists():
            shutil.copy(Path(__file__), root / "bench" / "hostile.py")
        counted = subprocess.run(
            [sys.executable, "-c", f"import json; from bench.hostile import count_in_process; print(json.dumps(count_in_process({url!r})))"],
            cwd=root, env=dict(os.environ, PYTHONPATH=str(root)), capture_output=True, text=True, check=True,
        )
        print(f"SQL statements per request ({root}):")
        for name, count in json.loads(counted.stdout.strip().splitlines()[-1]).items():
            print(f"  {name}: {count}")
        print(f"Times over HTTP, {args.runs} runs each, {args.people} people (load average {os.getloadavg()[0]:.1f}):")
        await measure(args, url, tmp, root, rate_limited=False)
        if root == ROOT:
            await measure(args, url, tmp, root, rate_limited=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--small", type=int, default=50, help="small intake requests, alone and under attack")
    parser.add_argument("--attackers", type=int, default=1)
    parser.add_argument("--root", help="run the server (and the statement count) from this checkout")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
