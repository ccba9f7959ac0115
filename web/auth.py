"""`POST /auth/login`: email and password in, signed token out."""

from __future__ import annotations

from json import JSONDecodeError

from starlette.requests import Request
from starlette.responses import JSONResponse

from resolvers.accounts import log_in
from resolvers.errors import DomainError


async def login(request: Request) -> JSONResponse:
    try:
        body = await request.json()
    except (JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("email"), str) or not isinstance(body.get("password"), str):
        return JSONResponse(
            {"error": "Send JSON with your email and password.", "code": "BAD_USER_INPUT"}, status_code=400
        )
    try:
        token = await log_in(request.state.runtime, email=body["email"], password=body["password"])
    except DomainError as error:
        return JSONResponse({"error": error.message, "code": error.code}, status_code=401)
    return JSONResponse({"token": token})
