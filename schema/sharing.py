"""Executing a subscription event once per audience rather than once per socket.

graphql-core runs every subscriber's selection set for every event; with a thousand dashboards
that is most of the server's work, and the answers are the same for viewers who may see the
same things. Events that carry a `shared_results` dict (one per pushed event, shared by every
subscriber it is offered to) are executed once per (document, variables, audience) and each
subscriber gets its own copy of the result.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Hashable, Iterable
from contextvars import ContextVar
from typing import Any, Protocol, cast
from weakref import WeakValueDictionary

from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode, Visitor, visit
from graphql.language import FieldNode, FragmentDefinitionNode, VariableNode
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.utils.logging import StrawberryLogger

from resolvers.errors import DomainError
from resolvers.live.hub import Delivery
from resolvers.policy import audience
from schema.context import Context, Info
from schema.errors import ErrorCodes, is_client_error


class _VariableNames(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.names.add(node.name.value)


def payload_variables(
    operation: OperationDefinitionNode, fragments: Iterable[FragmentDefinitionNode]
) -> frozenset[str]:
    """Variables that can change what an event renders: all but those only choosing the stream.

    `afterSeq` differs between dashboards that reconnected at different moments, yet says
    nothing about how an event looks, so it must not split an audience.
    """
    collector = _VariableNames()
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and selection.selection_set is not None:
            visit(selection.selection_set, collector)
        for directive in selection.directives or ():
            visit(directive, collector)
    for fragment in fragments:
        visit(fragment, collector)
    return frozenset(collector.names)


def _copy(result: ExecutionResult) -> ExecutionResult:
    # Extensions (error masking) edit a result's error list in place: each subscriber gets its own.
    return ExecutionResult(data=result.data, errors=list(result.errors) if result.errors else None, extensions=result.extensions)


class SharingKey:
    """(document, payload variables, audience), hashed once: the hub looks it up per subscriber per event.

    The document is compared by identity (the document cache hands out one object per text):
    graphql-core's nodes compare field by field.
    """

    __slots__ = ("_hash", "audience", "operation", "variables")

    def __init__(self, operation: OperationDefinitionNode, variables: str, audience: tuple[object, ...]) -> None:
        self.operation = operation
        self.variables = variables
        self.audience = audience
        self._hash = hash((id(operation), variables, audience))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, SharingKey)
            and self._hash == other._hash
            and self.operation is other.operation
            and self.variables == other.variables
            and self.audience == other.audience
        )


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A subscription resolver that runs next in this task finds its executor here (socket_sink).
        _CURRENT_EXECUTOR.set(self)

    def sharing_key(self) -> Hashable:
        """Executions with equal keys render an event alike: same document, payload variables and audience."""
        viewer = self.context_value.viewer
        known: tuple[object, Hashable] | None = getattr(self, "_sharing_key", None)
        if known is not None and known[0] is viewer:
            return known[1]
        names = payload_variables(self.operation, self.fragment_definitions.values())
        variables = {name: value for name, value in self.variable_values.coerced.items() if name in names}
        key = SharingKey(self.operation, json.dumps(variables, sort_keys=True, default=str), audience(viewer))
        self._sharing_key = (viewer, key)
        return key

    def event_executor(self, payload: Any) -> Any:
        """An executor for one event, with DataLoaders of its own: a loader kept for the
        subscription's life would answer later events with what it loaded for the first."""
        executor = super().build_per_event_executor(payload)
        if isinstance(executor.context_value, Context):
            executor.context_value = executor.context_value.fresh()
        return executor

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = self.event_executor(payload)
        shared: dict[Any, Any] | None = getattr(payload, "shared_results", None)
        viewer = getattr(self.context_value, "viewer", None)
        if shared is None or viewer is None:
            return executor
        key = self.sharing_key()
        execute_alone = executor.execute_operation

        def execute_operation(serially: bool | None = None) -> Any:
            if key not in shared:
                result = execute_alone(serially)
                shared[key] = asyncio.ensure_future(result) if executor.is_awaitable(result) else result
            cached = shared[key]
            if isinstance(cached, asyncio.Future):
                return _copy_when_done(cached)
            return _copy(cached)

        executor.execute_operation = execute_operation
        return executor


async def _copy_when_done(result: asyncio.Future[ExecutionResult]) -> ExecutionResult:
    return _copy(await asyncio.shield(result))


# ------------------------------------------------------------------------------------------------
# Sockets that take frames straight from the hub (resolvers/live/hub.py Sink): per event and per
# audience the payload is executed and encoded once; each socket gets that text with its own
# subscription id spliced in, queued on its bounded send queue (web/graphql.py writes it).


class FrameQueue(Protocol):
    """A websocket's send queue, as the handler running the subscription offers it."""

    def put(self, owner: object, frame: str, *, bounded: bool) -> bool: ...

    def drop(self, owner: object) -> None: ...

    def finish(self, operation_id: str, frames: list[str]) -> None:
        """Queue the operation's last frames, past the bound, and forget it: its id is free again."""


# Set by the websocket handler in each operation's task: the socket's queue and the operation's id.
CURRENT_OPERATION: ContextVar[tuple[FrameQueue, str] | None] = ContextVar("referloop_ws_operation", default=None)
# Set when graphql-core builds the executor of an operation, in that operation's task.
_CURRENT_EXECUTOR: ContextVar[SharedEventExecutionContext | None] = ContextVar("referloop_executor", default=None)

_ERRORS = ErrorCodes()
# One executor per sharing key among the live sinks (socket_sink).
_EXECUTORS: WeakValueDictionary[Hashable, SharedEventExecutionContext] = WeakValueDictionary()


def encode_result(result: ExecutionResult) -> str:
    """A `next` message's payload as strawberry's handler sends it: errors logged, masked and coded."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        for error in result.errors:
            if not is_client_error(error):
                StrawberryLogger.error(error)
        payload["errors"] = [e.formatted for e in _ERRORS.finish(list(result.errors))]
    return json.dumps(payload)


class SocketSink:
    """One websocket subscription fed by the hub; see resolvers.live.hub.Sink."""

    __slots__ = ("executor", "key", "operation_id", "prefix", "queue", "root_of")

    def __init__(self, executor: SharedEventExecutionContext, queue: FrameQueue, operation_id: str, root_of: RootOf) -> None:
        self.executor = executor
        self.queue = queue
        self.root_of = root_of
        self.operation_id = operation_id
        self.prefix = '{"type":"next","id":' + json.dumps(operation_id) + ',"payload":'
        self.key = executor.sharing_key()

    def render(self, delivery: Delivery) -> str | Awaitable[str]:
        per_event = self.executor.event_executor(self.root_of(delivery))
        result = per_event.execute_operation(False)
        if per_event.is_awaitable(result):
            return _encode_when_done(cast("Awaitable[ExecutionResult]", result))
        return encode_result(cast("ExecutionResult", result))

    def send(self, payload: str) -> bool:
        return self.queue.put(self, self.prefix + payload + "}", bounded=True)

    def send_always(self, payload: str) -> None:
        self.queue.put(self, self.prefix + payload + "}", bounded=False)

    def discard(self) -> None:
        self.queue.drop(self)

    def revoke(self, error: DomainError) -> None:
        # As strawberry ends a subscription whose stream raised: the error as a `next`, then `complete`.
        failed = encode_result(ExecutionResult(data=None, errors=[GraphQLError(error.message, original_error=error)]))
        complete = json.dumps({"type": "complete", "id": self.operation_id})
        self.queue.finish(self.operation_id, [self.prefix + failed + "}", complete])


async def _encode_when_done(result: Awaitable[ExecutionResult]) -> str:
    return encode_result(await result)


RootOf = Callable[[Delivery], object]


def socket_sink(info: Info, root_of: RootOf) -> SocketSink | None:
    """A sink for this subscription if it runs on one of our websockets (else None: it yields its events)."""
    operation = CURRENT_OPERATION.get()
    executor = _CURRENT_EXECUTOR.get()
    if operation is None or executor is None or executor.context_value is not info.context or executor.operation is not info.operation:
        return None
    if getattr(info.context, "viewer", None) is None:
        return None
    queue, operation_id = operation
    # Sinks with equal keys render alike, and the hub renders each event once for all of them, with
    # whichever comes first: they share that one executor, and each subscription's own is let go
    # with its task (web/graphql.py), rather than kept for the socket's life.
    shared = _EXECUTORS.setdefault(executor.sharing_key(), executor)
    return SocketSink(shared, queue, operation_id, root_of)
