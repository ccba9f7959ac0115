"""Caps on request bodies, so one request cannot make the server read (and hold) without end."""

from __future__ import annotations

import json

from db.settings import Settings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The largest GraphQL request a dashboard sends is a referral with its screener answers and a
# comment, a few kilobytes; 1 MiB leaves room for any honest document with its variables. The
# default of `Settings.graphql_body_limit` (GRAPHQL_BODY_LIMIT in the environment).
GRAPHQL_BODY_LIMIT = Settings.graphql_body_limit
# An email and a password: a few hundred bytes at most.
LOGIN_BODY_LIMIT = 16 * 1024


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Answers 413 for an HTTP request whose body is over `max_bytes`; websockets pass untouched.

    A Content-Length over the limit is refused before anything is read; a body without one (sent
    chunked) is counted as it arrives and refused once past the limit, never buffered here.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _content_length(scope) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _TooLarge:
            # The endpoints here read the whole body before answering; one that had already begun
            # its answer can only be cut off.
            if response_started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        # No `Connection: close`: after the answer uvicorn reads and discards whatever of the body
        # is still coming, as it does for any endpoint that leaves its body unread, so a client still
        # sending gets to read the 413. Closing at once would reset the connection under it, and it
        # would see no answer at all.
        message = f"The request is too large: at most {self.max_bytes:,} bytes here."
        body = json.dumps({"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int:
    """The declared length, or 0 when there is none (the body is then counted as it arrives)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            # uvicorn refuses a malformed Content-Length itself; counting still guards if one slips by.
            return int(value) if value.isdigit() else 0
    return 0
