"""The GraphQL endpoint: HTTP (GraphQL over HTTP), graphql-transport-ws, and who the caller is on each.

Over HTTP the answer follows the GraphQL over HTTP draft: the client's Accept picks
`application/graphql-response+json` or `application/json` (406 if neither); a request that never
reached execution (not JSON, not a GraphQL request, a document that does not parse or validate,
variables that do not fit, over the cost budget) has no `data` and a 4xx status; once execution
started the answer is 200, whatever errors its fields raised. README.md, "GraphQL over HTTP".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast, overload

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler, Operation
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage, Message
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from resolvers.accounts import viewer_for_token
from resolvers.errors import DomainError, RateLimited
from resolvers.live.hub import HandedOver
from resolvers.live.mailbox import Mailbox
from resolvers.runtime import Runtime
from schema import schema
from schema.context import Context
from schema.sharing import CURRENT_OPERATION
from web.media_types import GRAPHQL_RESPONSE, JSON, response_media_type

log = logging.getLogger(__name__)


# A request error's status by its code; any other code (validation, variables, cost) is 422.
REQUEST_ERROR_STATUS = {
    "GRAPHQL_PARSE_FAILED": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "RATE_LIMITED": 429,
    "INTERNAL_SERVER_ERROR": 500,
}
# GraphiQL comes from a CDN with inline scripts: development only, and only on its own page.
GRAPHIQL_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; "
    "style-src 'self' 'unsafe-inline' https://unpkg.com; img-src 'self' data: https://unpkg.com; "
    "font-src 'self' data: https://unpkg.com; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


class Refusal(HTTPException):
    """A request refused before any GraphQL ran, with the headers its status needs."""

    def __init__(self, status_code: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code, reason)
        self.headers = headers or {}


def _json_content(media_type: str) -> str:
    return f"{media_type}; charset=utf-8"


def _refused(error: HTTPException) -> Response:
    """A refusal as a GraphQL response (errors and no data), which says so by its media type."""
    body = {"errors": [{"message": error.reason, "extensions": {"code": "BAD_USER_INPUT"}}]}
    headers = error.headers if isinstance(error, Refusal) else {}
    if error.status_code == 405:
        headers = {"allow": "GET, POST", **headers}  # RFC 9110: a 405 names the methods that work
    # 406: the client reads neither of our types; JSON is the likelier to be of use to it.
    media_type = JSON if error.status_code == 406 else GRAPHQL_RESPONSE
    return Response(json.dumps(body), status_code=error.status_code, headers=headers, media_type=_json_content(media_type))


def _load_json(data: str | bytes) -> object:
    try:
        return json.loads(data)
    except (RecursionError, UnicodeDecodeError) as error:
        # A JSONDecodeError is what both the HTTP view and the websocket handler refuse cleanly.
        raise json.JSONDecodeError(f"not a JSON document we can read ({type(error).__name__})", "", 0) from None


def _request_data(data: object) -> GraphQLRequestData:
    """The body (or query string) as a GraphQL-over-HTTP request: 422 when it is not one."""
    if not isinstance(data, dict):
        raise Refusal(422, 'The request must be a JSON object, like {"query": "{ viewer { id } }"}.')
    query, variables, operation_name, extensions = (data.get(k) for k in ("query", "variables", "operationName", "extensions"))
    if not isinstance(query, str):
        raise Refusal(422, "The request's `query` must be a string: the GraphQL document.")
    if not isinstance(variables, (dict, type(None))):
        raise Refusal(422, "The request's `variables` must be an object.")
    if not isinstance(operation_name, (str, type(None))):
        raise Refusal(422, "The request's `operationName` must be a string.")
    if not isinstance(extensions, (dict, type(None))):
        raise Refusal(422, "The request's `extensions` must be an object.")
    return GraphQLRequestData(query=query, variables=variables, operation_name=operation_name, extensions=extensions)


def _is_request_error(result: ExecutionResult) -> bool:
    """Refused before execution: no data, and no error belongs to a field (field errors have a path)."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(not error.path for error in errors)


# The close code for a connection refused for being one too many (graphql-transport-ws uses 4429 for
# "too many initialisation requests"; the reason names RATE_LIMITED).
TOO_MANY_SOCKETS = 4429


class _SocketRefused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason




class SocketFrames:
    """A websocket's send queue and the one task that writes it, in order.

    The hub puts each subscription's `next` frames here already encoded, at most `limit` of them
    unwritten per subscription (beyond that the hub drops them and sends RESYNC); the protocol's
    own messages (ack, pong, error, complete) always go in, behind what is already queued. An idle
    socket's queue (a Mailbox) holds nothing: thousands of them sit idle at once.
    """

    __slots__ = ("closed", "finished", "frames", "limit", "task", "unwritten", "websocket")

    def __init__(self, websocket: WebSocket, limit: int, finished: Callable[[str], None]) -> None:
        self.websocket = websocket
        self.limit = limit
        # Told the id of each operation the hub ends on its own (a revoked subscription).
        self.finished = finished
        self.frames: Mailbox[tuple[object, str]] = Mailbox()
        self.unwritten: dict[object, int] = {}
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
        self.frames.put_nowait((owner, frame))
        return True

    def drop(self, owner: object) -> None:
        if self.unwritten.pop(owner, None):
            self.frames.discard(lambda item: item[0] is owner)

    def finish(self, operation_id: str, frames: list[str]) -> None:
        for frame in frames:
            self.put(None, frame, bounded=False)
        self.finished(operation_id)

    async def _write(self) -> None:
        try:
            while True:
                owner, frame = await self.frames.get()
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
    `next` frames there itself, rendered and encoded once per audience (schema/sharing.py). A
    connection refused for being one too many closes with its own code and reason, and one that
    ends gives back its user's socket.
    """

    async def handle(self) -> None:
        runtime: Runtime = self.context.runtime
        self.frames = SocketFrames(self.websocket.ws, runtime.settings.subscriber_queue_size, self._finished)  # type: ignore[attr-defined]
        # Subscriptions the hub holds now (HandedOver), each with what ends it.
        self.handed_over: dict[str, Callable[[], None]] = {}
        self.frames.start()
        try:
            await super().handle()
        finally:
            await self.frames.stop()

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

    async def send_message(self, message: Message) -> None:
        self.frames.put(None, self.view.encode_json(message), bounded=False)  # type: ignore[arg-type]

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # This task's own context: the subscription's resolver finds its socket and id here.
        CURRENT_OPERATION.set((self.frames, operation.id))
        try:
            await super().run_operation(operation)
        except HandedOver as handed:
            # The hub sends this subscription's events from now on; this task ends, the operation stays open.
            if self.operations.get(operation.id) is operation and not operation.completed:
                self.handed_over[operation.id] = handed.end
                # The finished task holds the operation's own executor and context: let them go.
                operation.task = None
            else:
                handed.end()

    async def cleanup_operation(self, operation_id: str) -> None:
        if operation_id in self.handed_over:
            self._finished(operation_id)  # no task to cancel: the hub holds it
        else:
            await super().cleanup_operation(operation_id)

    def _finished(self, operation_id: str) -> None:
        """A subscription the hub held is over (a `complete`, a closed socket, a revocation): its id is free again."""
        end = self.handed_over.pop(operation_id, None)
        if end is not None:
            end()
        operation = self.operations.pop(operation_id, None)
        if operation is not None:
            operation.completed = True


class GraphQLEndpoint(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(self, *, graphiql: bool) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # Browsers' websockets carry no CORS: only same-origin pages may connect.
            allowed_origins=(),
            max_subscriptions_per_connection=20,
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        # Open websockets per user in this process.
        self._sockets: Counter[int] = Counter()

    @overload
    async def run(self, request: Request, context: Context = UNSET, root_value: None = UNSET) -> Response: ...

    @overload
    async def run(self, request: WebSocket, context: Context = UNSET, root_value: None = UNSET) -> WebSocket: ...

    async def run(self, request: Request | WebSocket, context: Context = UNSET, root_value: None = UNSET) -> Response | WebSocket:
        if isinstance(request, WebSocket) or self.should_render_graphql_ide(self.request_adapter_class(request)):
            return await super().run(request, context, root_value)
        media_type = response_media_type(request.headers.get("accept"))
        if media_type is None:
            return _refused(HTTPException(406, f"This endpoint answers {GRAPHQL_RESPONSE} or {JSON}: send one of them in Accept."))
        request.state.graphql_media_type = media_type
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            return _refused(error)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        return self.graphql_ide is not None and super().should_render_graphql_ide(request)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.graphql_ide_html, headers={"content-security-policy": GRAPHIQL_POLICY})

    def decode_json(self, data: str | bytes) -> object:
        # Websocket messages; every graphql-transport-ws message is an object, and anything else
        # closes the socket with 4400 as invalid JSON would.
        decoded = _load_json(data)
        if not isinstance(decoded, dict):
            raise json.JSONDecodeError("a message must be a JSON object", "", 0)
        return decoded

    def parse_json(self, data: str | bytes) -> object:
        # Request bodies, and `variables` and `extensions` in a GET's query string.
        try:
            return _load_json(data)
        except json.JSONDecodeError:
            raise Refusal(400, "The request is not JSON we can read.") from None

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        # One operation per request (no batches, uploads or streamed subscriptions), JSON only.
        if request.method == "GET":
            return _request_data(self.parse_query_params(request.query_params))
        content_type, _ = parse_content_type(request.content_type or "")
        if content_type != JSON:
            raise Refusal(415, f"Send the request as {JSON}.")
        return _request_data(self.parse_json(await request.get_body()))

    async def execute_operation(self, *args: Any, **kwargs: Any) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        try:
            return await super().execute_operation(*args, **kwargs)
        except HTTPException as error:
            cause = error.__cause__
            if isinstance(cause, CannotGetOperationTypeError):
                raise Refusal(422, error.reason) from cause  # the operation to run cannot be determined
            if isinstance(cause, InvalidOperationTypeError) and cause.operation_type is OperationType.MUTATION:
                raise Refusal(405, "A mutation must be sent with POST.", {"allow": "POST"}) from cause
            raise  # a subscription: only over the websocket (400)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = getattr(request.state, "graphql_media_type", JSON)
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if _is_request_error(result):
            del response["data"]  # nothing ran: the spec's sign of a request error
        return response

    def create_response(self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response) -> Response:
        assert isinstance(response_data, dict)  # batches are refused while parsing
        response = super().create_response(response_data, sub_response)
        if "data" in response_data:
            response.headers["content-type"] = _json_content(sub_response.media_type or JSON)
            return response
        errors = response_data.get("errors") or [{}]
        code = (errors[0].get("extensions") or {}).get("code") if isinstance(errors[0], dict) else None
        response.status_code = REQUEST_ERROR_STATUS.get(str(code), 422)
        # Not a success: say that this is a GraphQL response, whatever the client accepts (the spec's rule).
        response.headers["content-type"] = _json_content(GRAPHQL_RESPONSE)
        if response.status_code == 401:
            response.headers["www-authenticate"] = 'Bearer realm="referloop"'
        return response

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
