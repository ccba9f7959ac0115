"""graphql-transport-ws as dashboards speak it, now that the hub writes live frames itself (schema/sharing.py)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from websockets.typing import Subprotocol

from tests.documents import CHANGES, CREATE_REFERRAL, new_seeker_referral
from tests.support import Api, Network, until

# A second selection of the same stream: it is rendered apart from CHANGES.
STATUSES = """
subscription Statuses { referralChanged { seq kind referral { status } } }
"""
# Ids a client may choose: JSON needs the quote and the backslash escaped.
IDS = ["1", 'dash"board\\2', "é-3"]


class Socket:
    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, api: Api, email: str) -> Socket:
        ws = await websockets.connect(f"ws://{api.host}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")])
        socket = cls(ws)
        await socket.send({"type": "connection_init", "payload": {"authorization": f"Bearer {await api.token(email)}"}})
        assert (await socket.recv())["type"] == "connection_ack"
        return socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return message

    async def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})

    async def quiet(self, within: float = 0.7) -> None:
        try:
            message = await asyncio.wait_for(self.ws.recv(), within)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, got {message}")


async def _live(api: Api, count: int) -> None:
    """Wait until the server has this many live subscriptions (a subscribe is answered only by events)."""
    async def subscribers() -> int:
        return int((await api.http.get("/healthz")).json()["subscribers"])

    for _ in range(200):
        if await subscribers() == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the server has {await subscribers()} subscribers, not {count}")


async def test_each_subscription_gets_its_own_id_and_selection(api: Api, network: Network) -> None:
    socket = await Socket.open(api, "intake@test.example")
    await socket.subscribe(IDS[0], CHANGES)
    await socket.subscribe(IDS[1], STATUSES)
    await socket.subscribe(IDS[2], CHANGES, {"programId": network["pantry"]})
    await _live(api, 3)
    created = await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    referral_id = created["createReferral"]["id"]

    frames = [await socket.recv() for _ in IDS]
    assert {f["type"] for f in frames} == {"next"}
    by_id = {f["id"]: f["payload"] for f in frames}
    assert set(by_id) == set(IDS)
    full, statuses, pantry = (by_id[i]["data"]["referralChanged"] for i in IDS)
    assert full["kind"] == pantry["kind"] == statuses["kind"] == "CREATED"
    assert full["referral"]["id"] == pantry["referral"]["id"] == referral_id
    assert full["referral"]["program"]["name"] == "Harbor Pantry"
    assert statuses["referral"] == {"status": "NOT_UPDATED"}
    assert "errors" not in by_id[IDS[0]]
    await socket.quiet()
    await socket.ws.close()


async def test_complete_stops_one_subscription_and_keeps_the_others(api: Api, network: Network) -> None:
    socket = await Socket.open(api, "intake@test.example")
    await socket.subscribe("a", CHANGES)
    await socket.subscribe("b", STATUSES)
    await _live(api, 2)
    await socket.send({"id": "a", "type": "complete"})
    await _live(api, 1)
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    frame = await socket.recv()
    assert (frame["type"], frame["id"]) == ("next", "b")
    await socket.quiet()

    # The id is free again, and the new subscription under it is live.
    await socket.subscribe("a", STATUSES)
    await _live(api, 2)
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    assert sorted((f["type"], f["id"]) for f in [await socket.recv(), await socket.recv()]) == [("next", "a"), ("next", "b")]
    await socket.quiet()
    await socket.ws.close()


async def test_errors_are_coded_and_end_with_complete(api: Api, network: Network) -> None:
    socket = await Socket.open(api, "intake@test.example")
    # Invalid document: an `error` message, coded; nothing else for that id.
    await socket.subscribe("bad", "subscription { referralChanged { nope } }")
    error = await socket.recv()
    assert (error["type"], error["id"]) == ("error", "bad")
    assert [e["extensions"]["code"] for e in error["payload"]] == ["GRAPHQL_VALIDATION_FAILED"]

    # An argument refused before the resolver runs (schema/inputs.py): an `error` message, coded.
    await socket.subscribe("malformed", CHANGES, {"programId": "not-an-id"})
    malformed = await socket.recv()
    assert (malformed["type"], malformed["id"]) == ("error", "malformed")
    assert [e["extensions"]["code"] for e in malformed["payload"]] == ["BAD_USER_INPUT"]

    # A refusal from the resolver (a well-formed id of a seeker, not a program): one `next` with
    # the coded error, then `complete`.
    await socket.subscribe("input", CHANGES, {"programId": network["sam"]})
    refused = await socket.recv()
    assert (refused["type"], refused["id"]) == ("next", "input")
    assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["BAD_USER_INPUT"]
    assert await socket.recv() == {"id": "input", "type": "complete"}

    # The socket still works: ping, and a live subscription.
    await socket.send({"type": "ping"})
    assert (await socket.recv())["type"] == "pong"
    await socket.subscribe("ok", STATUSES)
    await _live(api, 1)
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    frame = await socket.recv()
    assert (frame["type"], frame["id"]) == ("next", "ok")
    await socket.ws.close()


async def test_the_limit_on_subscriptions_and_duplicate_ids(api: Api, network: Network) -> None:
    socket = await Socket.open(api, "intake@test.example")
    for n in range(20):
        await socket.subscribe(str(n), STATUSES)
    await _live(api, 20)
    await socket.subscribe("21st", STATUSES)
    refused = await socket.recv()
    assert (refused["type"], refused["id"]) == ("error", "21st")
    assert refused["payload"][0]["message"] == "Subscription limit reached"

    # The twenty still get every event, each under its own id, in order.
    for _ in range(2):
        await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    frames = [await socket.recv() for _ in range(40)]
    for n in range(20):
        seqs = [f["payload"]["data"]["referralChanged"]["seq"] for f in frames if f["id"] == str(n)]
        assert len(seqs) == 2 and seqs[0] < seqs[1], (n, seqs)

    await socket.subscribe("3", STATUSES)
    try:
        await asyncio.wait_for(socket.ws.recv(), 5)
        raise AssertionError("a second subscription under one id must close the socket")
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 4409
    await _live(api, 0)


def _operation_tasks() -> list[asyncio.Task[Any]]:
    """The server's running operation tasks (it runs in this process)."""
    return [t for t in asyncio.all_tasks() if getattr(t.get_coro(), "__qualname__", "").endswith("run_operation")]


async def test_a_live_subscription_is_held_by_the_hub_without_a_task_until_completed_or_revoked(
    api: Api, network: Network
) -> None:
    """Once caught up, a subscription costs no task of its own, and still completes, resubscribes and revokes."""
    socket = await Socket.open(api, "intake@test.example")
    for n in range(10):
        await socket.subscribe(str(n), STATUSES)
    await _live(api, 10)
    assert _operation_tasks() == []

    await socket.send({"id": "3", "type": "complete"})
    await _live(api, 9)
    await socket.subscribe("3", CHANGES)
    await _live(api, 10)
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    frames = {f["id"]: f for f in [await socket.recv() for _ in range(10)]}
    assert set(frames) == {str(n) for n in range(10)}
    assert frames["3"]["payload"]["data"]["referralChanged"]["referral"]["program"]["name"] == "Harbor Pantry"

    # Signed out elsewhere: each subscription ends with its coded error and `complete`; the ids are free again.
    await api.gql("mutation { signOut }", as_="intake@test.example")
    ended = [await socket.recv() for _ in range(20)]
    for n in range(10):
        mine = [f for f in ended if f["id"] == str(n)]
        assert [f["type"] for f in mine] == ["next", "complete"], mine
        assert [e["extensions"]["code"] for e in mine[0]["payload"]["errors"]] == ["UNAUTHENTICATED"]
    await _live(api, 0)
    await socket.send({"type": "ping"})
    assert (await socket.recv())["type"] == "pong"
    await socket.ws.close()


async def test_one_audience_shares_a_renderer_that_outlives_the_socket_it_came_from(api: Api, network: Network) -> None:
    """Sockets of one audience render with one executor; closing the first leaves the others live, and the last frees it."""
    import gc

    from schema import sharing

    first, second = await Socket.open(api, "intake@test.example"), await Socket.open(api, "intake@test.example")
    await first.subscribe("1", STATUSES)
    await second.subscribe("1", STATUSES)
    await _live(api, 2)
    gc.collect()  # what earlier tests' servers left is garbage by now
    assert len(sharing._EXECUTORS) == 1
    await first.ws.close()
    await _live(api, 1)
    await api.gql(CREATE_REFERRAL, {"input": new_seeker_referral(network["pantry"])}, as_="navigator@test.example")
    frame = await second.recv()
    assert frame["payload"]["data"]["referralChanged"]["referral"] == {"status": "NOT_UPDATED"}
    await second.ws.close()
    await _live(api, 0)

    def freed() -> bool:
        gc.collect()
        return not sharing._EXECUTORS

    # Once the hub's round that pushed the frame is over (it writes the pushes' audit rows after sending).
    await until(freed, what="the shared executor to be let go")
