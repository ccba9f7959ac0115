"""On a websocket, every operation runs as the user is now, not as they were when the socket opened."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from resolvers.accounts import viewer_for_session
from resolvers.errors import DomainError
from schema.context import Context


class FreshViewer(SchemaExtension):
    """Re-reads a websocket's viewer and sign-in session before each operation.

    A socket's context is made once, at `connection_init`: without this, a subscription opened
    after a sign-out would still be served, and one opened after `switchOrganization` would act
    for the organization the socket opened with.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and isinstance(context.request, WebSocket):
            viewer = context.viewer
            if viewer is not None and viewer.user_id is not None and viewer.session_id is not None:
                try:
                    context.viewer = await viewer_for_session(context.runtime, viewer.user_id, viewer.session_id)
                except DomainError as error:
                    context.viewer, context.auth_error = None, error
        yield
