"""`GET /exports/hmis-csv?coc=CA-600&from=2026-01-01&to=2026-12-31`: the CoC's HMIS CSV export, as a zip.

Signed in with `Authorization: Bearer <token>`, for the CoC's own CE managers; refusals are JSON
`{"error", "code"}` as on /auth/login: 401 signed out, 403 not theirs to export, 400 bad dates.
"""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resolvers.accounts import viewer_for_token
from resolvers.errors import BadInput, DomainError, Forbidden, NotFound
from resolvers.hmis_export import export_hmis_csv
from resolvers.runtime import Runtime

_STATUS = {BadInput: 400, Forbidden: 403, NotFound: 404}


def _refusal(error: DomainError, status: int) -> JSONResponse:
    return JSONResponse({"error": error.message, "code": error.code}, status_code=status)


def _date(request: Request, name: str) -> date:
    value = request.query_params.get(name, "")
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"Give `{name}` as a date, YYYY-MM-DD.", field=name) from None


async def hmis_csv(request: Request) -> Response:
    runtime: Runtime = request.state.runtime
    try:
        viewer = await viewer_for_token(runtime, request.headers.get("authorization"))
    except DomainError as error:
        return _refusal(error, 401)
    if viewer is None:
        return JSONResponse({"error": "Please sign in first.", "code": "UNAUTHENTICATED"}, status_code=401)
    try:
        coc = request.query_params.get("coc", "").strip()
        if not coc or len(coc) > 16:
            raise BadInput("Give the CoC's code as `coc`, e.g. CA-600.", field="coc")
        export = await export_hmis_csv(runtime, viewer, coc_code=coc, start=_date(request, "from"), end=_date(request, "to"))
    except (BadInput, Forbidden, NotFound) as error:
        return _refusal(error, _STATUS[type(error)])
    return Response(
        export.content,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{export.filename}"', "cache-control": "no-store"},
    )
