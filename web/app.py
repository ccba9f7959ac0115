"""The Starlette application: GraphQL, sign-in, health, and the dashboards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from db.accounts import User
from db.seed import DEMO_DOMAIN
from db.settings import Settings
from resolvers.runtime import Runtime
from web.auth import login, logout
from web.dashboards import dashboard
from web.exports import hmis_csv
from web.graphql import GraphQLEndpoint
from web.headers import SecurityHeaders
from web.limits import LOGIN_BODY_LIMIT, BodyLimit
from web.links import status_link
from web.serving import tune_collector


async def healthz(request: Request) -> JSONResponse:
    """This process: the newest event it has dispatched, its subscribers, whether it leads and hears the bus."""
    runtime: Runtime = request.state.runtime
    live = runtime.live
    if not runtime.settings.is_development:
        # A deployment's load balancer needs to know it answers, and no one outside more than that.
        return JSONResponse({"ok": True})
    # The browser tests and benchmarks wait on these.
    return JSONResponse(
        {
            "ok": True,
            "lastSeq": live.last_seq,
            "subscribers": live.subscriber_count,
            "leader": runtime.leadership.is_leader,
            "bus": live.doorbell.connected,
        }
    )


async def _refuse_demo_outside_development(runtime: Runtime) -> None:
    if runtime.settings.is_development:
        return
    async with runtime.db.read() as session:
        demo = await session.scalar(select(User.id).where(User.email.like(f"%@{DEMO_DOMAIN}")).limit(1))
    if demo is not None:
        raise RuntimeError("demo accounts exist in this database; the demo runs only in development")


LIVE_PATH = "/graphql"


class ReferloopApp(Starlette):
    """Starlette, with the live sockets of /graphql taken straight to the GraphQL endpoint.

    A websocket is served for hours under the calls it came in through: every middleware and the
    router stay suspended beneath it, 5 KB of frames a socket. None of them does anything for a
    socket (SecurityHeaders and BodyLimit are for HTTP; the endpoint checks origin and sign-in).
    """

    def __init__(self, *, live: ASGIApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._live = live

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            path: str = scope["path"]
            root = scope.get("root_path", "")
            if (path[len(root) :] if root and path.startswith(root) else path) == LIVE_PATH:
                scope["app"] = self
                await self._live(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        refused = settings.workers_refused()
        if refused:
            raise RuntimeError(refused)
        tune_collector()
        runtime = Runtime.create(settings)
        await _refuse_demo_outside_development(runtime)
        await runtime.start()
        try:
            yield {"runtime": runtime}
        finally:
            await runtime.stop()

    graphql = GraphQLEndpoint(graphiql=settings.is_development)
    return ReferloopApp(
        live=graphql,
        routes=[
            Route("/healthz", healthz),
            Route("/auth/login", login, methods=["POST"], middleware=[Middleware(BodyLimit, max_bytes=LOGIN_BODY_LIMIT)]),
            Route("/auth/logout", logout, methods=["POST"], middleware=[Middleware(BodyLimit, max_bytes=LOGIN_BODY_LIMIT)]),
            Route(LIVE_PATH, graphql, methods=["GET", "POST"], middleware=[Middleware(BodyLimit, max_bytes=settings.graphql_body_limit)]),
            Route("/r/{token}", status_link, methods=["GET", "POST"]),
            Route("/exports/hmis-csv", hmis_csv, methods=["GET"]),
            Route("/{path:path}", dashboard, methods=["GET", "HEAD"]),
        ],
        middleware=[Middleware(SecurityHeaders)],
        lifespan=lifespan,
    )


app = create_app()
