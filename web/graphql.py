"""The GraphQL endpoint: HTTP, graphql-transport-ws, and who the caller is on each."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from cross_web import HTTPException
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types.unset import UnsetType

from resolvers.accounts import viewer_for_token
from resolvers.errors import DomainError, RateLimited
from resolvers.runtime import Runtime
from schema import schema
from schema.context import Context


# The close code for a connection refused for being one too many (graphql-transport-ws uses 4429 for
# "too many initialisation requests"; the reason names RATE_LIMITED).
TOO_MANY_SOCKETS = 4429


class _SocketRefused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Closes a refused connection with its own code and reason, and gives back the user's socket when it ends."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except _SocketRefused as refused:
            await self.websocket.close(code=refused.code, reason=refused.reason)

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            cast(GraphQLEndpoint, self.view).release_socket(self.context)


class GraphQLEndpoint(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = _TransportWSHandler

    def __init__(self) -> None:
        super().__init__(
            schema,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # Browsers' websockets carry no CORS: only same-origin pages may connect.
            allowed_origins=(),
            max_subscriptions_per_connection=20,
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        # Open websockets per user in this process.
        self._sockets: Counter[int] = Counter()

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
        user_id = context.viewer.user_id if context.viewer else None
        if user_id is not None:
            cap = context.runtime.settings.max_websockets_per_user
            if self._sockets[user_id] >= cap:
                refusal = RateLimited(f"at most {cap} open connections per user; close a page or tab")
                raise _SocketRefused(TOO_MANY_SOCKETS, f"{refusal.code}: {refusal.message}")
            self._sockets[user_id] += 1
            context.socket_user_id = user_id
        return None

    def release_socket(self, context: Context) -> None:
        user_id = context.socket_user_id
        if user_id is not None:
            context.socket_user_id = None
            self._sockets[user_id] -= 1
            if self._sockets[user_id] <= 0:
                del self._sockets[user_id]
