"""Serving the built single-page dashboards: files from web/dist, index.html for every page route."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

DIST = Path(__file__).resolve().parent / "dist"

NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Referloop</title>
<body><h1>Referloop</h1>
<p>The dashboards have not been built. <code>make run</code> builds them; the API is at
<a href="/graphql">/graphql</a>.</p></body></html>"""


async def dashboard(request: Request) -> Response:
    path = request.path_params.get("path", "")
    candidate = (DIST / path).resolve()
    if path and candidate.is_file() and DIST in candidate.parents:
        # Hashed asset names never change content, so browsers may keep them.
        cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
        return FileResponse(candidate, headers={"cache-control": cache})
    if path.startswith("assets/"):
        # A file of an older (or newer) build: the page must not get index.html in its place.
        return PlainTextResponse("Not Found", status_code=404)
    index = DIST / "index.html"
    if index.is_file():
        return FileResponse(index, headers={"cache-control": "no-cache"})
    return HTMLResponse(NOT_BUILT)
