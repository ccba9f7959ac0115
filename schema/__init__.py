"""The GraphQL schema, assembled from one module per domain."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.tools import merge_types

from schema.accounts import AccountMutation, AccountQuery
from schema.cases import CaseMutation, CaseQuery, CaseSubscription
from schema.consent import ConsentMutation, ConsentQuery
from schema.audit import AuditQuery
from schema.coordinated_entry import CoordinatedEntryMutation, CoordinatedEntryQuery, CoordinatedEntrySubscription
from schema.enrollments import EnrollmentMutation, EnrollmentQuery
from schema.families import FamiliesQuery
from schema.context import FreshLoaders
from schema.cost import CostLimiter
from schema.document_cache import DocumentCache
from schema.fragments import FragmentDepthLimiter
from schema.fresh_viewer import FreshViewer
from schema.inputs import guard_inputs
from schema.selections import SelectionLimiter
from schema.variables import VariableLimiter
from schema.errors import ErrorCodes, is_client_error
from schema.node import NodeQuery
from schema.notifications import NotificationMutation, NotificationQuery
from schema.performance import PerformanceQuery
from schema.production import ProductionMode
from schema.programs import ProgramQuery
from schema.referrals import ReferralMutation, ReferralQuery, ReferralSubscription
from schema.seekers import SeekerMutation, SeekerQuery
from schema.sharing import SharedEventExecutionContext
from schema.words import WordsQuery

Query = merge_types(
    "Query",
    (
        AccountQuery,
        NodeQuery,
        ProgramQuery,
        ReferralQuery,
        SeekerQuery,
        NotificationQuery,
        CoordinatedEntryQuery,
        EnrollmentQuery,
        CaseQuery,
        ConsentQuery,
        AuditQuery,
        FamiliesQuery,
        PerformanceQuery,
        WordsQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        ReferralMutation,
        AccountMutation,
        NotificationMutation,
        SeekerMutation,
        EnrollmentMutation,
        CoordinatedEntryMutation,
        CaseMutation,
        ConsentMutation,
    ),
)
Subscription = merge_types("Subscription", (ReferralSubscription, CoordinatedEntrySubscription, CaseSubscription))


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # A refused request is the API working as designed; only the unexpected is worth a traceback.
        super().process_errors([e for e in errors if not is_client_error(e)], execution_context)

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        # `execute` cannot run a subscription (its field would fail, a masked 500): refused instead,
        # which the HTTP view answers with a 400. Websockets subscribe through `subscribe`.
        allowed = kwargs.get("allowed_operation_types") or (OperationType.QUERY, OperationType.MUTATION)
        kwargs["allowed_operation_types"] = set(allowed) - {OperationType.SUBSCRIPTION}
        result = await super().execute(*args, **kwargs)
        # A document that does not parse, or an error raised before execution, skips the end of
        # `on_operation` where ErrorCodes masks and codes: do it here (twice is harmless).
        if result.errors:
            result.errors = ErrorCodes().finish(result.errors)
        return result


# QueryDepthLimiter and MaxAliasesLimiter build a new rule class for every operation, which a
# subscription keeps for as long as it is open (~4.5 KB each): the same rules, built once.
_LIMITS = (depth_rule(12, None), aliases_rule(30))


class _Limits(AddValidationRules):
    """QueryDepthLimiter(max_depth=12) and MaxAliasesLimiter(max_alias_count=30)."""

    def __init__(self) -> None:
        super().__init__(list(_LIMITS))


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        # First: every other extension and every resolver sees the operation's own context.
        FreshLoaders,
        ErrorCodes,
        _Limits,
        # The dashboards' largest document has under 200 tokens; parsing 4,000 took up to 90 ms of
        # a busy core, most of the 100 ms in which an attack must be refused.
        lambda: MaxTokensLimiter(max_token_count=2000),
        FragmentDepthLimiter,
        # Outside development: no introspection, no suggested names (schema/production.py). Before
        # DocumentCache, so that the cache keeps errors as validation made them.
        ProductionMode,
        # Fields counted with fragments expanded, before validation walks them (schema/selections.py).
        SelectionLimiter,
        # Dashboards send the same few documents over and over; identical documents also let
        # subscription events be executed once per audience (schema/sharing.py).
        # Bounded by size as well as count (schema/document_cache.py).
        DocumentCache,
        # After validation, before variables are coerced: how many values they hold (schema/variables.py).
        VariableLimiter,
        # After validation, before any resolver: what the operation may cost (schema/cost.py).
        CostLimiter,
        # On websockets: each operation as the user and their session are now (schema/fresh_viewer.py).
        FreshViewer,
    ],
    execution_context_class=SharedEventExecutionContext,
)
# Every argument is checked (bounded, without control characters, ids well formed) before its resolver runs.
guard_inputs(schema._schema)
