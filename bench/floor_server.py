"""The floor bench/fanout.py compares with: a bare Starlette websocket broadcast of the same bytes.

    python -m uvicorn bench.floor_server:app

Just enough graphql-transport-ws for the bench's client (ack, subscribe, ping): a status change
encodes one `next` frame like Referloop's and writes it to every socket, its id spliced in. No
GraphQL, no database, no authorization, no queues: what sending the bytes costs on this machine.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

STATE: dict[str, object] = {"seq": 0, "version": 1, "status": "NOT_UPDATED", "history": ["NOT_UPDATED"]}
# Each socket's subscription: its id, and whether it is a wall display's.
SOCKETS: dict[WebSocket, tuple[str, bool]] = {}
_SENDING: set[asyncio.Task[None]] = set()


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True, "subscribers": len(SOCKETS)})


def _payloads(change: dict[str, object], previous: str) -> tuple[str, str]:
    history = change["history"]
    assert isinstance(history, list)
    at = datetime.now(UTC).isoformat()
    referral = {
        "id": change["id"], "status": change["status"], "version": change["version"],
        "seeker": {"firstName": "Person0", "email": "p0@example.com"}, "program": {"name": "Harbor Pantry"},
        "history": [{"toStatus": s} for s in history],
    }
    live = {"data": {"referralChanged": {"seq": change["seq"], "kind": "STATUS_CHANGED", "referral": referral}}}
    wall = {
        "data": {
            "wallboardChanged": {
                "seq": change["seq"], "kind": "STATUS_CHANGED", "at": at, "fromStatus": previous, "toStatus": change["status"],
                "referral": {"id": change["id"], "seekerInitials": "P. T.", "status": change["status"]},
            }
        }
    }
    return json.dumps(live), json.dumps(wall)


async def _broadcast(live: str, wall: str) -> None:
    for socket, (operation_id, is_wall) in list(SOCKETS.items()):
        try:
            await socket.send_text('{"type":"next","id":' + operation_id + ',"payload":' + (wall if is_wall else live) + "}")
        except Exception:  # noqa: BLE001 - a socket that went away
            SOCKETS.pop(socket, None)


async def graphql(request: Request) -> JSONResponse:
    """updateReferralStatus, as the bench sends it: the new version, then the broadcast."""
    variables = (await request.json())["variables"]["input"]
    history = STATE["history"]
    assert isinstance(history, list)
    previous = str(STATE["status"])
    change = {
        "id": variables["referralId"], "status": variables["status"], "version": int(str(STATE["version"])) + 1,
        "seq": int(str(STATE["seq"])) + 1, "history": [*history, variables["status"]],
    }
    STATE.update(seq=change["seq"], version=change["version"], status=change["status"], history=change["history"])
    task = asyncio.create_task(_broadcast(*_payloads(change, previous)))
    _SENDING.add(task)
    task.add_done_callback(_SENDING.discard)
    updated = {"id": change["id"], "status": change["status"], "version": change["version"]}
    return JSONResponse({"data": {"updateReferralStatus": updated}})


async def websocket(socket: WebSocket) -> None:
    await socket.accept(subprotocol="graphql-transport-ws")
    try:
        while True:
            message = json.loads(await socket.receive_text())
            kind = message.get("type")
            if kind == "connection_init":
                await socket.send_text('{"type":"connection_ack"}')
            elif kind == "ping":
                await socket.send_text('{"type":"pong"}')
            elif kind == "subscribe":
                SOCKETS[socket] = (json.dumps(message["id"]), "wallboardChanged" in message["payload"]["query"])
            elif kind == "complete":
                SOCKETS.pop(socket, None)
    except WebSocketDisconnect:
        pass
    finally:
        SOCKETS.pop(socket, None)


app = Starlette(routes=[Route("/healthz", healthz), Route("/graphql", graphql, methods=["POST"]), WebSocketRoute("/graphql", websocket)])
