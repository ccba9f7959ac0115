"""The security headers every HTTP response carries, in every environment, set in one place.

A response that needs a policy of its own (the status link pages, GraphiQL in development) sets its
Content-Security-Policy itself; every other header here is the same for all.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The dashboards are Vite's build: one script and one stylesheet from /assets, no inline code or
# style (tests/browser/test_csp.py loads every page and fails on any violation). The favicon is a
# data: URL; the live channel is a same-origin websocket, which 'self' covers.
DASHBOARD_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# JSON, CSV and the rest are never documents: nothing may load from them.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
COMMON = {
    "x-content-type-options": "nosniff",
    # Status links carry their token in the address, and a dashboard's address can name a referral:
    # no page here has anything to tell the sites it links to.
    "referrer-policy": "no-referrer",
    # For browsers older than frame-ancestors.
    "x-frame-options": "DENY",
}
# Only over TLS: the request's scheme, which uvicorn sets from a trusted proxy's X-Forwarded-Proto
# (--proxy-headers, --forwarded-allow-ips) and never from anyone else's.
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        over_tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers[name] = value
                if "content-security-policy" not in headers:
                    html = headers.get("content-type", "").startswith("text/html")
                    headers["content-security-policy"] = DASHBOARD_POLICY if html else API_POLICY
                if over_tls:
                    headers["strict-transport-security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)
