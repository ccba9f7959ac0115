"""The GraphQL endpoint: HTTP, graphql-transport-ws, and who the caller is on each."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from cross_web import HTTPException
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from resolvers.accounts import viewer_for_token
from resolvers.errors import DomainError
from resolvers.runtime import Runtime
from schema import schema
from schema.context import Context


class GraphQLEndpoint(GraphQL[Context, None]):
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
