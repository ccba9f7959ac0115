"""The real application with a statement counter, for benches that count SQL in the server's own process.

    python -m uvicorn bench.counting_server:app ...

Every statement any engine of the process sends (`before_cursor_execute` on the Engine class, so
the runtime's engine is counted without reaching into it) is counted by its verb and first table,
`BEGIN` excluded as in bench.live_and_inbound. `GET /bench/statements` answers the counts so far
(a JSON object); everything else is `web.app:app` unchanged. Never used outside bench/.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from web.app import app as application

COUNTS: Counter[str] = Counter()
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def kind_of(statement: str) -> str | None:
    """`SELECT cases`, `INSERT audit_log`, ...; None for BEGIN (not counted)."""
    text = statement.lstrip()
    verb = text.split(None, 1)[0].upper() if text else ""
    if verb == "BEGIN":
        return None
    table = _TABLE.search(text)
    return f"{verb} {table.group(1) if table else '-'}"


@event.listens_for(Engine, "before_cursor_execute")
def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    kind = kind_of(statement)
    if kind is not None:
        COUNTS[kind] += 1


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"] == "/bench/statements":
        body = json.dumps(dict(COUNTS)).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return
    await application(scope, receive, send)
