"""Fifty clients at once, reading the dashboards and moving a few shared referrals' statuses.

Each writer keeps what it last saw of each referral and sends `expectedVersion` from it, as the
dashboards do; with a handful of referrals among fifty clients most writes race. The only error
allowed is CONFLICT (then the client reloads). At the end each referral's history must be one
chain from NOT_UPDATED to its status, one change per version, and the outbox must hold exactly one
STATUS_CHANGED event per version, in commit order, saying the same as the history.

HOSTILE_WRITERS_SECONDS sets how long the clients run (60 s by default, the issue's figure).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db.engine import Database
from db.settings import Settings
from db.events import EventKind, OutboxEvent, SubjectType
from db.referrals import Referral, ReferralStatus, StatusChange
from schema.ids import parse_global_id
from tests.documents import CREATE_REFERRAL, INBOUND, PEOPLE, REFERRAL, UPDATE_STATUS, new_seeker_referral
from tests.figures import report
from tests.support import Api, GraphQLErrors, Network

SECONDS = float(os.environ.get("HOSTILE_WRITERS_SECONDS", "60"))
CLIENTS = 50
REFERRALS = 6
NAVIGATOR = "navigator@test.example"
INTAKE = "intake@test.example"
# Both sides of a live referral may set any of these (NOT_UPDATED only by undoing).
STATUSES = [s.value for s in ReferralStatus if s is not ReferralStatus.NOT_UPDATED]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Fifty clients stand for fifty people, but two accounts play them all: the per-user rate of
    # cost (tests/test_rate_limit.py) would throttle them as one person, so it is off here.
    return dataclasses.replace(settings, rate_limit_worker_burst=0)


@pytest.mark.timeout(SECONDS + 300)
async def test_fifty_clients_race_and_every_history_holds(api: Api, network: Network, db: Database) -> None:
    ids = []
    for n in range(REFERRALS):
        seeker = {"firstName": f"Race{n}", "lastName": "Writer", "email": f"race{n}@example.com"}
        created = await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"], seeker=seeker)}, as_=NAVIGATOR)
        ids.append(created["createReferral"]["id"])
    for who in (NAVIGATOR, INTAKE):
        await api.token(who)
    # What is checked is correctness, not latency: fifty clients and the server share one process,
    # and on a machine shared with other work one request may wait long for its turn.
    api.http.timeout = httpx.Timeout(120)

    counts: Counter[str] = Counter()
    # The versions each successful write produced, per referral: none may be produced twice.
    produced: dict[str, list[int]] = {i: [] for i in ids}
    unexpected: list[str] = []
    deadline = time.monotonic() + SECONDS

    async def client(n: int) -> None:
        chosen = random.Random(n)
        who = NAVIGATOR if n % 2 else INTAKE
        seen: dict[str, tuple[str, int]] = {}

        async def load(referral_id: str) -> None:
            referral = (await api.gql(REFERRAL, {"id": referral_id}, as_=who))["referral"]
            seen[referral_id] = (referral["status"], referral["version"])
            counts["reads"] += 1

        while time.monotonic() < deadline:
            try:
                if chosen.random() < 0.4:
                    # A dashboard's page: the intake queue, the navigator's people, or one referral.
                    if who == INTAKE:
                        page = await api.gql(INBOUND, {"first": 20}, as_=who)
                        assert len(page["inboundReferrals"]["edges"]) == REFERRALS
                    else:
                        await api.gql(PEOPLE, as_=who)
                    counts["reads"] += 1
                    continue
                referral_id = chosen.choice(ids)
                if referral_id not in seen:
                    await load(referral_id)
                status, version = seen[referral_id]
                target = chosen.choice([s for s in STATUSES if s != status])
                variables = {"input": {"referralId": referral_id, "status": target, "expectedVersion": version}}
                try:
                    updated = (await api.gql(UPDATE_STATUS, variables, as_=who))["updateReferralStatus"]
                except GraphQLErrors as refused:
                    if refused.codes != ["CONFLICT"]:
                        raise
                    counts["conflicts"] += 1
                    await load(referral_id)
                    continue
                assert (updated["status"], updated["version"]) == (target, version + 1)
                seen[referral_id] = (target, version + 1)
                produced[referral_id].append(version + 1)
                counts["updates"] += 1
            except Exception as error:  # every failure is reported, not just the first client's
                unexpected.append(f"client {n} as {who}: {type(error).__name__}: {str(error)[:500]}")
                return

    started = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    elapsed = time.monotonic() - started
    report(
        f"writers: {CLIENTS} clients for {elapsed:.0f} s on {REFERRALS} referrals: {counts['updates'] / elapsed:.1f} updates/s, "
        f"{counts['reads'] / elapsed:.1f} reads/s, {counts['conflicts'] / elapsed:.1f} conflicts/s "
        f"({counts['updates']:,} updates, {counts['reads']:,} reads, {counts['conflicts']:,} conflicts)"
    )
    assert not unexpected, "\n".join(unexpected[:5])
    assert counts["updates"] > 0 and counts["conflicts"] > 0 and counts["reads"] > 0

    async with db.read() as session:
        for global_id in ids:
            pk = parse_global_id(global_id)[1]
            referral = await session.get(Referral, pk)
            assert referral is not None
            history = (await session.scalars(select(StatusChange).where(StatusChange.referral_id == pk).order_by(StatusChange.id))).all()
            events = (
                await session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.subject_type == SubjectType.REFERRAL, OutboxEvent.subject_id == pk)
                    .order_by(OutboxEvent.seq)
                )
            ).all()
            # Every write a client was told succeeded is there, once, and nothing else.
            assert sorted(produced[global_id]) == list(range(2, referral.version + 1)), global_id
            # The history: created as NOT_UPDATED, then each change from where the last one left it.
            assert [h.from_status for h in history[:1]] == [None] and history[0].to_status is ReferralStatus.NOT_UPDATED
            changes = history[1:]
            assert len(changes) == referral.version - 1
            assert all(c.from_status is before.to_status for before, c in zip(history, changes))
            assert history[-1].to_status is referral.status
            # The outbox: one CREATED, then one STATUS_CHANGED per version, in commit order, as the history says.
            kinds = Counter(e.kind for e in events)
            assert kinds[EventKind.CREATED] == 1
            moves = [e for e in events if e.kind is EventKind.STATUS_CHANGED]
            assert [e.change["version"] for e in moves] == list(range(2, referral.version + 1))
            assert [(e.change["from"], e.change["to"]) for e in moves] == [(c.from_status.name, c.to_status.name) for c in changes if c.from_status]
