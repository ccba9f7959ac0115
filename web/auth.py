"""`POST /auth/login`: email and password in, signed token out."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from resolvers.accounts import log_in
from resolvers.errors import DomainError


async def login(request: Request) -> JSONResponse:
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than Python recurses
        body = None
    if not isinstance(body, dict) or not _is_text(body.get("email")) or not _is_text(body.get("password")):
        return JSONResponse(
            {"error": "Send JSON with your email and password.", "code": "BAD_USER_INPUT"}, status_code=400
        )
    try:
        token = await log_in(request.state.runtime, email=body["email"], password=body["password"])
    except DomainError as error:
        return JSONResponse({"error": error.message, "code": error.code}, status_code=401)
    return JSONResponse({"token": token})


def _is_text(value: Any) -> bool:
    """A string a database can hold and argon2 can hash: no NUL, no lone surrogate."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
