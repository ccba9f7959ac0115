"""The per-request (per-connection on websockets) context, and the helpers every field uses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from collections.abc import Iterator
from typing import Any, TypeAlias

import strawberry
from strawberry.extensions import SchemaExtension
from starlette.requests import Request
from starlette.websockets import WebSocket

from resolvers.errors import DomainError, Unauthenticated
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer
from schema.loaders import Loaders


@dataclass
class Context:
    runtime: Runtime
    request: Request | WebSocket
    response: Any = None
    viewer: Viewer | None = None
    # A bad or expired token is reported by the first field that needs a viewer.
    auth_error: DomainError | None = None
    connection_params: dict[str, Any] | None = None
    # On a websocket: the user whose count of open sockets this connection holds (web/graphql.py).
    socket_user_id: int | None = None
    # The viewer as each root field of the request acts, named for the audit log (see `operation_of`).
    acting_as: dict[str | int, tuple[object, Viewer]] = field(default_factory=dict)
    # The websocket connection's context this one was made from (see `fresh`); None for the connection's own.
    connection: Context | None = None
    # The DataLoaders of one operation or subscription event (schema/loaders.py).
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.runtime)

    def fresh(self) -> Context:
        """A context for one operation, or one subscription event: the same caller, loaders of its own.

        On a websocket `get_context` runs once per connection, and one connection runs several
        operations at once; each gets its own copy (FreshLoaders), and so does each event of a
        subscription (schema/sharing.py), so nothing loaded for one is reused by another.
        """
        return dataclasses.replace(self, connection=self.connection or self)

    def set_viewer(self, viewer: Viewer) -> None:
        """Who the caller is from now on, for this operation and the connection's next ones."""
        self.viewer = viewer
        if self.connection is not None:
            self.connection.viewer = viewer


Info: TypeAlias = strawberry.Info[Context, None]


def operation_of(info: Info) -> str:
    """How the audit log names what is being done: "query Inbound.inboundReferrals", "mutation addReferralComment".

    The operation's type and name (as the client named it) and the root field (the schema's name for
    it, not an alias) under which this field runs.
    """
    operation = info.operation
    name = f"{operation.name.value}." if operation.name else ""
    root = info.path
    while root.prev is not None:
        root = root.prev
    field_name = info.field_name if info.path.prev is None else str(root.key)
    return f"{operation.operation.value} {name}{field_name}"


def require_viewer(info: Info) -> Viewer:
    """The signed-in viewer, carrying the operation the audit log records for this root field."""
    if info.context.auth_error is not None:
        raise info.context.auth_error
    viewer = info.context.viewer
    if viewer is None:
        raise Unauthenticated("Please sign in first.")
    root = info.path
    while root.prev is not None:
        root = root.prev
    # A websocket's context outlives one operation: an entry holds for the operation it was made in.
    known = info.context.acting_as.get(root.key)
    if known is not None and known[0] is info.operation and known[1].user_id == viewer.user_id:
        return known[1]
    acting = dataclasses.replace(viewer, operation=operation_of(info))
    info.context.acting_as[root.key] = (info.operation, acting)
    return acting


def runtime_of(info: Info) -> Runtime:
    return info.context.runtime


def loaders_of(info: Info) -> Loaders:
    return info.context.loaders


class FreshLoaders(SchemaExtension):
    """Gives each operation its own context copy, and with it its own DataLoaders."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            self.execution_context.context = context.fresh()
        yield
