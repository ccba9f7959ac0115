"""The per-request (per-connection on websockets) context, and the helpers every field uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import strawberry
from starlette.requests import Request
from starlette.websockets import WebSocket

from resolvers.errors import DomainError, Unauthenticated
from resolvers.runtime import Runtime
from resolvers.viewer import Viewer


@dataclass
class Context:
    runtime: Runtime
    request: Request | WebSocket
    response: Any = None
    viewer: Viewer | None = None
    # A bad or expired token is reported by the first field that needs a viewer.
    auth_error: DomainError | None = None
    connection_params: dict[str, Any] | None = None


Info: TypeAlias = strawberry.Info[Context, None]


def require_viewer(info: Info) -> Viewer:
    if info.context.auth_error is not None:
        raise info.context.auth_error
    if info.context.viewer is None:
        raise Unauthenticated("Please sign in first.")
    return info.context.viewer


def runtime_of(info: Info) -> Runtime:
    return info.context.runtime
