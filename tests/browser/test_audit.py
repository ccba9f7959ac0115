"""The audit trail in the dashboards: a seeker sees who looked at their record; an admin reads and filters the trail."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Server, SignIn
from tests.browser.test_dashboards import AXE, axe_violations, demo_seeker

NAVIGATOR_ORG = "Eastside Family Resource Center"
LOOK = "query Look { peopleImHelping { edges { node { id firstName } } } }"


def _navigator_looks(server: Server) -> None:
    """The navigator opens their list of people they help, which holds the demo seeker: one audited read."""
    server.graphql("navigator", LOOK)


def test_the_seeker_sees_that_a_navigators_organization_looked(server: Server, sign_in: SignIn) -> None:
    _navigator_looks(server)
    seeker = sign_in("seeker", viewport=PHONE)
    seeker.goto("/seeker")
    section = seeker.get_by_test_id("who-looked")
    expect(section.get_by_role("heading", name="Who looked at my record")).to_be_visible()
    entry = section.get_by_test_id("who-looked-entry").filter(has_text=f"A navigator at {NAVIGATOR_ORG}").first
    expect(entry).to_contain_text("looked at")
    expect(entry).to_contain_text("your name")
    expect(entry).to_contain_text("their list of people they are helping")
    # The staff member's name is theirs, not the seeker's.
    expect(section).not_to_contain_text("Maya Castillo")


def test_the_admin_reads_and_filters_the_trail(server: Server, sign_in: SignIn) -> None:
    _navigator_looks(server)
    seeker_id = demo_seeker(server)["id"]
    admin = sign_in("admin")
    admin.get_by_role("link", name="Audit trail").click()
    admin.wait_for_url("**/audit")
    table = admin.get_by_test_id("audit-table")
    expect(table).to_be_visible()
    for column in ("When", "Who", "Role", "Did", "Data", "Person", "About", "Through"):
        expect(table.get_by_role("columnheader", name=column)).to_be_visible()
    expect(table.get_by_test_id("audit-row").first).to_be_visible()

    admin.get_by_label("Person (seeker id)").fill(seeker_id)
    admin.get_by_role("button", name="Filter").click()
    rows = table.get_by_test_id("audit-row")
    # Only that person's entries are left (waits for the filtered page)...
    expect(admin.get_by_test_id("audit-seeker").filter(has_not_text=re.compile(f"^{re.escape(seeker_id)}$"))).to_have_count(0)
    # ...among them the navigator's read, by name, beside the admin's own.
    expect(rows.filter(has_text="Maya Castillo").first).to_be_visible()

    tomorrow = (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)).isoformat()
    admin.get_by_label("From").fill(tomorrow)
    admin.get_by_label("To").fill(tomorrow)
    admin.get_by_role("button", name="Filter").click()
    expect(admin.get_by_text("No entries match.")).to_be_visible()
    admin.get_by_role("button", name="Clear").click()
    expect(table.get_by_test_id("audit-row").first).to_be_visible()


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core comes with the dashboards' npm install")
def test_the_audit_views_pass_axe_wcag_aa(server: Server, sign_in: SignIn) -> None:
    _navigator_looks(server)
    seeker = sign_in("seeker")
    seeker.goto("/seeker")
    expect(seeker.get_by_test_id("who-looked-entry").first).to_be_visible()
    problems = axe_violations(seeker)
    admin = sign_in("admin", start="/audit")
    expect(admin.get_by_test_id("audit-row").first).to_be_visible()
    problems += axe_violations(admin)
    assert not problems, "\n".join(problems)
