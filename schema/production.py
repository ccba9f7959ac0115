"""What a deployment keeps to itself: no introspection, and no names suggested in error messages.

Outside development (REFERLOOP_ENV other than development or test) `__schema` and `__type` are
refused for everyone, admins included, with GRAPHQL_VALIDATION_FAILED: the schema is published as
schema.graphql in the repository, and a deployment has no need to hand it, or its close guesses
("Did you mean 'viewer'?"), to whoever probes it. `__typename` is not introspection and works.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

# graphql-core ends a message with its suggestion: " Did you mean 'viewer'?", "... the enum value 'FOOD'?"
_SUGGESTION = re.compile(r"\s*Did you mean .*\?\s*$", re.DOTALL)


def _in_production(context: object) -> bool:
    # No runtime in the context: strawberry's own uses (printing, introspecting the schema offline).
    settings = getattr(getattr(context, "runtime", None), "settings", None)
    return settings is not None and not settings.is_development


def without_suggestion(error: GraphQLError) -> GraphQLError:
    """The error with its "Did you mean ...?" cut off; a new error, since cached ones are shared."""
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(message, error.nodes, error.source, error.positions, error.path, error.original_error, error.extensions)


class ProductionMode(SchemaExtension):
    """Listed before DocumentCache: its end of validation runs after the cache kept the errors as they were."""

    def on_validate(self) -> Iterator[None]:
        yield
        errors = self.execution_context.pre_execution_errors
        if errors and _in_production(self.execution_context.context):
            # In place: strawberry has already put this very list in the result it returns.
            errors[:] = [without_suggestion(e) for e in errors]

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.result is None and _in_production(context.context):
            refused = validate(context.schema._schema, context.graphql_document, [NoSchemaIntrospectionCustomRule])
            if refused:
                for error in refused:
                    error.extensions = {"code": "GRAPHQL_VALIDATION_FAILED"}
                # A result set before execution is used instead of executing (as schema/cost.py does).
                context.result = ExecutionResult(data=None, errors=refused)
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors and _in_production(self.execution_context.context):
            # Variables that do not fit are refused as execution starts, with suggestions of their own.
            result.errors = [without_suggestion(e) for e in result.errors]
