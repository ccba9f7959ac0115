"""Live-update latency with many dashboards, and the cost of the inbound referrals page.

    .venv/bin/python -m bench.live_and_inbound            # or: make bench

Prints figures, never pass/fail. Everything runs against a throwaway SQLite file in a temporary
directory and a real server (uvicorn, `web.app:app`) in a separate process on a loopback port, so
that the clients here do not share the server's event loop. See bench/README.md for what each
figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol
from sqlalchemy import event, select

from bench.results import write_section
from web.serving import uvicorn_arguments

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SECRET_KEY = "referloop-bench-secret-key-not-for-production-0123456789"
INTAKE = "intake@test.example"
NAVIGATOR = "navigator@test.example"

# What a program's dashboard subscribes to.
LIVE = """
subscription Live {
  referralChanged {
    seq kind
    referral { id status version seeker { firstName email } program { name } history { toStatus } }
  }
}
"""
# The status change: a small selection, so the response arrives soon after the commit.
UPDATE = """
mutation Update($input: UpdateReferralStatusInput!) {
  updateReferralStatus(input: $input) { id status version }
}
"""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def raise_fd_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def count_statements(engine: Any) -> Iterator[list[str]]:
    """Every statement sent to the database inside the block (as tests/test_lists.py counts them)."""
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


# --------------------------------------------------------------------------------------------
# Data


@dataclass
class Seeded:
    live_referrals: list[str]  # global ids, one fresh referral per live phase
    inbound_total: int


async def seed(url: str, *, live_phases: int, inbound: int) -> Seeded:
    """The test network, plus `inbound` live referrals to the pantry and one more per live phase."""
    from db.accounts import User
    from db.engine import Database
    from db.seekers import ContactPreference
    from resolvers.referrals import create_referral_in
    from resolvers.viewer import load_viewer
    from schema.ids import to_global_id
    from tests.support import build_network, pantry_referral

    db = Database(url)
    try:
        network = await build_network(db)
        live: list[str] = []
        async with db.write() as session:
            navigator_id = await session.scalar(select(User.id).where(User.email == NAVIGATOR))
            assert navigator_id is not None
            navigator = await load_viewer(session, navigator_id)
            assert navigator is not None
            for n in range(inbound + live_phases):
                referral = await create_referral_in(
                    session,
                    navigator,
                    pantry_referral(
                        network, n, contact_preference=ContactPreference.EMAIL, comment="Needs groceries for four."
                    ),
                )
                if n >= inbound:
                    live.append(to_global_id("Referral", referral.id))
        return Seeded(live_referrals=live, inbound_total=inbound + live_phases)
    finally:
        await db.dispose()


# --------------------------------------------------------------------------------------------
# The server, in its own process


# A bench's thousands of dashboards are one account's sockets; the per-user caps (20 sockets, 50
# subscriptions: what a person's tabs need) would refuse all but the first few.
BENCH_CAPS = {"MAX_WEBSOCKETS_PER_USER": "1000000", "MAX_SUBSCRIPTIONS_PER_USER": "1000000"}
# And one account's hundreds of requests a second would spend its cost budget (README, "Limits"):
# a bench measures throughput with the rate limit off (0) unless it asks for the limits.
RATE_LIMITS_OFF = {"RATE_LIMIT_WORKER_BURST": "0", "RATE_LIMIT_SEEKER_BURST": "0", "RATE_LIMIT_SIGNED_OUT_BURST": "0"}


class Server:
    """A server process (`python -m uvicorn`) on a free loopback port, over `url`, its log in `tmp`."""

    def __init__(
        self, url: str, tmp: Path, *, profile: Path | None = None, notifications: bool = False, app: str = "web.app:app",
        root: Path = ROOT, uvicorn_args: tuple[str, ...] = (), broadcast: str = "memory://", name: str = "server",
        rate_limits: bool = False,
    ) -> None:
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.ws_url = f"ws://{HOST}:{self.port}/graphql"
        self.log_path = tmp / f"{name}.log"
        self.profile = profile
        env = dict(
            os.environ,
            **BENCH_CAPS,
            **({} if rate_limits else RATE_LIMITS_OFF),
            DATABASE_URL=url,
            BROADCAST_URL=broadcast,
            REFERLOOP_ENV="development",
            SECRET_KEY=SECRET_KEY,
            OUTBOX_DIR=str(tmp / "outbox"),
            NOTIFICATIONS_WORKER="1" if notifications else "0",
            PYTHONUNBUFFERED="1",
        )
        command = [sys.executable]
        if profile is not None:
            command += ["-m", "cProfile", "-o", str(profile)]
        command += ["-m", "uvicorn", app, "--host", HOST, "--port", str(self.port)]
        # As `referloop serve` runs (web/serving.py); `uvicorn_args` after them win.
        command += ["--log-level", "warning", "--no-access-log", *uvicorn_arguments(), *uvicorn_args]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=root, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far."""
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    async def wait_ready(self, http: httpx.AsyncClient, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if (await http.get("/healthz", timeout=2)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise TimeoutError(f"the server did not start within {timeout} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            # SIGINT: uvicorn shuts down cleanly (and cProfile, if on, writes its file).
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


async def sign_in(http: httpx.AsyncClient, email: str) -> str:
    from tests.support import PASSWORD

    response = await http.post("/auth/login", json={"email": email, "password": PASSWORD}, timeout=20)
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


async def subscribers_now(http: httpx.AsyncClient) -> int:
    return int((await http.get("/healthz", timeout=10)).json()["subscribers"])


async def wait_subscribers(http: httpx.AsyncClient, predicate: Any, what: str, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    count = await subscribers_now(http)
    while not predicate(count):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}; the server has {count} subscribers")
        await asyncio.sleep(0.1)
        count = await subscribers_now(http)
    return count


# --------------------------------------------------------------------------------------------
# Live: N dashboards, K status changes


class Fanout:
    """Arrival times per referral version, across all dashboards, and who is waiting for them."""

    def __init__(self, dashboards: int) -> None:
        self.dashboards = dashboards
        self.counts: dict[int, int] = defaultdict(int)
        self.complete: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.errors: list[str] = []
        self.resyncs = 0

    def arrived(self, version: int) -> None:
        self.counts[version] += 1
        if self.counts[version] == self.dashboards:
            self.complete[version].set()


class Dashboard:
    """One graphql-transport-ws connection with one `referralChanged` subscription."""

    def __init__(self, fanout: Fanout) -> None:
        self.fanout = fanout
        self.ws: Any = None
        self.arrivals: dict[int, float] = {}
        self.reader: asyncio.Task[None] | None = None

    async def open(self, url: str, token: str, *, timeout: float) -> None:
        self.ws = await websockets.connect(
            url, subprotocols=[Subprotocol("graphql-transport-ws")], ping_interval=None, open_timeout=timeout, max_size=2**22
        )
        await self.ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        ack = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"connection refused: {ack}")
        await self.ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": LIVE}}))
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                arrived = time.perf_counter()  # before any parsing
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message["payload"]
                    if payload.get("errors"):
                        self.fanout.errors.append(json.dumps(payload["errors"])[:300])
                        continue
                    changed = payload["data"]["referralChanged"]
                    if changed["kind"] == "RESYNC" or changed["referral"] is None:
                        self.fanout.resyncs += 1
                        continue
                    version = changed["referral"]["version"]
                    self.arrivals.setdefault(version, arrived)
                    self.fanout.arrived(version)
                elif kind == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                elif kind in ("error", "complete"):
                    self.fanout.errors.append(str(raw)[:300])
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
class LiveResult:
    dashboards: int
    changes: int
    from_send: list[float] = field(default_factory=list)  # seconds, one per (change, dashboard)
    from_response: list[float] = field(default_factory=list)
    mutation: list[float] = field(default_factory=list)  # round trip of the mutation itself
    last_from_send: list[float] = field(default_factory=list)  # per change: until the last dashboard had it
    missed: int = 0
    server_cpu: float = 0.0  # seconds over the measured changes
    client_cpu: float = 0.0
    wall: float = 0.0
    open_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    resyncs: int = 0


class Referral:
    """The status and version of the referral the bench keeps changing."""

    def __init__(self, referral_id: str) -> None:
        self.id = referral_id
        self.version = 1
        self.status = "NOT_UPDATED"

    async def change(self, http: httpx.AsyncClient, headers: dict[str, str]) -> tuple[float, float, int]:
        status = "ELIGIBLE" if self.status == "PENDING" else "PENDING"
        variables = {"input": {"referralId": self.id, "status": status, "expectedVersion": self.version}}
        sent = time.perf_counter()
        response = await http.post("/graphql", json={"query": UPDATE, "variables": variables}, headers=headers, timeout=60)
        answered = time.perf_counter()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"updateReferralStatus failed: {body['errors']}")
        updated = body["data"]["updateReferralStatus"]
        self.version, self.status = updated["version"], updated["status"]
        return sent, answered, self.version


async def live_phase(
    server: Server, http: httpx.AsyncClient, token: str, referral_id: str, *, dashboards: int, changes: int, timeout: float,
    verbose: bool = False,
) -> LiveResult:
    headers = {"authorization": f"Bearer {token}"}
    fanout = Fanout(dashboards)
    result = LiveResult(dashboards=dashboards, changes=changes)
    board = [Dashboard(fanout) for _ in range(dashboards)]
    referral = Referral(referral_id)
    await wait_subscribers(http, lambda n: n == 0, "the previous dashboards to leave")
    try:
        started = time.perf_counter()
        gate = asyncio.Semaphore(50)

        async def open_one(d: Dashboard) -> None:
            async with gate:
                await d.open(server.ws_url, token, timeout=timeout)

        await asyncio.wait_for(asyncio.gather(*(open_one(d) for d in board)), timeout * 3)
        await wait_subscribers(http, lambda n: n >= dashboards, f"{dashboards} subscriptions")
        result.open_seconds = time.perf_counter() - started
        log(f"{dashboards} dashboards connected and subscribed in {result.open_seconds:.1f} s")

        # Warm up: a change every dashboard receives proves every subscription is live.
        for attempt in range(5):
            _, _, version = await referral.change(http, headers)
            try:
                await asyncio.wait_for(fanout.complete[version].wait(), timeout)
                break
            except TimeoutError:
                log(f"warm-up change {attempt + 1}: {fanout.counts[version]}/{dashboards} dashboards received it")
        else:
            raise RuntimeError(f"not every dashboard received a warm-up change; errors: {fanout.errors[:3]}")
        _, _, version = await referral.change(http, headers)  # and one more, to warm every code path
        await asyncio.wait_for(fanout.complete[version].wait(), timeout)
        await asyncio.sleep(0.2)

        server_cpu, client_cpu, wall = server.cpu_seconds(), time.process_time(), time.perf_counter()
        for _ in range(changes):
            sent, answered, version = await referral.change(http, headers)
            result.mutation.append(answered - sent)
            try:
                await asyncio.wait_for(fanout.complete[version].wait(), timeout)
            except TimeoutError:
                pass
            arrivals = [d.arrivals[version] for d in board if version in d.arrivals]
            result.missed += dashboards - len(arrivals)
            result.from_send += [t - sent for t in arrivals]
            result.from_response += [t - answered for t in arrivals]
            if arrivals:
                result.last_from_send.append(max(arrivals) - sent)
                if verbose:
                    log(
                        f"  change to v{version}: mutation {ms(answered - sent)}, first dashboard "
                        f"{ms(min(arrivals) - sent)}, median {ms(percentile(arrivals, 0.5) - sent)}, "
                        f"last {ms(max(arrivals) - sent)} after sending"
                    )
            await asyncio.sleep(0.05)  # a short gap, so that each change is measured on its own
        result.server_cpu = server.cpu_seconds() - server_cpu
        result.client_cpu = time.process_time() - client_cpu
        result.wall = time.perf_counter() - wall
        result.errors, result.resyncs = fanout.errors, fanout.resyncs
        return result
    finally:
        gate = asyncio.Semaphore(100)

        async def close_one(d: Dashboard) -> None:
            async with gate:
                await d.close()

        await asyncio.gather(*(close_one(d) for d in board), return_exceptions=True)


# --------------------------------------------------------------------------------------------
# Inbound referrals: requests per second over HTTP, statements per request in-process


@dataclass
class InboundResult:
    sequential_rps: float = 0.0
    sequential_p50: float = 0.0
    sequential_cpu: float = 0.0  # server CPU seconds per request
    concurrent_rps: float = 0.0
    concurrent_p50: float = 0.0
    concurrent_cpu: float = 0.0
    concurrency: int = 0
    requests: tuple[int, int] = (0, 0)
    page_statements: list[str] = field(default_factory=list)
    auth_statements: list[str] = field(default_factory=list)
    total_count: int = 0

    def counted_statements(self) -> tuple[list[str], list[str]]:
        """The page's statements and the authentication's, without their BEGINs."""
        def counted(statements: list[str]) -> list[str]:
            return [s for s in statements if not s.lstrip().upper().startswith("BEGIN")]

        return counted(self.page_statements), counted(self.auth_statements)


async def inbound_statements(url: str, token: str) -> tuple[list[str], list[str], int]:
    """Statements to sign the viewer in from a token, and to answer the page of 50 (second run, warm)."""
    from db.settings import Settings
    from resolvers.accounts import viewer_for_token
    from resolvers.runtime import Runtime
    from schema import schema
    from schema.context import Context
    from tests.documents import INBOUND

    settings = Settings(environment="development", database_url=url, secret_key=SECRET_KEY, notifications_worker=False)
    runtime = Runtime.create(settings)  # not started: no hub, no worker, just the database
    try:
        for _ in range(2):
            with count_statements(runtime.db.engine) as auth:
                viewer = await viewer_for_token(runtime, f"Bearer {token}")
            with count_statements(runtime.db.engine) as page:
                result = await schema.execute(
                    INBOUND, {"first": 50}, context_value=Context(runtime=runtime, request=None, viewer=viewer)  # type: ignore[arg-type]
                )
            if result.errors:
                raise RuntimeError(f"inboundReferrals failed in-process: {result.errors}")
            assert result.data is not None
            data: dict[str, Any] = result.data
            edges = len(data["inboundReferrals"]["edges"])
            if edges != 50:
                raise RuntimeError(f"the page has {edges} referrals, not 50")
        return auth, page, data["inboundReferrals"]["totalCount"]
    finally:
        await runtime.db.dispose()


async def inbound_http(
    server: Server, token: str, *, sequential: int, concurrent: int, concurrency: int
) -> InboundResult:
    from tests.documents import INBOUND

    result = InboundResult(concurrency=concurrency, requests=(sequential, concurrent))
    headers = {"authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=30, limits=limits) as http:

        async def one() -> float:
            started = time.perf_counter()
            response = await http.post("/graphql", json={"query": INBOUND, "variables": {"first": 50}})
            took = time.perf_counter() - started
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                raise RuntimeError(f"inboundReferrals failed over HTTP: {response.status_code} {str(body)[:300]}")
            if len(body["data"]["inboundReferrals"]["edges"]) != 50:
                raise RuntimeError("a page over HTTP did not have 50 referrals")
            return took

        for _ in range(10):  # warm up connections, caches and the server's imports
            await one()

        started, cpu = time.perf_counter(), server.cpu_seconds()
        times = [await one() for _ in range(sequential)]
        result.sequential_rps = sequential / (time.perf_counter() - started)
        result.sequential_cpu = (server.cpu_seconds() - cpu) / sequential
        result.sequential_p50 = percentile(times, 0.5)

        remaining = iter(range(concurrent))
        times = []

        async def worker() -> None:
            for _ in remaining:
                times.append(await one())

        started, cpu = time.perf_counter(), server.cpu_seconds()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.concurrent_rps = concurrent / (time.perf_counter() - started)
        result.concurrent_cpu = (server.cpu_seconds() - cpu) / concurrent
        result.concurrent_p50 = percentile(times, 0.5)
    return result


# --------------------------------------------------------------------------------------------
# Report


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def describe_live(r: LiveResult) -> list[str]:
    label = f"live: {r.dashboards} dashboards".ljust(24)
    if not r.from_send:
        return [f"{label} no deliveries measured"]
    lines = [
        f"{label} p50 {ms(percentile(r.from_send, 0.5))}  p99 {ms(percentile(r.from_send, 0.99))}  "
        f"max {ms(max(r.from_send))}  from sending the mutation  ({r.changes} changes x {r.dashboards} = "
        f"{len(r.from_send)} deliveries)",
        f"{'':24} p50 {ms(percentile(r.from_response, 0.5))}  p99 {ms(percentile(r.from_response, 0.99))}  "
        f"max {ms(max(r.from_response))}  from the mutation's response (after commit)",
        f"{'':24} mutation round trip p50 {ms(percentile(r.mutation, 0.5))}; last dashboard served p50 "
        f"{ms(percentile(r.last_from_send, 0.5))} after sending; server CPU {ms(r.server_cpu / r.changes)} "
        f"per change, client CPU {ms(r.client_cpu / r.changes)} per change "
        f"({100 * r.client_cpu / max(r.server_cpu, 1e-9):.0f}% of the server's); dashboards connected in "
        f"{r.open_seconds:.1f} s",
    ]
    if r.missed or r.errors or r.resyncs:
        lines.append(f"{'':24} missed {r.missed}, resyncs {r.resyncs}, errors {len(r.errors)} {r.errors[:1]}")
    return lines


def summary_live(r: LiveResult) -> str:
    label = f"live: {r.dashboards} dashboards".ljust(24)
    if not r.from_send:
        return f"{label} no deliveries measured"
    return (
        f"{label} p50 {ms(percentile(r.from_send, 0.5))}  p99 {ms(percentile(r.from_send, 0.99))}  "
        f"max {ms(max(r.from_send))}  ({r.changes} changes)" + (f", {r.missed} missed" if r.missed else "")
    )


def describe_inbound(r: InboundResult) -> list[str]:
    page, auth = r.counted_statements()
    return [
        f"inbound page of 50: {r.sequential_rps:.0f} req/s sequential (p50 {ms(r.sequential_p50)}), "
        f"{r.concurrent_rps:.0f} req/s at concurrency {r.concurrency} (p50 {ms(r.concurrent_p50)}), "
        f"{len(page)} SQL statements per request (+{len(auth)} to authenticate) "
        f"[{r.requests[0]} + {r.requests[1]} requests; {r.total_count} referrals in the list]",
        f"{'':20}server CPU per request {ms(r.sequential_cpu)} sequential, {ms(r.concurrent_cpu)} at concurrency "
        f"{r.concurrency}",
    ]


def queries_section(r: InboundResult, load: float) -> str:
    page, auth = r.counted_statements()
    return "\n".join([
        "## Dashboard queries (bench/live_and_inbound.py)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, 1-minute load average {load:.1f} at the end. "
        f"The intake queue's first page (`inboundReferrals(first: 50)`, {r.total_count} referrals in the list) "
        "over HTTP from one server process on a SQLite file; statements counted in-process.",
        "",
        "| | requests per second | p50 | server CPU per request |",
        "|---|---|---|---|",
        f"| one at a time | {r.sequential_rps:.0f} | {ms(r.sequential_p50)} | {ms(r.sequential_cpu)} |",
        f"| {r.concurrency} at once | {r.concurrent_rps:.0f} | {ms(r.concurrent_p50)} | {ms(r.concurrent_cpu)} |",
        "",
        f"SQL statements per request: {len(page)} for the page, however many referrals it holds, and {len(auth)} to "
        "authenticate the caller.",
        "",
    ])


# --------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    from db import migrate

    load_before = os.getloadavg()
    soft = raise_fd_limit(max(args.dashboards, default=0) * 2 + 256)
    log(f"open-file limit {soft}")
    tmp = Path(tempfile.mkdtemp(prefix="referloop-bench-"))
    server: Server | None = None
    try:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
        await asyncio.to_thread(migrate.upgrade, url)
        seeded = await seed(url, live_phases=len(args.dashboards), inbound=args.inbound_referrals)
        log(f"migrated and seeded {seeded.inbound_total} live referrals in {tmp}")

        server = Server(url, tmp, profile=args.profile, notifications=args.notifications)
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
            await server.wait_ready(http)
            log(f"server pid {server.process.pid} on {server.base}")
            token = await sign_in(http, INTAKE)

            inbound = InboundResult()
            if not args.skip_inbound:
                auth, page, total = await inbound_statements(url, token)
                inbound = await inbound_http(
                    server, token, sequential=args.requests, concurrent=args.requests, concurrency=args.concurrency
                )
                inbound.auth_statements, inbound.page_statements, inbound.total_count = auth, page, total
                for line in describe_inbound(inbound):
                    log(line)

            lives = []
            for n, referral_id in zip(args.dashboards, seeded.live_referrals, strict=True):
                result = await live_phase(
                    server, http, token, referral_id, dashboards=n, changes=args.changes, timeout=args.timeout,
                    verbose=args.verbose,
                )
                for line in describe_live(result):
                    log(line)
                lives.append(result)

        print()
        load_after = os.getloadavg()
        print(
            f"Referloop bench, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
            f"1-minute load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (other work on the machine "
            "skews the figures)"
        )
        print(
            "Server: uvicorn web.app:app in its own process (1 worker), SQLite file, broadcast memory://, "
            f"notifications worker {'on' if args.notifications else 'off'}."
        )
        print(
            "Clients: one asyncio process (this one) with a reader task per websocket; arrival time taken with "
            "time.perf_counter() on receipt, before parsing. Latency is per (change, dashboard), measured from "
            "just before sending updateReferralStatus and, separately, from its HTTP response, which arrives "
            "after the commit (so that figure can be negative: the hub may push before the response is written)."
        )
        print()
        for result in lives:
            for line in describe_live(result):
                print(line)
        if not args.skip_inbound:
            for line in describe_inbound(inbound):
                print(line)
            if args.verbose:
                for s in inbound.auth_statements + ["--- page:"] + inbound.page_statements:
                    print("   ", " ".join(s.split())[:160])
        print()
        print("Summary (latency from just before sending the mutation; see above for from its response):")
        for result in lives:
            print(summary_live(result))
        if not args.skip_inbound:
            print(describe_inbound(inbound)[0].split(" [")[0])
            write_section("queries", queries_section(inbound, load_after[0]))
    except BaseException:
        if server is not None and server.process.poll() is not None:
            log(f"server log:\n{server.tail()}")
        raise
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
            if args.profile:
                log(f"server profile written to {args.profile}")
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.live_and_inbound", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dashboards", type=lambda s: [int(x) for x in s.split(",") if x], default=[100, 1000],
                        help="comma-separated numbers of subscribed dashboards (default 100,1000)")
    parser.add_argument("--changes", type=int, default=20, help="measured status changes per live phase (default 20)")
    parser.add_argument("--requests", type=int, default=200, help="inbound requests, sequentially and again concurrently (default 200)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--inbound-referrals", type=int, default=240, help="live referrals seeded for the inbound page")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for any one step")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds for the whole bench")
    parser.add_argument("--skip-inbound", action="store_true")
    parser.add_argument("--notifications", action="store_true", help="run the notifications worker in the server too")
    parser.add_argument("--profile", type=Path, default=None, help="run the server under cProfile, writing stats here")
    parser.add_argument("--verbose", action="store_true", help="also print each change's timings and the SQL statements of an inbound request")
    args = parser.parse_args()
    if args.profile is not None:
        args.profile = args.profile.resolve()
    try:
        import uvloop

        loop_factory: Any = uvloop.new_event_loop  # as uvicorn uses on the server side
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
