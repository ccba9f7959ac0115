"""The GraphQL schema, assembled from one module per domain."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.tools import merge_types

from schema.accounts import AccountMutation, AccountQuery
from schema.errors import ErrorCodes
from schema.node import NodeQuery
from schema.programs import ProgramQuery
from schema.referrals import ReferralMutation, ReferralQuery, ReferralSubscription
from schema.seekers import SeekerQuery

Query = merge_types("Query", (AccountQuery, NodeQuery, ProgramQuery, ReferralQuery, SeekerQuery))
Mutation = merge_types("Mutation", (ReferralMutation, AccountMutation))
Subscription = merge_types("Subscription", (ReferralSubscription,))

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        ErrorCodes,
        lambda: QueryDepthLimiter(max_depth=12),
        lambda: MaxAliasesLimiter(max_alias_count=30),
        lambda: MaxTokensLimiter(max_token_count=4000),
    ],
)
