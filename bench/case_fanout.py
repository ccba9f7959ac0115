"""The fan-out cost of a shared case's live page, beside the referral dashboards' at the same N.

    .venv/bin/python -m bench.case_fanout            # or: make bench

One case, its team from four organizations (some with consent-derived rights, some without), the
lead organization's admins and the household's head; N graphql-transport-ws connections subscribed
to `caseChanged` with the case page's own selection (web/app/src/lib/cases.js); the lead adds one
note at a time. Measured: commit-to-delivery p50/p99 over every (change, subscriber), server CPU per
change, and SQL statements per change, counted inside the server (bench/counting_server.py). Then
the referral dashboards of bench.live_and_inbound at the same N, on the same server, so the machine
state is the same. Prints figures, never pass/fail; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import select
from websockets.typing import Subprotocol

from bench.live_and_inbound import (
    INTAKE,
    LiveResult,
    Server,
    live_phase,
    log,
    ms,
    percentile,
    raise_fd_limit,
    seed,
    sign_in,
    wait_subscribers,
)

LEAD = "navigator@test.example"  # Nadia Navigator, Eastside Navigators: leads the case
HEAD = "seeker@test.example"  # Sam Seeker, the household's head, with an account

CASE_FIELDS = """
fragment CaseFields on Case {
  id version stage openedOn movedInOn stabilizingOn closedOn closureReason assistanceEndsOn
  withheld viewerCan lastSeq
  leadOrganization { id name }
  leadContacts { id person { id name } organization { id name } role }
  workers { id person { id name } organization { id name } role addedOn }
  household { seekerId isHead firstName lastName email phone }
  records {
    id kind scope organizationId on body version createdAt
    goalStatus targetDate
    contactType minutes location intensity strengths
    attendees nextSteps { who what by }
    assistanceKind amount payee periodStart periodEnd
    linkedId
  }
}"""
# What the case page subscribes to (web/app/src/lib/cases.js).
CASE_CHANGED = (
    "subscription CaseChanged($caseId: ID!, $afterSeq: Int) {\n"
    "  caseChanged(caseId: $caseId, afterSeq: $afterSeq) { seq kind at case { ...CaseFields } }\n"
    "} " + CASE_FIELDS
)
# The lead's note: a small selection, so the response arrives soon after the commit.
ADD_NOTE = "mutation AddNote($input: AddCaseNoteInput!) { addCaseNote(input: $input) { id version } }"

# Who watches the case, by what their consent-derived rights make of it. The lead organization's
# members and admins see everything; the child welfare agency's members see case notes and contact
# details (a release to them, and the agreement); the housing agency's case notes only; the
# clinic, a party to the agreement with no release, only what exists and who leads; the head, the
# household's own view.
CLASSES = {
    "lead member": 8,
    "lead admin": 9,
    "child welfare member": 8,
    "housing member": 7,
    "clinic member": 7,
    "household head": 1,
}


# --------------------------------------------------------------------------------------------
# Data


@dataclass
class CaseWorld:
    case_id: str  # global id
    viewers: list[tuple[str, str]]  # (email, class), interleaved so that any prefix mixes the classes
    other_cases: int
    records: int


async def seed_cases(url: str, *, other_cases: int) -> CaseWorld:
    """The measured case and its watchers, on top of the test network; and `other_cases` more cases like it."""
    from argon2 import PasswordHasher

    from db.accounts import Membership, Organization, Role, User
    from db.cases import Case, CaseMember, CaseRecord, CaseRole, CaseSeeker, RecordKind
    from db.consent import (
        AgreementParty,
        AgreementScope,
        CaptureMethod,
        Consent,
        ConsentScope,
        DataSharingAgreement,
        GrantedBy,
        Scope,
    )
    from db.engine import Database
    from db.seekers import ContactPreference, Seeker
    from schema.ids import to_global_id
    from tests.support import PASSWORD

    today = date.today()
    password_hash = PasswordHasher().hash(PASSWORD)
    db = Database(url)
    try:
        async with db.write() as s:
            orgs = {o.name: o for o in await s.scalars(select(Organization))}
            navs, clinic = orgs["Eastside Navigators"], orgs["Northside Clinic"]
            cw, housing = Organization(name="County Child Welfare"), Organization(name="Harbor Housing Authority")
            s.add_all([cw, housing])
            await s.flush()
            org_of = {"lead member": navs, "lead admin": navs, "child welfare member": cw, "housing member": housing,
                      "clinic member": clinic}
            people: dict[str, list[User]] = defaultdict(list)
            people["lead member"].append(await s.scalar(select(User).where(User.email == LEAD)))  # type: ignore[arg-type]
            people["household head"].append(await s.scalar(select(User).where(User.email == HEAD)))  # type: ignore[arg-type]
            for cls, count in CLASSES.items():
                while len(people[cls]) < count:
                    n = len(people[cls])
                    user = User(name=f"{cls.title()} {n}", email=f"{cls.replace(' ', '.')}.{n}@bench.example",
                                password_hash=password_hash)
                    s.add(user)
                    await s.flush()
                    role = Role.ADMIN if cls == "lead admin" else Role.NAVIGATOR
                    s.add(Membership(user_id=user.id, organization_id=org_of[cls].id, role=role))
                    people[cls].append(user)
            head = await s.scalar(select(Seeker).where(Seeker.user_id == people["household head"][0].id))
            assert head is not None
            agreement = DataSharingAgreement(name="Families First MOA", purpose="Supportive housing", starts_on=today)
            s.add(agreement)
            await s.flush()
            s.add_all(AgreementParty(agreement_id=agreement.id, organization_id=o.id) for o in (navs, cw, housing, clinic))
            s.add_all(AgreementScope(agreement_id=agreement.id, scope=sc)
                      for sc in (Scope.CASE_NOTES, Scope.CONTACT, Scope.CHILD_WELFARE))

            def release(seeker_id: int, to: Organization, scopes: tuple[Scope, ...]) -> None:
                consent = Consent(
                    seeker_id=seeker_id, to_organization_id=to.id, starts_on=today, ends_on=today + timedelta(days=3 * 365),
                    granted_by=GrantedBy.SEEKER, captured_how=CaptureMethod.SIGNED_PAPER,
                )
                s.add(consent)
                pending.append((consent, scopes))

            pending: list[tuple[Consent, tuple[Scope, ...]]] = []
            members = [(u, org_of[cls]) for cls in CLASSES if cls not in ("lead admin", "household head") for u in people[cls]]
            writers = [people["lead member"][0], people["child welfare member"][0], people["housing member"][0]]

            def file_of(case: Case) -> list[CaseRecord]:
                rows = []
                for i in range(10):
                    rows.append(CaseRecord(case_id=case.id, kind=RecordKind.NOTE, scope=Scope.CASE_NOTES, organization_id=navs.id,
                                           author_user_id=writers[0].id, on=today, body=f"Lead's note {i}: " + "visit went well. " * 8))
                for i in range(3):
                    rows.append(CaseRecord(case_id=case.id, kind=RecordKind.ASSISTANCE, scope=Scope.FINANCIAL_ASSISTANCE,
                                           organization_id=navs.id, author_user_id=writers[0].id, on=today,
                                           details={"kind": "RENT", "amount": "950.00", "payee": "Elm St Apartments",
                                                    "periodStart": None, "periodEnd": None}))
                for i in range(4):
                    rows.append(CaseRecord(case_id=case.id, kind=RecordKind.NOTE, scope=Scope.CHILD_WELFARE, organization_id=cw.id,
                                           author_user_id=writers[1].id, on=today, body=f"Safety plan review {i}"))
                for i in range(3):
                    rows.append(CaseRecord(case_id=case.id, kind=RecordKind.NOTE, scope=Scope.CASE_NOTES, organization_id=housing.id,
                                           author_user_id=writers[2].id, on=today, body=f"Unit inspection {i}"))
                return rows

            async def open_case(seeker_id: int, team: list[tuple[User, Organization]]) -> Case:
                case = Case(lead_organization_id=navs.id, opened_on=today, created_by_user_id=writers[0].id)
                s.add(case)
                await s.flush()
                s.add(CaseSeeker(case_id=case.id, seeker_id=seeker_id, is_head=True))
                for i, (user, org) in enumerate(team):
                    role = CaseRole.LEAD_CASE_MANAGER if i == 0 else CaseRole.LIAISON if org is not navs else CaseRole.OTHER
                    s.add(CaseMember(case_id=case.id, user_id=user.id, organization_id=org.id, role=role, added_on=today))
                s.add_all(file_of(case))
                return case

            case = await open_case(head.id, members)
            release(head.id, cw, (Scope.CASE_NOTES, Scope.CONTACT))
            release(head.id, housing, (Scope.CASE_NOTES,))
            for n in range(other_cases):
                seeker = Seeker(first_name=f"Other{n}", last_name="Household", contact_preference=ContactPreference.NONE,
                                created_by_user_id=writers[0].id)
                s.add(seeker)
                await s.flush()
                team = [members[0], members[8 + n % 8], members[16 + n % 7], members[23 + n % 7]]
                await open_case(seeker.id, team)
                release(seeker.id, cw, (Scope.CASE_NOTES, Scope.CONTACT))
            await s.flush()
            for consent, scopes in pending:
                s.add_all(ConsentScope(consent_id=consent.id, scope=sc) for sc in scopes)
            case_id = case.id
        order: list[tuple[str, str]] = []
        queues = {cls: list(people[cls]) for cls in CLASSES}
        while any(queues.values()):
            for cls, queue in queues.items():
                if queue:
                    order.append((queue.pop(0).email, cls))
        return CaseWorld(case_id=to_global_id("Case", case_id), viewers=order, other_cases=other_cases, records=20)
    finally:
        await db.dispose()


# --------------------------------------------------------------------------------------------
# N case pages, K notes


async def statements_now(http: httpx.AsyncClient) -> Counter[str]:
    return Counter((await http.get("/bench/statements", timeout=10)).json())


class Arrivals:
    def __init__(self, subscribers: int) -> None:
        self.subscribers = subscribers
        self.counts: dict[int, int] = defaultdict(int)
        self.complete: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.errors: list[str] = []
        self.seen: dict[str, tuple[int, int, bool]] = {}  # class -> (records, withheld, household shown) on the last push

    def arrived(self, version: int) -> None:
        self.counts[version] += 1
        if self.counts[version] == self.subscribers:
            self.complete[version].set()


class CasePage:
    """One graphql-transport-ws connection following the case, as one viewer."""

    def __init__(self, arrivals: Arrivals, cls: str) -> None:
        self.arrivals, self.cls = arrivals, cls
        self.ws: Any = None
        self.times: dict[int, float] = {}
        self.reader: asyncio.Task[None] | None = None
        self.bytes = 0

    async def open(self, url: str, token: str, case_id: str, *, timeout: float) -> None:
        self.ws = await websockets.connect(
            url, subprotocols=[Subprotocol("graphql-transport-ws")], ping_interval=None, open_timeout=timeout, max_size=2**22
        )
        await self.ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        ack = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"connection refused: {ack}")
        payload = {"query": CASE_CHANGED, "variables": {"caseId": case_id}}
        await self.ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                arrived = time.perf_counter()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        self.arrivals.errors.append(json.dumps(payload["errors"])[:300])
                        continue
                    case = payload["data"]["caseChanged"]["case"]
                    self.bytes = len(raw)
                    self.arrivals.seen[self.cls] = (len(case["records"]), len(case["withheld"]), bool(case["household"]))
                    self.times.setdefault(case["version"], arrived)
                    self.arrivals.arrived(case["version"])
                elif kind == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                elif kind in ("error", "complete"):
                    self.arrivals.errors.append(str(raw)[:300])
        except websockets.ConnectionClosed:
            pass

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except (TimeoutError, websockets.WebSocketException, OSError):
                pass


@dataclass
class CaseResult:
    subscribers: int
    viewers: int
    changes: int
    other_cases: int
    from_send: list[float] = field(default_factory=list)
    from_response: list[float] = field(default_factory=list)
    mutation: list[float] = field(default_factory=list)
    last_from_send: list[float] = field(default_factory=list)
    missed: int = 0
    server_cpu: float = 0.0
    statements: Counter[str] = field(default_factory=Counter)
    open_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    seen: dict[str, tuple[int, int, bool]] = field(default_factory=dict)
    payload_bytes: int = 0


class Note:
    def __init__(self, case_id: str, version: int) -> None:
        self.case_id, self.version, self.n = case_id, version, 0

    async def add(self, http: httpx.AsyncClient, headers: dict[str, str]) -> tuple[float, float, int]:
        self.n += 1
        variables = {"input": {"caseId": self.case_id, "on": date.today().isoformat(), "body": f"Bench note {self.n}"}}
        sent = time.perf_counter()
        response = await http.post("/graphql", json={"query": ADD_NOTE, "variables": variables}, headers=headers, timeout=60)
        answered = time.perf_counter()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"addCaseNote failed: {body['errors']}")
        self.version = body["data"]["addCaseNote"]["version"]
        return sent, answered, self.version


async def case_phase(
    server: Server, http: httpx.AsyncClient, tokens: dict[str, str], world: CaseWorld, note: Note, *,
    subscribers: int, changes: int, timeout: float, verbose: bool,
) -> CaseResult:
    headers = {"authorization": f"Bearer {tokens[LEAD]}"}
    arrivals = Arrivals(subscribers)
    who = [world.viewers[i % len(world.viewers)] for i in range(subscribers)]
    pages = [CasePage(arrivals, cls) for _, cls in who]
    result = CaseResult(subscribers=subscribers, viewers=len({e for e, _ in who}), changes=changes, other_cases=world.other_cases)
    await wait_subscribers(http, lambda n: n == 0, "the previous subscribers to leave")
    try:
        if subscribers:
            started = time.perf_counter()
            gate = asyncio.Semaphore(50)

            async def open_one(page: CasePage, email: str) -> None:
                async with gate:
                    await page.open(server.ws_url, tokens[email], world.case_id, timeout=timeout)

            await asyncio.wait_for(asyncio.gather(*(open_one(p, e) for p, (e, _) in zip(pages, who, strict=True))), timeout * 3)
            await wait_subscribers(http, lambda n: n >= subscribers, f"{subscribers} case subscriptions")
            result.open_seconds = time.perf_counter() - started
            log(f"{subscribers} case pages ({result.viewers} people) subscribed in {result.open_seconds:.1f} s")
        for _ in range(2):  # warm up: every page must have it
            _, _, version = await note.add(http, headers)
            if subscribers:
                await asyncio.wait_for(arrivals.complete[version].wait(), timeout)
        await asyncio.sleep(0.2)

        cpu, statements = server.cpu_seconds(), await statements_now(http)
        for _ in range(changes):
            sent, answered, version = await note.add(http, headers)
            result.mutation.append(answered - sent)
            if subscribers:
                try:
                    await asyncio.wait_for(arrivals.complete[version].wait(), timeout)
                except TimeoutError:
                    pass
            else:
                await asyncio.sleep(0.1)  # let the hub's dispatch finish
            times = [p.times[version] for p in pages if version in p.times]
            result.missed += subscribers - len(times)
            result.from_send += [t - sent for t in times]
            result.from_response += [t - answered for t in times]
            if times:
                result.last_from_send.append(max(times) - sent)
                if verbose:
                    log(f"  note v{version}: mutation {ms(answered - sent)}, first {ms(min(times) - sent)}, "
                        f"last {ms(max(times) - sent)} after sending")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the last pushes' audit rows
        result.server_cpu = server.cpu_seconds() - cpu
        result.statements = await statements_now(http) - statements
        result.errors, result.seen = arrivals.errors, dict(arrivals.seen)
        result.payload_bytes = max((p.bytes for p in pages), default=0)
        return result
    finally:
        gate = asyncio.Semaphore(100)

        async def close_one(p: CasePage) -> None:
            async with gate:
                await p.close()

        await asyncio.gather(*(close_one(p) for p in pages), return_exceptions=True)


# --------------------------------------------------------------------------------------------
# Report


def per_change(r: CaseResult) -> float:
    return sum(r.statements.values()) / r.changes


def describe_case(r: CaseResult, baseline: CaseResult | None) -> list[str]:
    label = f"case: {r.subscribers} pages".ljust(24)
    if not r.subscribers:
        return [f"{label} no subscriber: server CPU {ms(r.server_cpu / r.changes)} per note, "
                f"{per_change(r):.1f} SQL statements per note (the mutation, its answer, the hub)"]
    if not r.from_send:
        return [f"{label} no deliveries measured; errors {r.errors[:2]}"]
    fanout = per_change(r) - (per_change(baseline) if baseline else 0.0)
    top = ", ".join(f"{k} {v / r.changes:.0f}" for k, v in r.statements.most_common(6))
    lines = [
        f"{label} p50 {ms(percentile(r.from_send, 0.5))}  p99 {ms(percentile(r.from_send, 0.99))}  max {ms(max(r.from_send))}  "
        f"from sending addCaseNote  ({r.changes} notes x {r.subscribers} pages = {len(r.from_send)} deliveries; "
        f"{r.viewers} people{', ' + str(r.other_cases) + ' other cases in the database' if r.other_cases else ''})",
        f"{'':24} p50 {ms(percentile(r.from_response, 0.5))}  p99 {ms(percentile(r.from_response, 0.99))}  from its response; "
        f"last page served p50 {ms(percentile(r.last_from_send, 0.5))} after sending; mutation p50 {ms(percentile(r.mutation, 0.5))}",
        f"{'':24} server CPU {ms(r.server_cpu / r.changes)} per note ({ms(r.server_cpu / r.changes / r.subscribers)} per page); "
        f"SQL {per_change(r):.0f} statements per note, {fanout / r.subscribers:.1f} per page beyond the mutation's; "
        f"largest push {r.payload_bytes / 1000:.1f} kB",
        f"{'':24} statements per note: {top}",
        f"{'':24} what each kind of viewer was pushed (records, withheld, household shown): "
        + "; ".join(f"{k} {v}" for k, v in sorted(r.seen.items())),
    ]
    if r.missed or r.errors:
        lines.append(f"{'':24} missed {r.missed}, errors {len(r.errors)} {r.errors[:1]}")
    return lines


def row(case: CaseResult, live: LiveResult | None) -> str:
    cells = [
        f"{case.subscribers}",
        f"{ms(percentile(case.from_send, 0.5))} / {ms(percentile(case.from_send, 0.99))}" if case.from_send else "-",
        f"{ms(case.server_cpu / case.changes)}",
        f"{per_change(case):.0f}",
    ]
    if live is not None and live.from_send:
        cells += [f"{ms(percentile(live.from_send, 0.5))} / {ms(percentile(live.from_send, 0.99))}", f"{ms(live.server_cpu / live.changes)}"]
    else:
        cells += ["-", "-"]
    return "| " + " | ".join(cells) + " |"


# --------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    from db import migrate

    load_before = os.getloadavg()
    raise_fd_limit(max(args.subscribers, default=0) * 2 + 256)
    printed: list[str] = []
    for other_cases in args.other_cases:
        tmp = Path(tempfile.mkdtemp(prefix="referloop-bench-cases-"))
        server: Server | None = None
        try:
            url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
            await asyncio.to_thread(migrate.upgrade, url)
            phases = [n for n in args.subscribers if n] if not args.skip_dashboards and other_cases == args.other_cases[0] else []
            seeded = await seed(url, live_phases=max(1, len(phases)), inbound=0)
            world = await seed_cases(url, other_cases=other_cases)
            log(f"seeded the case ({len(world.viewers)} people watching it, {other_cases} other cases) in {tmp}")
            server = Server(url, tmp, profile=args.profile, notifications=False, app="bench.counting_server:app")
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
                await server.wait_ready(http)
                log(f"server pid {server.process.pid} on {server.base}")
                tokens = {email: await sign_in(http, email) for email, _ in world.viewers}
                intake = await sign_in(http, INTAKE)
                note = Note(world.case_id, 1)
                baseline = await case_phase(server, http, tokens, world, note, subscribers=0, changes=args.changes,
                                            timeout=args.timeout, verbose=False)
                for line in describe_case(baseline, None):
                    log(line)
                cases: list[CaseResult] = []
                lives: dict[int, LiveResult] = {}
                for n in [n for n in args.subscribers if n]:
                    result = await case_phase(server, http, tokens, world, note, subscribers=n, changes=args.changes,
                                              timeout=args.timeout, verbose=args.verbose)
                    for line in describe_case(result, baseline):
                        log(line)
                    cases.append(result)
                    if n in phases:
                        live = await live_phase(server, http, intake, seeded.live_referrals[phases.index(n)], dashboards=n,
                                                changes=args.changes, timeout=args.timeout)
                        log(f"live: {n} referral dashboards p50 {ms(percentile(live.from_send, 0.5))} p99 "
                            f"{ms(percentile(live.from_send, 0.99))}, server CPU {ms(live.server_cpu / live.changes)} per change")
                        lives[n] = live
            printed += ["", f"World: one case{f' among {other_cases} others' if other_cases else ''}; SQLite; "
                            f"{args.changes} notes per phase", ""]
            for line in describe_case(baseline, None):
                printed.append(line)
            for result in cases:
                printed += describe_case(result, baseline)
            printed += ["", "| N | case pages p50 / p99 from sending | server CPU per note | SQL per note "
                            "| referral dashboards p50 / p99 | server CPU per change |", "|---|---|---|---|---|---|"]
            printed += [row(r, lives.get(r.subscribers)) for r in cases]
        except BaseException:
            if server is not None and server.process.poll() is not None:
                log(f"server log:\n{server.tail()}")
            raise
        finally:
            if server is not None:
                await asyncio.to_thread(server.stop)
            shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    print()
    print(
        f"Referloop case fan-out bench, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}; 1-minute load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    print("Server: uvicorn bench.counting_server:app (web.app:app counting its SQL) in its own process, 1 worker, "
          "SQLite file, broadcast memory://; clients in this process, one reader task per websocket.")
    for line in printed:
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.case_fanout", description=__doc__.split("\n\n")[0])
    ints = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
    parser.add_argument("--subscribers", type=ints, default=[10, 100, 300], help="case pages per phase (default 10,100,300)")
    parser.add_argument("--other-cases", type=ints, default=[0, 500],
                        help="worlds to run: how many other cases the database holds (default 0,500)")
    parser.add_argument("--changes", type=int, default=5, help="measured notes (and referral changes) per phase (default 5)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for any one step")
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds for the whole bench")
    parser.add_argument("--skip-dashboards", action="store_true", help="do not run the referral dashboards beside")
    parser.add_argument("--verbose", action="store_true", help="print each note's timings")
    parser.add_argument("--profile", type=Path, default=None, help="run the server under cProfile, writing stats here")
    args = parser.parse_args()
    if args.profile is not None:
        args.profile = args.profile.resolve()
    try:
        import uvloop

        loop_factory: Any = uvloop.new_event_loop
    except ImportError:
        loop_factory = None

    async def bounded() -> None:
        await asyncio.wait_for(run(args), args.time_limit)

    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(bounded())
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
