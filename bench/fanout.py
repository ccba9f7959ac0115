"""Fan-out: Referloop beside a naive server and the floor, in one session, with the same client.

    .venv/bin/python -m bench.fanout            # or: make bench (writes bench/results.md)

Three servers, one after another, each in its own uvicorn process on a loopback port:
- Referloop (`web.app:app`, SQLite file, broadcast memory://),
- naive (`bench.naive_server:app`: strawberry + broadcaster, one execution per socket),
- floor (`bench.floor_server:app`: a bare Starlette websocket broadcast of the same bytes).
Against each, the same client: worker processes (`--worker`, at most 2,500 sockets each) open the
graphql-transport-ws connections and subscribe; for each status change the coordinator notes the
time just before sending `updateReferralStatus` and each worker reports when each of its sockets
had the frame (`time.perf_counter()`, CLOCK_MONOTONIC, comparable across processes, taken on
receipt before parsing). Figures, never pass/fail; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol

from bench.live_and_inbound import (
    INTAKE,
    LIVE,
    ROOT,
    Referral,
    Server,
    log,
    ms,
    percentile,
    raise_fd_limit,
    seed,
    sign_in,
    subscribers_now,
    wait_subscribers,
)
from bench.results import write_section

WALL = """
subscription Wall($coc: String!) {
  wallboardChanged(cocCode: $coc) { seq kind at fromStatus toStatus referral { id seekerInitials status } }
}
"""
CE_MANAGER = "ce@bench.example"
COC = "XX-500"
PER_WORKER = 2500
SERVERS = {"referloop": "web.app:app", "naive": "bench.naive_server:app", "floor": "bench.floor_server:app"}


# --------------------------------------------------------------------------------------------
# The client worker: its share of the sockets, reporting arrival times per event


async def worker(config: dict[str, Any]) -> None:
    count: int = config["count"]
    field_name = "wallboardChanged" if config["wall"] else "referralChanged"
    subscribe = json.dumps(
        {"id": "1", "type": "subscribe", "payload": {"query": WALL if config["wall"] else LIVE, "variables": {"coc": COC}}}
    )
    init = json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {config['token']}"}})
    arrivals: dict[int, list[float]] = {}
    sockets: list[Any] = []
    readers: list[asyncio.Task[None]] = []
    problems = {"errors": 0, "resyncs": 0}
    out = sys.stdout

    async def read(ws: Any) -> None:
        try:
            async for raw in ws:
                arrived = time.perf_counter()
                message = json.loads(raw)
                if message.get("type") != "next":
                    if message.get("type") == "ping":
                        await ws.send('{"type":"pong"}')
                    continue
                payload = message["payload"]
                changed = (payload.get("data") or {}).get(field_name)
                if payload.get("errors") or changed is None:
                    problems["errors"] += 1
                    continue
                if changed["kind"] == "RESYNC":
                    problems["resyncs"] += 1
                    continue
                times = arrivals.setdefault(changed["seq"], [])
                times.append(arrived)
                if len(times) == count:
                    out.write(json.dumps({"seq": changed["seq"], "times": times, **problems}) + "\n")
                    out.flush()
        except websockets.ConnectionClosed:
            pass

    gate = asyncio.Semaphore(50)

    async def open_one() -> None:
        async with gate:
            ws = await websockets.connect(
                config["url"], subprotocols=[Subprotocol("graphql-transport-ws")], ping_interval=None, open_timeout=60,
                max_size=2**22,
            )
            await ws.send(init)
            ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if ack.get("type") != "connection_ack":
                raise RuntimeError(f"connection refused: {ack}")
            await ws.send(subscribe)
            sockets.append(ws)
            readers.append(asyncio.create_task(read(ws)))

    await asyncio.gather(*(open_one() for _ in range(count)))
    # The sockets live as long as the run: out of the collector's sight, so that a full collection
    # of the client's own thousands of sockets never delays when it sees a frame arrive.
    gc.collect()
    gc.freeze()
    out.write(json.dumps({"ready": count}) + "\n")
    out.flush()
    # Until the coordinator says stop (or goes away).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for task in readers:
        task.cancel()
    closing = asyncio.Semaphore(200)

    async def close(ws: Any) -> None:
        async with closing:
            try:
                await asyncio.wait_for(ws.close(), 5)
            except (TimeoutError, websockets.WebSocketException, OSError):
                pass

    await asyncio.gather(*(close(ws) for ws in sockets))


class Workers:
    """The worker processes of one phase, and the reports they send per event."""

    def __init__(self) -> None:
        self.processes: list[asyncio.subprocess.Process] = []
        self.reports: list[asyncio.Queue[dict[str, Any]]] = []
        self.readers: list[asyncio.Task[None]] = []

    async def start(self, *, url: str, token: str, count: int, wall: bool) -> None:
        shares = [PER_WORKER] * (count // PER_WORKER) + ([count % PER_WORKER] if count % PER_WORKER else [])
        for share in shares:
            config = json.dumps({"url": url, "token": token, "count": share, "wall": wall})
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.fanout", "--worker", config,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent,
                limit=2**24,
            )
            queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            self.processes.append(process)
            self.reports.append(queue)
            self.readers.append(asyncio.create_task(self._read(process, queue)))
        for queue in self.reports:
            ready = await asyncio.wait_for(queue.get(), 600)
            if "ready" not in ready:
                raise RuntimeError(f"a client worker failed: {ready}")

    @staticmethod
    async def _read(process: asyncio.subprocess.Process, queue: asyncio.Queue[dict[str, Any]]) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            queue.put_nowait(json.loads(line))
        queue.put_nowait({"exited": await process.wait()})

    async def event(self, timeout: float) -> tuple[list[float], int, int]:
        """Every socket's arrival time of the next event; how many sockets missed it; errors and resyncs."""
        times: list[float] = []
        missed, problems = 0, 0
        for queue in self.reports:
            try:
                report = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                report = {}
            if "times" not in report:
                missed += 1
                continue
            times += report["times"]
            problems = max(problems, report["errors"] + report["resyncs"])
        return times, missed, problems

    async def stop(self) -> None:
        for process in self.processes:
            if process.stdin is not None and process.returncode is None:
                process.stdin.write(b"stop\n")
                with _quiet():
                    await process.stdin.drain()
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                process.kill()
                await process.wait()
        for task in self.readers:
            task.cancel()


class _quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, *rest: object) -> bool:
        return kind is not None and issubclass(kind, (BrokenPipeError, ConnectionResetError))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# The coordinator


@dataclass
class Phase:
    name: str
    sockets: int
    wall: bool
    latencies: list[float] = field(default_factory=list)  # seconds from sending, per (change, socket)
    from_response: list[float] = field(default_factory=list)
    last: list[float] = field(default_factory=list)  # per change: until the last socket had it
    missed: int = 0
    problems: int = 0
    rss_per_socket: float = 0.0  # bytes of server memory per idle subscriber
    open_seconds: float = 0.0
    server_cpu: float = 0.0  # per change


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def run_phase(
    server: Server, http: httpx.AsyncClient, phase: Phase, *, token: str, referral: Referral, headers: dict[str, str],
    changes: int, timeout: float,
) -> Phase:
    await wait_subscribers(http, lambda n: n == 0, "the previous sockets to leave")
    await asyncio.sleep(1.0)
    before = rss(server.process.pid)
    started = time.perf_counter()
    workers = Workers()
    try:
        await workers.start(url=server.ws_url, token=token, count=phase.sockets, wall=phase.wall)
        await wait_subscribers(http, lambda n: n >= phase.sockets, f"{phase.sockets} subscriptions", timeout=600)
        phase.open_seconds = time.perf_counter() - started
        await asyncio.sleep(2.0)  # idle: what the subscribers hold between events
        phase.rss_per_socket = (rss(server.process.pid) - before) / phase.sockets
        log(f"{server_name(server)}: {phase.name} subscribed in {phase.open_seconds:.1f} s, "
            f"{phase.rss_per_socket / 1024:.1f} KB per idle subscriber")
        for _ in range(2):  # warm up every code path
            await referral.change(http, headers)
            times, missed, _ = await workers.event(timeout)
            if missed:
                raise RuntimeError(f"{missed} client workers did not get a warm-up change")
        await asyncio.sleep(0.2)
        cpu = server.cpu_seconds()
        for _ in range(changes):
            sent, answered, _ = await referral.change(http, headers)
            times, missed, problems = await workers.event(timeout)
            phase.missed += missed
            phase.problems = max(phase.problems, problems)
            phase.latencies += [t - sent for t in times]
            phase.from_response += [t - answered for t in times]
            if times:
                phase.last.append(max(times) - sent)
            await asyncio.sleep(0.05)
        phase.server_cpu = (server.cpu_seconds() - cpu) / changes
        return phase
    finally:
        await workers.stop()


def server_name(server: Server) -> str:
    return getattr(server, "bench_name", "?")


async def add_ce_manager(url: str) -> None:
    from argon2 import PasswordHasher
    from sqlalchemy import select

    from db.accounts import Membership, Organization, Role, User
    from db.engine import Database
    from tests.support import PASSWORD

    db = Database(url)
    try:
        async with db.write() as s:
            navs = await s.scalar(select(Organization.id).where(Organization.name == "Eastside Navigators"))
            user = User(name="Cora CE", email=CE_MANAGER, password_hash=PasswordHasher().hash(PASSWORD))
            s.add(user)
            await s.flush()
            s.add(Membership(user_id=user.id, organization_id=navs, role=Role.CE_MANAGER))
    finally:
        await db.dispose()


def plan(args: argparse.Namespace) -> list[Phase]:
    phases = [Phase(f"{n:,} dashboards", n, wall=False) for n in args.dashboards]
    if args.walls:
        phases.append(Phase(f"{args.walls:,} wall displays", args.walls, wall=True))
    return phases


async def run(args: argparse.Namespace) -> dict[str, list[Phase]]:
    from db import migrate

    most = max([*args.dashboards, args.walls])
    log(f"open-file limit {raise_fd_limit(most + 512)} (inherited by the servers; each client worker raises its own)")
    tmp = Path(tempfile.mkdtemp(prefix="referloop-fanout-"))
    results: dict[str, list[Phase]] = {}
    try:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
        await asyncio.to_thread(migrate.upgrade, url)
        seeded = await seed(url, live_phases=1, inbound=0)
        await add_ce_manager(url)
        for name in args.servers:
            root = args.referloop_root if name == "referloop" and args.referloop_root else ROOT
            options = ("--ws-per-message-deflate", "true") if args.deflate else ()
            server = Server(url, tmp, profile=None, notifications=False, app=SERVERS[name], root=root, uvicorn_args=options)
            server.bench_name = name  # type: ignore[attr-defined]
            try:
                async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
                    await server.wait_ready(http)
                    log(f"{name}: pid {server.process.pid} on {server.base}")
                    if name == "referloop":
                        dashboards_token, wall_token = await sign_in(http, INTAKE), await sign_in(http, CE_MANAGER)
                    else:
                        dashboards_token = wall_token = "none"
                    referral = Referral(seeded.live_referrals[0])
                    headers = {"authorization": f"Bearer {dashboards_token}"}
                    if name == "referloop":
                        # The pantry's referral may have moved on in an earlier run of this server.
                        referral.version, referral.status = await _current(http, headers, referral.id)
                    results[name] = []
                    for phase in plan(args):
                        changes = args.changes if phase.sockets <= 2000 else max(3, args.changes // 2)
                        done = await run_phase(
                            server, http, phase, token=wall_token if phase.wall else dashboards_token, referral=referral,
                            headers=headers, changes=changes, timeout=args.timeout,
                        )
                        log(f"{name}: {describe(done)}")
                        results[name].append(done)
                    log(f"{name}: {await subscribers_now(http)} subscribers left")
            finally:
                await asyncio.to_thread(server.stop)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


async def _current(http: httpx.AsyncClient, headers: dict[str, str], referral_id: str) -> tuple[int, str]:
    query = "query($id: ID!) { referral(id: $id) { version status } }"
    body = (await http.post("/graphql", json={"query": query, "variables": {"id": referral_id}}, headers=headers)).json()
    return body["data"]["referral"]["version"], body["data"]["referral"]["status"]


def describe(p: Phase) -> str:
    if not p.latencies:
        return f"{p.name}: nothing measured"
    text = (
        f"p50 {ms(percentile(p.latencies, 0.5))}, p99 {ms(percentile(p.latencies, 0.99))} from sending "
        f"(from the response p50 {ms(percentile(p.from_response, 0.5))}, p99 {ms(percentile(p.from_response, 0.99))}); "
        f"last socket p50 {ms(percentile(p.last, 0.5))}; server CPU {ms(p.server_cpu)} per change"
    )
    if p.missed or p.problems:
        text += f"; {p.missed} worker reports missed, {p.problems} errors or resyncs"
    return text


# --------------------------------------------------------------------------------------------
# The report: bench/results.md's fan-out section


def _cell(values: dict[str, float], name: str, unit: str = "ms") -> str:
    value = values.get(name)
    if value is None:
        return "n/a"
    return f"{value * 1000:.1f} ms" if unit == "ms" else f"{value / 1024:.1f} KB"


def table(results: dict[str, list[Phase]], args: argparse.Namespace) -> str:
    rows: list[tuple[str, dict[str, float], str]] = []
    by_phase: dict[str, dict[str, Phase]] = {}
    for name, phases in results.items():
        for phase in phases:
            by_phase.setdefault(phase.name, {})[name] = phase
    for phase_name, by_server in by_phase.items():
        if any(p.wall for p in by_server.values()):
            rows.append((f"one change to {phase_name}: time to the last delivery (p50 over changes)",
                         {n: percentile(p.last, 0.5) for n, p in by_server.items() if p.last}, "ms"))
            continue
        rows.append((f"p50 from sending the change to delivery, {phase_name}",
                     {n: percentile(p.latencies, 0.5) for n, p in by_server.items() if p.latencies}, "ms"))
        rows.append((f"p99 from sending the change to delivery, {phase_name}",
                     {n: percentile(p.latencies, 0.99) for n, p in by_server.items() if p.latencies}, "ms"))
        rows.append((f"p99 from the change's HTTP response (after commit), {phase_name}",
                     {n: percentile(p.from_response, 0.99) for n, p in by_server.items() if p.from_response}, "ms"))
        rows.append((f"server CPU per change, {phase_name}", {n: p.server_cpu for n, p in by_server.items()}, "ms"))
    idle = max(by_phase, key=lambda k: max(p.sockets for p in by_phase[k].values()))
    rows.append((f"memory per idle subscriber (server RSS growth / subscribers, {idle})",
                 {n: p.rss_per_socket for n, p in by_phase[idle].items()}, "KB"))
    lines = [
        "## Live fan-out: Referloop, naive, floor (bench/fanout.py)\n",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; one server process each (uvicorn, 1 worker, "
        "same options); Referloop on a SQLite file with broadcast memory://. Same client for all three: "
        f"worker processes with up to {PER_WORKER:,} graphql-transport-ws sockets each, every socket subscribed "
        "once; one status change at a time (`updateReferralStatus` over HTTP), the next once every socket "
        f"had the previous; {args.changes} changes per phase ({max(3, args.changes // 2)} above 2,000 sockets). "
        "Latency per (change, socket): receipt on the socket minus the moment just before the change was sent.\n",
        "| | Referloop | naive (strawberry + broadcaster, one execution per socket) | floor (bare Starlette broadcast) "
        "| Referloop / floor | naive / Referloop |",
        "|---|---|---|---|---|---|",
    ]
    for label, values, unit in rows:
        ours, naive, floor = values.get("referloop"), values.get("naive"), values.get("floor")
        ratio_floor = f"{ours / floor:.1f}x" if ours and floor else "n/a"
        ratio_naive = f"{naive / ours:.1f}x" if ours and naive else "n/a"
        lines.append(
            f"| {label} | {_cell(values, 'referloop', unit)} | {_cell(values, 'naive', unit)} | "
            f"{_cell(values, 'floor', unit)} | {ratio_floor} | {ratio_naive} |"
        )
    held = max(p.sockets for phases in results.values() for p in phases)
    lines.append(
        f"| idle subscribers per process | {held:,} held (the most tried; open-file limit "
        f"{raise_fd_limit(0):,}) | {held:,} | {held:,} | | |"
    )
    # Rows another bench adds (two workers with Redis, status updates/s) go in the `workers` section.
    notes = [
        f"- {name}, {p.name}: {describe(p)}; subscribed in {p.open_seconds:.1f} s"
        for name, phases in results.items() for p in phases
    ]
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        config = json.loads(sys.argv[2])
        raise_fd_limit(config["count"] + 256)
        asyncio.run(worker(config))
        return
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dashboards", type=lambda s: [int(x) for x in s.split(",") if x], default=[1000, 10000])
    parser.add_argument("--walls", type=int, default=1000, help="wall displays for the wall phase (0: none)")
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--servers", type=lambda s: [x for x in s.split(",") if x], default=list(SERVERS))
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--referloop-root", type=Path, default=None,
                        help="run the Referloop server from this source tree (e.g. `git archive` of an older commit)")
    parser.add_argument("--deflate", action=argparse.BooleanOptionalAction, default=False,
                        help="let the servers compress frames (uvicorn --ws-per-message-deflate; off, as `referloop serve` runs)")
    parser.add_argument("--no-write", action="store_true", help="print the table instead of writing bench/results.md")
    args = parser.parse_args()
    try:
        import uvloop

        loop_factory: Any = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        results = runner.run(run(args))
    report = table(results, args)
    print(report)
    if not args.no_write:
        write_section("fanout", report)
        log("wrote bench/results.md")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
