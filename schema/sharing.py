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
from collections.abc import Iterable
from typing import Any

from graphql import ExecutionResult, OperationDefinitionNode, Visitor, visit
from graphql.language import FieldNode, FragmentDefinitionNode, VariableNode
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.policy import audience
from schema.context import Context


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


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        # Every event is executed with DataLoaders of its own: a loader kept for the subscription's
        # life would answer later events with what it loaded for the first.
        if isinstance(executor.context_value, Context):
            executor.context_value = executor.context_value.fresh()
        shared: dict[Any, Any] | None = getattr(payload, "shared_results", None)
        viewer = getattr(self.context_value, "viewer", None)
        if shared is None or viewer is None:
            return executor
        names = shared.setdefault(("variables", id(self.operation)), payload_variables(self.operation, self.fragment_definitions.values()))
        variables = {name: value for name, value in self.variable_values.coerced.items() if name in names}
        key = (self.operation, json.dumps(variables, sort_keys=True, default=str), audience(viewer))
        execute_alone = executor.execute_operation

        def execute_operation(serially: bool | None = None) -> Any:
            if key not in shared:
                result = execute_alone(serially)
                shared[key] = asyncio.ensure_future(result) if executor.is_awaitable(result) else result
            cached = shared[key]
            if isinstance(cached, asyncio.Future):
                return _copy_when_done(cached)
            return _copy(cached)

        executor.execute_operation = execute_operation  # type: ignore[method-assign]
        return executor


async def _copy_when_done(result: asyncio.Future[ExecutionResult]) -> ExecutionResult:
    return _copy(await asyncio.shield(result))
