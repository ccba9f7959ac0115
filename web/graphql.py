"""The GraphQL endpoint: HTTP, graphql-transport-ws, and who the caller is on each."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from cross_web import HTTPException
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler, Operation
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.types.unset import UnsetType

from resolvers.accounts import viewer_for_token
from resolvers.errors import DomainError
from resolvers.runtime import Runtime
from schema import schema
from schema.context import Context
from schema.sharing import CURRENT_OPERATION

log = logging.getLogger(__name__)


class SocketFrames:
    """A websocket's send queue and the one task that writes it, in order.

    The hub puts each subscription's `next` frames here already encoded, at most `limit` of them
    unwritten per subscription (beyond that the hub drops them and sends RESYNC); the protocol's
    own messages (ack, pong, error, complete) always go in, behind what is already queued.
    """

    def __init__(self, websocket: WebSocket, limit: int) -> None:
        self.websocket = websocket
        self.limit = limit
        self.frames: deque[tuple[object, str]] = deque()
        self.unwritten: dict[object, int] = {}
        self.ready = asyncio.Event()
        self.closed = False
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._write(), name="referloop-ws-writer")

    def put(self, owner: object, frame: str, *, bounded: bool) -> bool:
        if self.closed:
            return True  # the socket is gone; its handler is ending the subscriptions
        count = self.unwritten.get(owner, 0)
        if bounded and count >= self.limit:
            return False
        self.unwritten[owner] = count + 1
        self.frames.append((owner, frame))
        self.ready.set()
        return True

    def drop(self, owner: object) -> None:
        if self.unwritten.pop(owner, None):
            self.frames = deque(item for item in self.frames if item[0] is not owner)

    async def _write(self) -> None:
        frames = self.frames
        try:
            while True:
                await self.ready.wait()
                self.ready.clear()
                while self.frames:
                    frames = self.frames  # drop() may have replaced it while we awaited
                    owner, frame = frames.popleft()
                    left = self.unwritten.get(owner, 1) - 1
                    if left > 0:
                        self.unwritten[owner] = left
                    else:
                        self.unwritten.pop(owner, None)
                    await self.websocket.send_text(frame)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a closed socket: its handler sees the disconnect and cleans up
            log.debug("websocket writer stopped", exc_info=True)
        finally:
            self.closed = True
            self.frames.clear()
            self.unwritten.clear()

    async def stop(self) -> None:
        self.closed = True
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with every frame written by one task per socket from a bounded queue.

    Live subscriptions (referralChanged, wallboardChanged) are handed this queue: the hub puts their
    `next` frames there itself, rendered and encoded once per audience (schema/sharing.py).
    """

    async def handle(self) -> None:
        runtime: Runtime = self.context.runtime
        self.frames = SocketFrames(self.websocket.ws, runtime.settings.subscriber_queue_size)  # type: ignore[attr-defined]
        self.frames.start()
        try:
            await super().handle()
        finally:
            await self.frames.stop()

    async def send_message(self, message: Message) -> None:
        self.frames.put(None, self.view.encode_json(message), bounded=False)  # type: ignore[arg-type]

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # This task's own context: the subscription's resolver finds its socket and id here.
        CURRENT_OPERATION.set((self.frames, operation.id))
        await super().run_operation(operation)


class GraphQLEndpoint(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(self) -> None:
        super().__init__(
            schema,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # Browsers' websockets carry no CORS: only same-origin pages may connect.
            allowed_origins=(),
            max_subscriptions_per_connection=20,
            connection_init_wait_timeout=timedelta(seconds=10),
        )

    def decode_json(self, data: str | bytes) -> object:
        try:
            decoded = json.loads(data)
        except (RecursionError, UnicodeDecodeError) as error:
            # Strawberry answers a JSONDecodeError with a 400; anything else would be a 500.
            raise json.JSONDecodeError(f"not a JSON document we can read ({type(error).__name__})", "", 0) from None
        # Strawberry reads the body as an object (a list is a batch, which it refuses with a 400):
        # a string, a number, true or null would be a 500.
        if not isinstance(decoded, (dict, list)):
            raise HTTPException(400, 'The request body must be a JSON object, like {"query": "{ viewer { id } }"}.')
        return decoded

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        runtime: Runtime = request.state.runtime
        context = Context(runtime=runtime, request=request, response=response)
        if isinstance(request, Request):
            try:
                context.viewer = await viewer_for_token(runtime, request.headers.get("authorization"))
            except DomainError as error:
                context.auth_error = error
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, Any] | None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = params.get("authorization") or params.get("Authorization")
        try:
            context.viewer = await viewer_for_token(context.runtime, authorization)
        except DomainError as error:
            raise ConnectionRejectionError({"message": error.message, "code": error.code}) from None
        return None
