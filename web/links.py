"""`/r/<token>`: the status links in notification emails.

GET only shows what the link would do (link previews and mail scanners fetch links, and must change
nothing); the form on that page POSTs back to the same address to make the change.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from db.notifications import RecipientKind
from db.referrals import GOT_HELP, IN_PROGRESS, Referral, ReferralKind, ReferralStatus
from resolvers.links import LinkError, LinkProblem, confirm_link, read_link
from resolvers.notify.messages import PROGRAM_LINK_LABELS, SEEKER_LINK_LABELS, STATUS_LABELS, referral_page_url
from resolvers.runtime import Runtime
from resolvers.words import KIND_WORDS

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
# The dashboards' stylesheet and this page's own, inlined: one look for both, and no other request
# for a page opened from an email. The page's policy allows exactly this stylesheet, by its hash.
LINK_CSS = (HERE / "app" / "src" / "app.css").read_text() + (HERE / "templates" / "link.css").read_text()
LINK_CSS_HASH = base64.b64encode(hashlib.sha256(LINK_CSS.encode()).digest()).decode()
NEXT_LABELS = {
    RecipientKind.PROGRAM: "Open it in Inbound Referrals",
    RecipientKind.SEEKER: "See your referrals",
    RecipientKind.NAVIGATOR: "Open it in People I'm Helping",
}
KIND_NOTES = {
    ReferralKind.LOGGED: "This program does not get referrals through Referloop: this is a logged referral, kept so that you can say how it went.",
    ReferralKind.TRACKING_ONLY: "This is a tracked referral: it was noted for follow-up and not sent to the program.",
}


def _kind(referral: Referral) -> dict[str, object]:
    return {"kind_noun": KIND_WORDS[referral.kind].noun, "kind_note": KIND_NOTES.get(referral.kind, "")}


def _group(status: ReferralStatus) -> str:
    """The badge's colour, as the dashboards group statuses (schema StatusGroup)."""
    return "IN_PROGRESS" if status in IN_PROGRESS else "GOT_HELP" if status in GOT_HELP else "NEEDS_FURTHER_ACTION"


def _next(runtime: Runtime, party: RecipientKind, referral: Referral) -> dict[str, object]:
    """Where to go on from here: the dashboard page with this referral open (sign-in first if needed)."""
    return {"next_url": referral_page_url(runtime.settings, party, referral.id), "next_label": NEXT_LABELS[party]}

PROBLEM_TITLES = {
    LinkProblem.INVALID: "This link doesn't work",
    LinkProblem.EXPIRED: "This link has expired",
    LinkProblem.USED: "This link was already used",
    LinkProblem.GONE: "This referral can't be updated here",
    LinkProblem.UNCHANGED: "Nothing to change",
    LinkProblem.CHANGED: "This referral has moved on",
    LinkProblem.STALE: "Please try again",
}
PROBLEM_STATUS = {
    LinkProblem.INVALID: 400,
    LinkProblem.EXPIRED: 410,
    LinkProblem.USED: 410,
    LinkProblem.GONE: 404,
    LinkProblem.UNCHANGED: 200,
    LinkProblem.CHANGED: 409,
    LinkProblem.STALE: 409,
}
# The page's own policy: its stylesheet and nothing else; its form posts back here. The headers every
# response carries (no framing, no referrer: the address holds the token) are web/headers.py's.
HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": (
        f"default-src 'none'; style-src 'sha256-{LINK_CSS_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


def _page(request: Request, context: dict[str, object], status_code: int = 200) -> HTMLResponse:
    runtime: Runtime = request.state.runtime
    context = {
        "home": f"{runtime.settings.public_url}/",
        "home_label": "Referloop",
        "for_program": False,
        "current_label": None,
        "next_url": None,
        "link_css": LINK_CSS,
        **context,
    }
    return templates.TemplateResponse(request, "link.html", context, status_code=status_code, headers=HEADERS)


def _problem(request: Request, error: LinkError) -> HTMLResponse:
    context: dict[str, object] = {"state": "problem", "title": PROBLEM_TITLES[error.problem], "message": error.message}
    if error.now is not None:
        runtime: Runtime = request.state.runtime
        program, status = error.now
        # Where the referral stands now, and the dashboard where whoever got the email can act on it.
        context.update(
            program=program,
            current_label=STATUS_LABELS[status],
            home=f"{runtime.settings.public_url}/login",
            home_label="your dashboard",
        )
    return _page(request, context, PROBLEM_STATUS[error.problem])


async def status_link(request: Request) -> HTMLResponse:
    runtime: Runtime = request.state.runtime
    token = request.path_params["token"]
    if request.method == "POST":
        try:
            referral = await confirm_link(runtime, token)
        except LinkError as error:
            return _problem(request, error)
        return _page(
            request,
            {
                "state": "done",
                "title": "Thank you. It's updated.",
                "program": referral.program.name,
                "status_label": STATUS_LABELS[referral.status],
                "status_group": _group(referral.status),
                **_kind(referral),
                # Reading the link again to learn its party would be recorded as a read: the dashboard
                # root takes whoever signs in to their own page.
                "next_url": f"{runtime.settings.public_url}/",
                "next_label": "Open your dashboard",
            },
        )
    try:
        action = await read_link(runtime, token)
    except LinkError as error:
        return _problem(request, error)
    for_program = action.party is RecipientKind.PROGRAM
    label = (PROGRAM_LINK_LABELS if for_program else SEEKER_LINK_LABELS)[action.status]
    seeker = action.referral.seeker
    return _page(
        request,
        {
            "state": "confirm",
            "title": f"Confirm: {label}",
            "button": label[0].lower() + label[1:],
            "program": action.referral.program.name,
            "seeker_name": f"{seeker.first_name} {seeker.last_name}",
            "for_program": for_program,
            "current_label": STATUS_LABELS[action.referral.status],
            "current_group": _group(action.referral.status),
            "status_label": STATUS_LABELS[action.status],
            "status_group": _group(action.status),
            "action": request.url.path,
            **_kind(action.referral),
            **_next(runtime, action.party, action.referral),
        },
    )
