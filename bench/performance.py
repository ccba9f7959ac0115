"""Shared performance measures over 100,000 referrals: seconds per `performance` query, and its SQL statements.

Figures only, never pass/fail. A temporary SQLite file (and, with `--postgres URL`, a throwaway
database on that server) gets the test network (tests.support) plus N referrals (default 100,000)
spread over three years across 20 programs of four organizations of the CoC XX-500, inserted in
bulk: each with its history (created, then for most the program's answer and for many a closing
status), a third with an enrollment after it (half of those with a move-in), one in ten a CE
referral with its event. Then `performance(scope, from, to)` over the whole three years is run
in-process through the schema, as the CoC's CE manager, for one program, one organization and the
CoC: one warm-up run, then the median of `--runs` timed runs, and the statements one run sends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text

from bench.live_and_inbound import count_statements, log

COC = "XX-500"
CE_MANAGER = "ce-bench@test.example"
QUERY = """
query($scope: PerformanceScopeInput!, $from: Date!, $to: Date!) {
  performance(scope: $scope, from: $from, to: $to) {
    referralsMade acknowledged acknowledgedShare medianDaysToAcknowledge gotHelp gotHelpShare
    resolved resolvedShare medianDaysToResolve enrolled enrolledShare housed housedShare medianDaysToMoveIn
    byStatus { status count } byNotHousedReason { reason count } series { periodStart made gotHelp housed }
  }
}
"""
BATCH = 5000
DAYS = 3 * 365
OPEN = ("PENDING", "ELIGIBLE", "NEEDS_CLIENT_ACTION")
CLOSED = ("GOT_HELP", "GOT_HELP", "GOT_HELP", "COULDNT_GET_HELP", "COULDNT_CONTACT", "NOT_ELIGIBLE", "NO_CAPACITY",
          "NO_LONGER_INTERESTED")
REASONS = ("CLIENT_DECLINED_UNIT", "CLIENT_LOST_CONTACT", "LANDLORD_DECLINED", "NOT_ELIGIBLE", "OTHER")


async def populate(url: str, referrals: int) -> dict[str, int]:
    """The network, the CE manager, 20 programs and `referrals` referrals with their histories; the ids the queries use."""
    from db.accounts import ContinuumOfCare, Membership, Organization, Role, User
    from db.base import utcnow
    from db.coordinated_entry import CeEvent
    from db.engine import Database
    from db.enrollments import Enrollment, Household
    from db.programs import ConnectMode, Program
    from db.referrals import Referral, StatusChange
    from db.seekers import Seeker
    from tests.support import add_member, build_network

    db = Database(url)
    rng = random.Random(100_000)
    try:
        network = await build_network(db)
        await add_member(db, CE_MANAGER, organization_id=network.pks["navs"], role=Role.CE_MANAGER, name="Bench CE")
        now = utcnow()
        first_day = now - timedelta(days=DAYS)
        async with db.write() as s:
            coc = await s.scalar(select(ContinuumOfCare).where(ContinuumOfCare.code == COC))
            assert coc is not None
            orgs = [network.pks["food"], network.pks["clinic"]]
            for n in range(2):
                org = Organization(name=f"Bench Agency {n}", coc_id=coc.id)
                s.add(org)
                await s.flush()
                orgs.append(org.id)
            programs = [Program(organization_id=orgs[i % 4], name=f"Bench program {i}", connect_mode=ConnectMode.APPLY,
                                hud_project_type=13 if i % 5 == 0 else None, coc_id=coc.id if i % 5 == 0 else None)
                        for i in range(20)]
            s.add_all(programs)
            await s.flush()
            # One staff member per organization answers its referrals.
            staff: dict[int, int] = {}
            for org_id in orgs:
                user = User(name=f"Staff {org_id}", email=f"staff{org_id}@bench.example", password_hash=None)
                s.add(user)
                await s.flush()
                s.add(Membership(user_id=user.id, organization_id=org_id, role=Role.PROGRAM_STAFF))
                staff[org_id] = user.id
            program_rows = [(p.id, p.organization_id, p.hud_project_type is not None) for p in programs]
            coc_id = coc.id
        for start in range(0, referrals, BATCH):
            n = min(BATCH, referrals - start)
            async with db.write() as s:
                seeker_ids = list((await s.scalars(insert(Seeker).returning(Seeker.id), [
                    {"first_name": f"Client{start + i}", "last_name": "Bench", "contact_preference": "NONE",
                     "created_at": first_day, "updated_at": now}
                    for i in range(n)
                ])).all())
                rows: list[dict[str, Any]] = []
                plans: list[tuple[datetime, list[tuple[float, str, int | None]], tuple[int, int, bool]]] = []
                for i in range(n):
                    created = first_day + timedelta(seconds=rng.randrange(DAYS * 86400 - 86400 * 30))
                    program = program_rows[rng.randrange(len(program_rows))]
                    changes: list[tuple[float, str, int | None]] = []
                    if rng.random() < 0.8:
                        changes.append((rng.uniform(0, 10), OPEN[rng.randrange(len(OPEN))], staff[program[1]]))
                    if rng.random() < 0.6:
                        at = (changes[-1][0] if changes else 0) + rng.uniform(0, 20)
                        changes.append((at, CLOSED[rng.randrange(len(CLOSED))], staff[program[1]] if rng.random() < 0.8 else None))
                    plans.append((created, changes, program))
                    rows.append({
                        "kind": "LIVE", "status": changes[-1][1] if changes else "NOT_UPDATED", "version": 1 + len(changes),
                        "seeker_id": seeker_ids[i], "program_id": program[0], "program_organization_id": program[1],
                        "navigator_id": 1, "navigator_organization_id": network.pks["navs"], "team_id": None, "site_id": None,
                        "contact_preference": "NONE", "consent": True, "consent_at": created, "screener_answers": [],
                        "created_at": created, "updated_at": created,
                    })
                referral_ids = list((await s.scalars(insert(Referral).returning(Referral.id), rows)).all())
                history: list[dict[str, Any]] = []
                enrollments: list[dict[str, Any]] = []
                events: list[dict[str, Any]] = []
                for rid, sid, (created, changes, program) in zip(referral_ids, seeker_ids, plans):
                    history.append({"referral_id": rid, "from_status": None, "to_status": "NOT_UPDATED", "note": None,
                                    "changed_by_user_id": 1, "source": "DASHBOARD", "at": created})
                    previous = "NOT_UPDATED"
                    for days, to, by in changes:
                        history.append({"referral_id": rid, "from_status": previous, "to_status": to, "note": None,
                                        "changed_by_user_id": by, "source": "DASHBOARD" if by else "EMAIL",
                                        "at": created + timedelta(days=days)})
                        previous = to
                    if rng.random() < 1 / 3:
                        entry = created.date() + timedelta(days=rng.randrange(30))
                        move_in = entry + timedelta(days=rng.randrange(60)) if rng.random() < 0.5 else None
                        enrollments.append({"seeker_id": sid, "program_id": program[0], "entry_date": entry, "move_in_date": move_in})
                    if program[2] and rng.random() < 0.5:
                        result = 1 + rng.randrange(3) if changes else None
                        events.append({
                            "seeker_id": sid, "coc_id": coc_id, "event_date": created.date(), "event_type": 13, "referral_id": rid,
                            "program_id": program[0], "result": result, "result_date": created.date() if result else None,
                            "acknowledged_on": created.date() + timedelta(days=rng.randrange(5)) if rng.random() < 0.7 else None,
                            "not_housed_reason": REASONS[rng.randrange(len(REASONS))] if result in (2, 3) else None,
                            "created_at": created, "updated_at": created,
                        })
                await s.execute(insert(StatusChange), history)
                if enrollments:
                    households = list((await s.scalars(insert(Household).returning(Household.id),
                                                       [{"created_at": now}] * len(enrollments))).all())
                    await s.execute(insert(Enrollment), [
                        {**e, "household_id": h, "relationship_to_hoh": 1, "created_at": now, "updated_at": now}
                        for e, h in zip(enrollments, households)
                    ])
                if events:
                    await s.execute(insert(CeEvent), events)
        return {"program": program_rows[1][0], "organization": network.pks["food"]}
    finally:
        await db.dispose()


async def measure(url: str, ids: dict[str, int], runs: int) -> list[str]:
    """Each scope's query: the median seconds of `runs` (after one warm-up), the statements of one run, its referrals."""
    from db.accounts import User
    from db.settings import Settings
    from resolvers.runtime import Runtime
    from resolvers.viewer import load_viewer
    from schema import schema
    from schema.context import Context
    from schema.ids import to_global_id

    settings = Settings(environment="development", database_url=url, secret_key="x" * 40, notifications_worker=False)
    runtime = Runtime.create(settings)
    today = datetime.now(timezone.utc).date()
    span = {"from": (today - timedelta(days=DAYS)).isoformat(), "to": today.isoformat()}
    lines = []
    try:
        async with runtime.db.read() as session:
            user_id = await session.scalar(select(User.id).where(User.email == CE_MANAGER))
            assert user_id is not None
            viewer = await load_viewer(session, user_id)
        scopes = {
            "one program": {"programId": to_global_id("Program", ids["program"])},
            "one organization": {"organizationId": to_global_id("Organization", ids["organization"])},
            "the CoC": {"cocCode": COC},
        }
        for label, scope in scopes.items():
            times: list[float] = []
            made = 0
            statements: list[str] = []
            for run in range(runs + 1):
                with count_statements(runtime.db.engine) as sent:
                    started = time.perf_counter()
                    result = await schema.execute(
                        QUERY, {"scope": scope, **span}, context_value=Context(runtime=runtime, request=None, viewer=viewer)  # type: ignore[arg-type]
                    )
                    took = time.perf_counter() - started
                if result.errors or result.data is None:
                    raise RuntimeError(f"performance failed: {result.errors}")
                made = int(result.data["performance"]["referralsMade"])
                statements = [s for s in sent if s.strip() != "BEGIN"]
                if run:
                    times.append(took)
            lines.append(
                f"{label} ({made} referrals made): {statistics.median(times):.3f} s per query (median of {runs}; "
                f"min {min(times):.3f}, max {max(times):.3f}), {len(statements)} SQL statements"
            )
            log(lines[-1])
    finally:
        await runtime.db.dispose()
    return lines


async def bench(url: str, args: argparse.Namespace, what: str) -> list[str]:
    from db import migrate

    await asyncio.to_thread(migrate.upgrade, url)
    started = time.perf_counter()
    ids = await populate(url, args.referrals)
    log(f"{what}: migrated and populated {args.referrals} referrals in {time.perf_counter() - started:.1f} s")
    return [f"{what}: {line}" for line in await measure(url, ids, args.runs)]


async def run(args: argparse.Namespace) -> None:
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="referloop-bench-performance-"))
    lines: list[str] = []
    try:
        lines += await bench(f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}", args, "SQLite")
        if args.postgres:
            name = f"referloop_bench_performance_{os.getpid()}"
            admin = create_engine(args.postgres.replace("+asyncpg", "+psycopg") + "/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f"CREATE DATABASE {name}"))
            try:
                lines += await bench(f"{args.postgres}/{name}", args, "PostgreSQL")
            finally:
                with admin.connect() as c:
                    c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                admin.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    load_after = os.getloadavg()
    print(
        f"Referloop performance-measures bench, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}; {args.referrals} referrals over three years, the query over all three; 1-minute load "
        f"average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    for line in lines:
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.performance", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--referrals", type=int, default=100_000, help="referrals over three years (default 100,000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per scope, after one warm-up (default 5)")
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES_URL"),
        help="also on this PostgreSQL server, e.g. postgresql+asyncpg://postgres@127.0.0.1:54329 (default: $BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds for the whole bench")
    args = parser.parse_args()

    async def bounded() -> None:
        await asyncio.wait_for(run(args), args.time_limit)

    try:
        asyncio.run(bounded())
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
