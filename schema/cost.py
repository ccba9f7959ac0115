"""A bound on the work one operation may ask for, counted before anything runs.

The cost of an operation is the number of values it could produce at most:

- every field costs 1, a scalar as much as an object (`__typename` is free);
- a field with a `first` argument (a connection, or a list such as the wall's) multiplies the cost of
  everything under it by `first`: the literal, the variable's value, or the argument's default; the
  `edges`/`nodes` lists directly under it are what `first` bounds and multiply by 1;
- any other list field multiplies what is under it by `LIST_SIZE` (a guess of its usual length: a
  referral's history, comments, a case's records).

Fragments, inline fragments and variables are resolved; `@skip`/`@include` are ignored (the count
is an upper bound). An operation that costs more than its viewer's role may spend (`BUDGETS`) is
refused before execution with `extensions.code` QUERY_TOO_COSTLY and the cost and budget in the
message; no resolver runs.

An operation within its budget is then charged to its caller's rate (resolvers/rate_limit.py): a
token bucket per signed-in user, else per client address. When the bucket cannot pay, the operation
is refused the same way with `extensions.code` RATE_LIMITED and `extensions.retryAfter` (seconds);
over HTTP the answer is a 429 with a `Retry-After` header. A subscription is charged once, when it
subscribes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    DocumentNode,
    get_named_type,
    is_input_type,
    type_from_ast,
    value_from_ast,
)
from graphql.pyutils import Undefined
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from db.accounts import Role

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
RATE_LIMITED = "RATE_LIMITED"
# The longest wait a refusal names (a rate of 0 would otherwise say "never").
MAX_RETRY_AFTER = 3600

# How long a list without `first` is taken to be.
LIST_SIZE = 10

# What one operation may cost, per role of the viewer (None: not signed in). The dashboards' largest
# document costs far less (tests/test_cost.py measures every one of them); the budget leaves them
# room to grow while refusing nested pages of pages: `peopleImHelping(first: 100)` over
# `referrals(first: 100)` alone costs over 10,000 per alias.
BUDGETS: dict[Role | None, int] = {
    None: 5_000,
    Role.SEEKER: 50_000,
    Role.NAVIGATOR: 200_000,
    Role.PROGRAM_STAFF: 200_000,
    Role.CE_MANAGER: 200_000,
    Role.ADMIN: 200_000,
}


def budget_for(role: Role | None) -> int:
    return BUDGETS.get(role, BUDGETS[None])


def _is_list(field: GraphQLField) -> bool:
    type_ = field.type
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class _Counter:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any]):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.fragment_costs: dict[str, int] = {}

    def _first(self, node: FieldNode, field: GraphQLField) -> int | None:
        arg = field.args.get("first")
        if arg is None:
            return None
        value: Any = Undefined
        for argument in node.arguments or ():
            if argument.name.value == "first":
                value = value_from_ast(argument.value, arg.type, dict(self.variables))
        if value is Undefined or value is None:
            value = arg.default_value
        if not isinstance(value, int) or isinstance(value, bool):
            return LIST_SIZE
        return max(0, value)

    def _fields(self, selection_set: SelectionSetNode, parent: Any, seen: frozenset[str]) -> Iterator[tuple[FieldNode, Any]]:
        """The fields of a selection set with the type each is selected on, fragments flattened."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                type_ = self.schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                yield from self._fields(selection.selection_set, type_ or parent, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:  # validation refuses both; count nothing twice
                    continue
                type_ = self.schema.get_type(fragment.type_condition.name.value)
                yield from self._fields(fragment.selection_set, type_ or parent, seen | {name})

    def cost(self, selection_set: SelectionSetNode, parent: Any, *, in_connection: bool = False) -> int:
        total = 0
        for node, type_ in self._fields(selection_set, parent, frozenset()):
            name = node.name.value
            if name.startswith("__"):
                continue
            fields = getattr(type_, "fields", None)
            field = fields.get(name) if isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)) and fields else None
            if field is None:  # validation refuses an unknown field
                continue
            total += 1
            if node.selection_set is None:
                continue
            first = self._first(node, field)
            if first is not None:
                multiplier = first
            elif _is_list(field) and not (in_connection and name in ("edges", "nodes")):
                multiplier = LIST_SIZE
            else:
                multiplier = 1
            inner = self.cost(node.selection_set, get_named_type(field.type), in_connection=first is not None)
            total += multiplier * inner
        return total


def operation_cost(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None = None, operation_name: str | None = None
) -> int:
    """The cost of the operation `operation_name` (or the only one) of a validated document."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1:
        return 0  # strawberry refuses an ambiguous or unknown operation itself
    operation = operations[0]
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    values = _variable_values(schema, operation, variables or {})
    return _Counter(schema, fragments, values).cost(operation.selection_set, root)


def _variable_values(schema: GraphQLSchema, operation: OperationDefinitionNode, given: Mapping[str, Any]) -> dict[str, Any]:
    """Variables as given, else their defaults; only plain values matter to the count (`first`)."""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in given:
            values[name] = given[name]
        elif definition.default_value is not None:
            type_ = type_from_ast(schema, definition.type)
            if type_ is not None and is_input_type(type_):
                values[name] = value_from_ast(definition.default_value, type_)
    return values


class CostLimiter(SchemaExtension):
    """Refuses, after validation and before execution, an operation over its viewer's budget or rate."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            viewer = getattr(context.context, "viewer", None)
            budget = budget_for(getattr(viewer, "role", None))
            cost = operation_cost(context.schema._schema, context.graphql_document, context.variables, context.operation_name)
            if cost > budget:
                if viewer is None:
                    # Signing in is what raises the budget: say so, as the fields themselves would.
                    auth_error = getattr(context.context, "auth_error", None)
                    message = auth_error.message if auth_error is not None else "Please sign in first."
                    error = GraphQLError(
                        f"{message} This operation would cost {cost:,}, over the budget of {budget:,} without signing in.",
                        extensions={"code": auth_error.code if auth_error is not None else "UNAUTHENTICATED", "cost": cost, "budget": budget},
                    )
                else:
                    error = GraphQLError(
                        f"This operation would cost {cost:,}, over the budget of {budget:,}: ask for fewer items "
                        "(`first`) or fewer nested lists.",
                        extensions={"code": QUERY_TOO_COSTLY, "cost": cost, "budget": budget},
                    )
                self._refuse(error)
            else:
                wait = _charge(context.context, viewer, cost)
                if wait is not None:
                    self._refuse(_rate_limited(context.context, wait))
        yield

    def _refuse(self, error: GraphQLError) -> None:
        context = self.execution_context
        if context.operation_type is OperationType.SUBSCRIPTION:
            raise error  # strawberry answers an error raised here as the subscription's only result
        # A result set before execution is used instead of executing (queries and mutations).
        context.result = ExecutionResult(data=None, errors=[error])


def _caller(context: Any, viewer: Any) -> tuple[str, object]:
    """Whose bucket pays: the signed-in user's, else the client address's."""
    if viewer is not None and getattr(viewer, "user_id", None) is not None:
        return ("user", viewer.user_id)
    client = getattr(getattr(context, "request", None), "client", None)
    return ("address", client.host if client is not None else None)


def _charge(context: Any, viewer: Any, cost: int) -> float | None:
    """Take the operation's cost from its caller's bucket: None if taken, else the seconds to wait."""
    runtime = getattr(context, "runtime", None)
    buckets = getattr(runtime, "rate_limits", None)
    if buckets is None:
        return None
    wait: float | None = buckets.charge(_caller(context, viewer), getattr(viewer, "role", None), cost)
    return wait


def _rate_limited(context: Any, wait: float) -> GraphQLError:
    seconds = max(1, math.ceil(min(wait, MAX_RETRY_AFTER)))
    response = getattr(context, "response", None)
    if isinstance(response, Response):  # over HTTP: refused before execution, a 429 that says when to retry
        response.status_code = 429
        response.headers["Retry-After"] = str(seconds)
    return GraphQLError(
        f"You have asked the server for a lot lately: try again in {seconds} s.",
        extensions={"code": RATE_LIMITED, "retryAfter": seconds},
    )
