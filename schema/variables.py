"""A bound on how many values an operation's variables hold, checked before they are coerced.

The body limit (1 MiB) still lets a client send 40,000 screener answers in one variable: graphql-core
and strawberry then coerce and convert each of them before any resolver can refuse the list (4 s
of one core). The honest requests send a few hundred values at most: a household of enrollment
members, a screener's answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

MAX_VALUES = 1000


def value_count(variables: Mapping[str, Any], stop_after: int = MAX_VALUES) -> int:
    """How many values (objects, lists and scalars, nested ones too) `variables` holds, counting no
    further than just past `stop_after`."""
    count = 0
    stack: list[Any] = list(variables.values())
    while stack and count <= stop_after:
        value = stack.pop()
        count += 1
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


class VariableLimiter(SchemaExtension):
    """Refuses, before variables are coerced, an operation whose variables hold over MAX_VALUES values."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.variables and value_count(context.variables) > MAX_VALUES:
            error = GraphQLError(
                f"The variables hold more than {MAX_VALUES:,} values; send fewer at a time.",
                extensions={"code": "BAD_USER_INPUT"},
            )
            if context.operation_type is OperationType.SUBSCRIPTION:
                raise error
            context.result = ExecutionResult(data=None, errors=[error])
        yield
