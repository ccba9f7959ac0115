"""The intake queue as someone working through fifty referrals a morning finds it: compact rows,
the keyboard, search, sort, filters that stay true live, load more; the program's notification
settings; the wall's "+N more" and its refusal; the link page on a phone."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, Server, SignIn, save_screenshot
from tests.browser.test_dashboards import AXE, axe_violations, live_program_of_intake

FIFTY = 50
_made: dict[str, Any] = {}


def fifty_referrals(server: Server) -> dict[str, Any]:
    """Fifty new referrals to one of intake@'s live programs (made once per server), by name."""
    if _made:
        return _made
    program = live_program_of_intake(server)
    answers = [{"key": q["key"], "value": q["choices"][0] if q["choices"] else "Yes"} for q in program["screener"]]
    tag = uuid.uuid4().hex[:4]
    made = []
    for i in range(FIFTY):
        seeker = {"firstName": f"Queue{i:02d}", "lastName": f"Person{tag}", "email": f"queue-{tag}-{i}@example.org"}
        data = server.graphql(
            "navigator",
            "mutation($input: CreateReferralInput!) { createReferral(input: $input) { id version status } }",
            {"input": {"programId": program["id"], "seeker": seeker, "contactPreference": "EMAIL", "consent": True, "screenerAnswers": answers}},
        )
        made.append({**data["createReferral"], "name": f"Queue{i:02d} Person{tag}"})
    _made.update(program=program, referrals=made, tag=tag)
    return _made
