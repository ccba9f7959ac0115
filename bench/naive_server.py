"""The naive server bench/fanout.py compares with: strawberry + broadcaster, one execution per socket.

    python -m uvicorn bench.naive_server:app

The textbook way to serve a live dashboard: each subscription listens on the broadcaster channel
(memory://, an unbounded queue per subscriber) and yields each event, which strawberry executes
against that socket's selection and encodes for that socket. No database: the referral lives in
memory, so everything measured is the fan-out. The subscription documents and the frames match
Referloop's (bench/fanout.py LIVE and WALL), so the same client measures all three servers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import strawberry
from broadcaster import Broadcast
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

CHANNEL = "bench.changes"
broadcast = Broadcast("memory://")
STATE: dict[str, object] = {"seq": 0, "version": 1, "status": "NOT_UPDATED", "history": ["NOT_UPDATED"]}
SUBSCRIBERS = [0]


@strawberry.type
class Seeker:
    first_name: str
    email: str | None


@strawberry.type
class Program:
    name: str


@strawberry.type
class StatusChange:
    to_status: str


@strawberry.type
class Referral:
    id: strawberry.ID
    status: str
    version: int
    seeker: Seeker
    program: Program
    history: list[StatusChange]
    seeker_initials: str


@strawberry.type
class ReferralEvent:
    seq: int
    kind: str
    at: datetime
    referral: Referral | None


@strawberry.type
class WallChange:
    seq: int
    kind: str
    at: datetime
    from_status: str | None
    to_status: str | None
    referral: Referral | None


def _referral(change: dict[str, object]) -> Referral:
    history = change["history"]
    assert isinstance(history, list)
    return Referral(
        id=strawberry.ID(str(change["id"])),
        status=str(change["status"]),
        version=int(str(change["version"])),
        seeker=Seeker(first_name="Person0", email="p0@example.com"),
        program=Program(name="Harbor Pantry"),
        history=[StatusChange(to_status=s) for s in history],
        seeker_initials="P. T.",
    )


async def _changes() -> AsyncIterator[dict[str, object]]:
    SUBSCRIBERS[0] += 1
    try:
        async with broadcast.subscribe(CHANNEL) as subscriber:
            async for event in subscriber:  # type: ignore[union-attr]
                yield json.loads(event.message)  # type: ignore[union-attr]
    finally:
        SUBSCRIBERS[0] -= 1


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def referral_changed(self) -> AsyncGenerator[ReferralEvent, None]:
        async for change in _changes():
            yield ReferralEvent(seq=int(str(change["seq"])), kind="STATUS_CHANGED", at=datetime.now(UTC), referral=_referral(change))

    @strawberry.subscription
    async def wallboard_changed(self, coc_code: str) -> AsyncGenerator[WallChange, None]:
        async for change in _changes():
            yield WallChange(
                seq=int(str(change["seq"])), kind="STATUS_CHANGED", at=datetime.now(UTC),
                from_status=str(change["from"]), to_status=str(change["status"]), referral=_referral(change),
            )


@strawberry.input
class UpdateReferralStatusInput:
    referral_id: strawberry.ID
    status: str
    expected_version: int


@strawberry.type
class Updated:
    id: strawberry.ID
    status: str
    version: int


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def update_referral_status(self, input: UpdateReferralStatusInput) -> Updated:
        history = STATE["history"]
        assert isinstance(history, list)
        change = {
            "id": input.referral_id, "from": STATE["status"], "status": input.status,
            "version": int(str(STATE["version"])) + 1, "seq": int(str(STATE["seq"])) + 1, "history": [*history, input.status],
        }
        STATE.update(seq=change["seq"], version=change["version"], status=input.status, history=change["history"])
        await broadcast.publish(CHANNEL, json.dumps(change))
        return Updated(id=input.referral_id, status=input.status, version=int(str(change["version"])))


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


schema = strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription)
graphql: GraphQL[None, None] = GraphQL(schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True, "subscribers": SUBSCRIBERS[0]})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await broadcast.connect()
    yield
    await broadcast.disconnect()


app = Starlette(
    routes=[Route("/healthz", healthz), Route("/graphql", graphql, methods=["GET", "POST"]), WebSocketRoute("/graphql", graphql)],
    lifespan=lifespan,
)
