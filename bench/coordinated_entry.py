"""Coordinated Entry at a large CoC's size: the priority list page, and the HMIS CSV export.

Figures only, never pass/fail. A temporary SQLite file gets the test network (tests.support) plus
N assessed clients (default 10,000) of its CoC, XX-500: each with HMIS elements, a CE assessment,
an open priority list entry, an enrollment in one of five housing programs and a CE event (a
referral to that program, resolved). Then:

- priority list page: `priorityList(cocCode, first: 50)` with the CE dashboard's selection, over
  HTTP to the real server in its own process (uvicorn web.app:app, one worker), signed in as the
  CoC's CE manager: requests per second sequentially and at concurrency 8, and the SQL statements
  of one request (counted in-process, as bench.live_and_inbound counts the inbound page's);
- HMIS CSV export: `export_hmis_csv_as_system` over three years, called in a Python process of its
  own, timed with ru_maxrss before and after, then again under tracemalloc for its peak allocation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from bench.live_and_inbound import SECRET_KEY, Server, count_statements, log, percentile, sign_in

COC = "XX-500"
CE_MANAGER = "ce-bench@test.example"
PAGE = """
query($coc: String!, $first: Int, $after: String) {
  priorityList(cocCode: $coc, first: $first, after: $after) {
    totalCount lastSeq
    edges { node { id initials score daysHomeless daysOnList placedOn householdType eligibility seeker { id firstName lastName } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
HOUSING = ((0, 10), (2, 11), (3, 14), (9, 15), (13, 13))  # (HUD project type, the 4.20.2 event a referral to it is)
RACES = ("AmIndAKNative", "Asian", "BlackAfAmerican", "HispanicLatinaeo", "MidEastNAfrican", "NativeHIPacific", "White")
BATCH = 2000


async def populate(url: str, clients: int) -> None:
    """The test network, the CE manager, five housing programs and `clients` assessed, enrolled, referred clients."""
    from db.accounts import ContinuumOfCare, Role
    from db.base import utcnow
    from db.coordinated_entry import CeAssessment, CeEvent, PriorityListEntry
    from db.engine import Database
    from db.enrollments import Enrollment, Household
    from db.programs import ConnectMode, Program
    from db.seekers import ContactPreference, Seeker
    from tests.support import add_member, build_network

    db = Database(url)
    rng = random.Random(10_000)
    try:
        network = await build_network(db)
        await add_member(db, CE_MANAGER, organization_id=network.pks["navs"], role=Role.CE_MANAGER, name="Bench CE")
        now = utcnow()
        today = now.date()
        async with db.write() as s:
            coc = await s.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == COC))
            assert coc is not None
            programs = [
                Program(organization_id=network.pks["clinic"], name=f"Housing {kind}", connect_mode=ConnectMode.APPLY,
                        contact_emails=["housing@clinic.example.org"], hud_project_type=kind, coc_id=coc.id)
                for kind, _ in HOUSING
            ]
            s.add_all(programs)
            await s.flush()
            program_ids = [(p.id, event_type) for p, (_, event_type) in zip(programs, HOUSING)]
            coc_id = coc.id
        for start in range(0, clients, BATCH):
            n = min(BATCH, clients - start)
            async with db.write() as s:
                seekers = [
                    {
                        "first_name": f"Client{start + i}", "last_name": f"Bench{(start + i) % 997}", "email": None, "phone": None,
                        "contact_preference": ContactPreference.NONE, "user_id": None, "created_by_user_id": None,
                        "name_data_quality": 1, "dob": date(1950 + (start + i) % 55, 1 + i % 12, 1 + i % 28), "dob_data_quality": 1,
                        "races": [RACES[i % len(RACES)]], "race_none": None, "genders": [("Woman", "Man")[i % 2]], "gender_none": None,
                        "veteran_status": (0, 1, 99)[i % 3], "created_at": now - timedelta(days=400), "updated_at": now,
                    }
                    for i in range(n)
                ]
                seeker_ids = list((await s.scalars(insert(Seeker).returning(Seeker.id), seekers)).all())
                households = list((await s.scalars(insert(Household).returning(Household.id), [{"created_at": now}] * n)).all())
                assessed = [today - timedelta(days=rng.randint(1, 365)) for _ in range(n)]
                assessments: list[dict[str, Any]] = [
                    {
                        "seeker_id": sid, "coc_id": coc_id, "enrollment_id": None, "assessment_date": day, "location": "Access Center",
                        "assessment_type": 3, "assessment_level": 2, "prioritization_status": 1,
                        "questions": [{"question": "Household size", "answer": "1", "group": "Household"}],
                        "results": [{"type": "Acuity score", "result": "9"}],
                        "score": float(rng.randint(0, 17)), "days_homeless": rng.randint(0, 3000),
                        "household_type": ("INDIVIDUAL", "FAMILY", "YOUTH")[rng.randrange(3)],
                        "created_by_user_id": None, "created_at": now,
                    }
                    for sid, day in zip(seeker_ids, assessed)
                ]
                assessment_ids = list((await s.scalars(insert(CeAssessment).returning(CeAssessment.id), assessments)).all())
                await s.execute(insert(PriorityListEntry), [
                    {
                        "coc_id": coc_id, "seeker_id": a["seeker_id"], "assessment_id": aid, "placed_on": a["assessment_date"],
                        "score": a["score"], "days_homeless": a["days_homeless"], "household_type": a["household_type"],
                        "eligibility": "chronic" if a["days_homeless"] >= 365 else "", "left_on": None, "left_reason": None,
                        "created_at": now,
                    }
                    for a, aid in zip(assessments, assessment_ids)
                ])
                chosen = [program_ids[rng.randrange(len(program_ids))] for _ in range(n)]
                await s.execute(insert(Enrollment), [
                    {
                        "seeker_id": sid, "program_id": pid, "household_id": hid, "entry_date": day + timedelta(days=1),
                        "relationship_to_hoh": 1, "prior_living_situation": 116, "enrollment_coc": COC, "disabling_condition": 0,
                        "move_in_date": None, "exit_date": None, "destination": None, "created_by_user_id": None,
                        "created_at": now, "updated_at": now,
                    }
                    for sid, hid, day, (pid, _) in zip(seeker_ids, households, assessed, chosen)
                ])
                await s.execute(insert(CeEvent), [
                    {
                        "seeker_id": sid, "coc_id": coc_id, "enrollment_id": None, "event_date": day, "event_type": event_type,
                        "location": "Access Center", "program_id": pid, "result": 1 + i % 3, "result_date": day,
                        "version": 2, "created_at": now, "updated_at": now,
                    }
                    for i, (sid, day, (pid, event_type)) in enumerate(zip(seeker_ids, assessed, chosen))
                ])
    finally:
        await db.dispose()


async def page_statements(url: str, token: str) -> tuple[list[str], list[str], int]:
    """Statements to sign the CE manager in from a token, and to answer the page of 50 (second run, warm; BEGIN not counted)."""
    from db.settings import Settings
    from resolvers.accounts import viewer_for_token
    from resolvers.runtime import Runtime
    from schema import schema
    from schema.context import Context

    settings = Settings(environment="development", database_url=url, secret_key=SECRET_KEY, notifications_worker=False)
    runtime = Runtime.create(settings)
    try:
        total = 0
        auth: list[str] = []
        page: list[str] = []
        for _ in range(2):
            with count_statements(runtime.db.engine) as auth:
                viewer = await viewer_for_token(runtime, f"Bearer {token}")
            with count_statements(runtime.db.engine) as page:
                result = await schema.execute(
                    PAGE, {"coc": COC, "first": 50}, context_value=Context(runtime=runtime, request=None, viewer=viewer)  # type: ignore[arg-type]
                )
            if result.errors or result.data is None:
                raise RuntimeError(f"priorityList failed in-process: {result.errors}")
            total = int(result.data["priorityList"]["totalCount"])
        not_begin = [s for s in auth if s.strip() != "BEGIN"], [s for s in page if s.strip() != "BEGIN"]
        return not_begin[0], not_begin[1], total
    finally:
        await runtime.db.dispose()


async def page_http(server: Server, token: str, *, requests: int, concurrency: int) -> dict[str, float]:
    headers = {"authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    out: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=60, limits=limits) as http:

        async def one() -> float:
            started = time.perf_counter()
            response = await http.post("/graphql", json={"query": PAGE, "variables": {"coc": COC, "first": 50}})
            took = time.perf_counter() - started
            body = response.json()
            if response.status_code != 200 or body.get("errors") or len(body["data"]["priorityList"]["edges"]) != 50:
                raise RuntimeError(f"priorityList failed over HTTP: {response.status_code} {str(body)[:300]}")
            return took

        for _ in range(5):
            await one()
        started, cpu = time.perf_counter(), server.cpu_seconds()
        times = [await one() for _ in range(requests)]
        out["sequential_rps"] = requests / (time.perf_counter() - started)
        out["sequential_cpu"] = (server.cpu_seconds() - cpu) / requests
        out["sequential_p50"] = percentile(times, 0.5)

        remaining = iter(range(requests))
        times = []

        async def worker() -> None:
            for _ in remaining:
                times.append(await one())

        started, cpu = time.perf_counter(), server.cpu_seconds()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        out["concurrent_rps"] = requests / (time.perf_counter() - started)
        out["concurrent_cpu"] = (server.cpu_seconds() - cpu) / requests
        out["concurrent_p50"] = percentile(times, 0.5)
    return out


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


async def export(url: str) -> dict[str, Any]:
    """In a fresh process (see `export_in_child`): the export over three years, timed, with ru_maxrss before
    and after; then again under tracemalloc for its peak Python allocation."""
    from db.engine import Database
    from resolvers.hmis_export import export_hmis_csv_as_system

    db = Database(url)
    start, end = date.today() - timedelta(days=3 * 365), date.today()
    out: dict[str, Any] = {}
    try:
        async with db.read() as session:  # connected, so that the figures are the export's
            await session.execute(select(1))
        out["rss_before"] = maxrss_mb()
        started = time.perf_counter()
        result = await export_hmis_csv_as_system(db, coc_code=COC, start=start, end=end)
        out["seconds"] = time.perf_counter() - started
        out["rss_after"] = maxrss_mb()
        out["zip_bytes"] = len(result.content)
        out["rows"] = dict(result.rows)
        tracemalloc.start()
        started = time.perf_counter()
        await export_hmis_csv_as_system(db, coc_code=COC, start=start, end=end)
        out["traced_seconds"] = time.perf_counter() - started
        out["peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    finally:
        await db.dispose()
    return out


async def export_in_child(url: str) -> dict[str, Any]:
    """Run `export` in its own Python process, so that its max RSS is not this process's (which populated the data)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.coordinated_entry", "--export-from", url,
        stdout=asyncio.subprocess.PIPE, env=dict(os.environ, REFERLOOP_ENV="development", SECRET_KEY=SECRET_KEY),
    )
    stdout, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the export process exited with {process.returncode}")
    figures: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    return figures


async def run(args: argparse.Namespace) -> None:
    from db import migrate

    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="referloop-bench-ce-"))
    server: Server | None = None
    try:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
        await asyncio.to_thread(migrate.upgrade, url)
        started = time.perf_counter()
        await populate(url, args.clients)
        log(f"migrated and populated {args.clients} assessed clients in {time.perf_counter() - started:.1f} s ({tmp})")
        lines: list[str] = []
        if not args.skip_page:
            server = Server(url, tmp, profile=None, notifications=False)
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
                await server.wait_ready(http)
                log(f"server pid {server.process.pid} on {server.base}")
                token = await sign_in(http, CE_MANAGER)
            auth, page, total = await page_statements(url, token)
            figures = await page_http(server, token, requests=args.requests, concurrency=args.concurrency)
            await asyncio.to_thread(server.stop)
            server = None
            lines.append(
                f"priority list page of 50 ({total} on the list): {figures['sequential_rps']:.0f} req/s sequential "
                f"(p50 {figures['sequential_p50'] * 1000:.1f} ms, server CPU {figures['sequential_cpu'] * 1000:.1f} ms/request), "
                f"{figures['concurrent_rps']:.0f} req/s at concurrency {args.concurrency} "
                f"(p50 {figures['concurrent_p50'] * 1000:.1f} ms, server CPU {figures['concurrent_cpu'] * 1000:.1f} ms/request), "
                f"{len(page)} SQL statements per request (+{len(auth)} to authenticate); {args.requests} requests each"
            )
            if args.verbose:
                lines += ["    " + " ".join(s.split())[:200] for s in [*auth, "--- page:", *page]]
            log(lines[-1])
        if not args.skip_export:
            exported = await export_in_child(url)
            rows: dict[str, int] = exported["rows"]
            lines.append(
                f"HMIS CSV export of {rows.get('Client.csv', 0)} clients ({rows.get('Enrollment.csv', 0)} enrollment rows, "
                f"{rows.get('Assessment.csv', 0)} assessments, {rows.get('Event.csv', 0)} events): {exported['seconds']:.2f} s, "
                f"zip {exported['zip_bytes'] / 1e6:.1f} MB; peak Python allocation {exported['peak_mb']:.0f} MB (tracemalloc, "
                f"that run {exported['traced_seconds']:.2f} s); export process's max RSS {exported['rss_before']:.0f} MB "
                f"before, {exported['rss_after']:.0f} MB after"
            )
            log(lines[-1])
        print()
        load_after = os.getloadavg()
        print(
            f"Referloop CE bench, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
            f"1-minute load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (other work on the machine "
            "skews the figures)"
        )
        for line in lines:
            print(line)
    except BaseException:
        if server is not None and server.process.poll() is not None:
            log(f"server log:\n{server.tail()}")
        raise
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.coordinated_entry", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000, help="assessed clients on the list (default 10,000)")
    parser.add_argument("--requests", type=int, default=100, help="page requests, sequentially and again concurrently (default 100)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--time-limit", type=float, default=240.0, help="seconds for the whole bench")
    parser.add_argument("--skip-page", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="also print the SQL statements of a page request")
    parser.add_argument("--export-from", default=None, help=argparse.SUPPRESS)  # the export's own process
    args = parser.parse_args()
    if args.export_from:
        print(json.dumps(asyncio.run(export(args.export_from))))
        return

    async def bounded() -> None:
        await asyncio.wait_for(run(args), args.time_limit)

    try:
        asyncio.run(bounded())
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
