"""Notification delivery: messages per second by one worker, and commit-to-SMTP-acceptance latency.

    .venv/bin/python -m bench.notifications [--backlog 500] [--paced 200] [--rate 20]

Prints figures, never pass/fail. A throwaway SQLite file in a temporary directory, a real SMTP server
(aiosmtpd, in a thread) on a loopback port, and one DeliveryWorker in this process, rung after each
commit exactly as the web app's worker is. Each referral is a live one with an email-preferring
seeker, so it plans two emails (the seeker and the program's contact address).

- throughput: `--backlog` referrals are committed while the worker is stopped; then the worker is
  started and timed until every message is SENT.
- latency: the worker runs while `--paced` referrals are committed one by one at `--rate` per second;
  for each email, the time from the commit of its referral to the SMTP server's acceptance of it.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from db import migrate
from db.accounts import User
from db.notifications import Notification, NotificationStatus
from db.seekers import ContactPreference
from db.settings import Settings
from resolvers.notify.channels import message_id
from resolvers.notify.delivery import DeliveryWorker
from resolvers.referrals import NewReferral, ScreenerAnswer, create_referral_in
from resolvers.runtime import Runtime
from resolvers.seekers import NewSeeker
from resolvers.viewer import load_viewer
from tests.mailboxes import free_port
from tests.support import build_network

SENDER = "Referloop <no-reply@bench.referloop.test>"
MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>]+>)", re.MULTILINE | re.IGNORECASE)


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = MESSAGE_ID.search(envelope.content)
        assert found is not None
        with self.lock:
            self.at.setdefault(found.group(1).decode(), time.perf_counter())
        return "250 2.0.0 Accepted"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def _refer(runtime: Runtime, viewer: Any, program_id: int, n: int) -> tuple[int, float]:
    async with runtime.db.write() as session:
        referral = await create_referral_in(
            session,
            viewer,
            NewReferral(
                program_id=program_id,
                seeker=NewSeeker(first_name="Bench", last_name=f"Person {n}", email=f"bench{n}@example.com"),
                contact_preference=ContactPreference.EMAIL,
                consent=True,
                screener_answers=[ScreenerAnswer("household_size", "3")],
            ),
        )
    # What Runtime.announce() does for the sender after a commit (the hub is not running here).
    if runtime.delivery is not None:
        runtime.delivery.ring()
    return referral.id, time.perf_counter()


async def _count(runtime: Runtime, status: NotificationStatus) -> int:
    async with runtime.db.read() as session:
        return int(await session.scalar(select(func.count()).where(Notification.status == status)) or 0)


async def _wait_sent(runtime: Runtime, total: int, timeout: float = 600) -> None:
    deadline = time.perf_counter() + timeout
    while await _count(runtime, NotificationStatus.SENT) < total:
        if time.perf_counter() > deadline:
            raise TimeoutError("messages still unsent")
        await asyncio.sleep(0.02)


async def main(backlog: int, paced: int, rate: float) -> None:
    arrivals = Arrivals()
    port = free_port()
    controller = Controller(arrivals, hostname="127.0.0.1", port=port)
    controller.start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        await asyncio.to_thread(migrate.upgrade, url)
        settings = Settings(
            environment="test",
            database_url=url,
            secret_key="referloop-bench-secret-key-not-for-production-0123456789",
            smtp_url=f"smtp://127.0.0.1:{port}",
            mail_from=SENDER,
            notifications_worker=False,
        )
        runtime = Runtime.create(settings)
        network = await build_network(runtime.db)
        async with runtime.db.read() as session:
            navigator_id = await session.scalar(select(User.id).where(User.email == "navigator@test.example"))
            assert navigator_id is not None
            viewer = await load_viewer(session, navigator_id)
        program_id = network.pks["pantry"]

        # Throughput: a backlog, then one worker drains it.
        started = time.perf_counter()
        for n in range(backlog):
            await _refer(runtime, viewer, program_id, n)
        planning = time.perf_counter() - started
        worker = DeliveryWorker(runtime.settings, runtime.db, worker_id="bench")
        runtime.delivery = worker
        total = 2 * backlog
        started = time.perf_counter()
        await worker.start()
        await _wait_sent(runtime, total)
        drained = time.perf_counter() - started
        print(f"planned {backlog} referrals ({total} emails) in {planning:.2f} s: {backlog / planning:.0f} referrals/s with notifications planned in the transaction")
        print(f"throughput: one worker sent {total} emails in {drained:.2f} s = {total / drained:.0f} emails/s")

        # Latency: the worker runs while referrals are committed at a steady pace.
        committed: dict[int, float] = {}
        interval = 1.0 / rate
        next_at = time.perf_counter()
        for n in range(backlog, backlog + paced):
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += interval
            referral_id, at = await _refer(runtime, viewer, program_id, n)
            committed[referral_id] = at
        await _wait_sent(runtime, total + 2 * paced)
        async with runtime.db.read() as session:
            rows = (await session.execute(
                select(Notification.referral_id, Notification.idempotency_key).where(Notification.referral_id.in_(committed))
            )).all()
        latencies = [
            (arrivals.at[message_id(key, SENDER)] - committed[referral_id]) * 1000
            for referral_id, key in rows
            if referral_id is not None  # always: the query filters on these referral ids
        ]
        await worker.stop()
        await runtime.db.dispose()
        print(
            f"latency from commit to SMTP acceptance over {len(latencies)} emails at {rate:g} referrals/s: "
            f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, max {max(latencies):.1f} ms"
        )
        duplicates = (total + 2 * paced) - len(arrivals.at)
        print(f"distinct Message-IDs received: {len(arrivals.at)} of {total + 2 * paced} ({duplicates} missing)")
    controller.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backlog", type=int, default=500)
    parser.add_argument("--paced", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    asyncio.run(main(args.backlog, args.paced, args.rate))
