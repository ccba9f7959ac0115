"""`POST /auth/login`: email and password in, signed token out; `POST /auth/logout`: the token's session ends."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from resolvers.accounts import log_in, sign_out, viewer_for_token
from resolvers.errors import DomainError, RateLimited


def _refusal(error: DomainError) -> JSONResponse:
    if isinstance(error, RateLimited):
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
        body: dict[str, Any] = {"error": error.message, "code": error.code, "retryAfter": error.retry_after}
        return JSONResponse(body, status_code=429, headers=headers)
    return JSONResponse({"error": error.message, "code": error.code}, status_code=401)


async def login(request: Request) -> JSONResponse:
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than Python recurses
        body = None
    if not isinstance(body, dict) or not _is_text(body.get("email")) or not _is_text(body.get("password")):
        return JSONResponse(
            {"error": "Send JSON with your email and password.", "code": "BAD_USER_INPUT"}, status_code=400
        )
    address = request.client.host if request.client else None
    try:
        token = await log_in(request.state.runtime, email=body["email"], password=body["password"], address=address)
    except DomainError as error:
        return _refusal(error)
    return JSONResponse({"token": token})


async def logout(request: Request) -> JSONResponse:
    """Revoke the session of the `Authorization: Bearer` token; a token already ended is answered 401."""
    runtime = request.state.runtime
    try:
        viewer = await viewer_for_token(runtime, request.headers.get("authorization"))
    except DomainError as error:
        return _refusal(error)
    if viewer is None:
        return JSONResponse({"error": "Send the token to sign out as `Authorization: Bearer <token>`.", "code": "UNAUTHENTICATED"}, status_code=401)
    await sign_out(runtime, viewer)
    return JSONResponse({"ok": True})


def _is_text(value: Any) -> bool:
    """A string a database can hold and argon2 can hash: no NUL, no lone surrogate."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
