"""Shared cases in the browser: one family's case as child welfare and as the housing provider see it, live."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Server, SignIn, save_screenshot
from tests.browser.test_dashboards import AXE, axe_violations

CASES = """query { cases(first: 50) { edges { node { id household { lastName isHead } } } } }"""


def case_of(server: Server, last_name: str) -> str:
    """The id of the demo case whose head has that last name (as the lead sees it)."""
    edges: list[dict[str, Any]] = server.graphql("housing-cm", CASES)["cases"]["edges"]
    for edge in edges:
        if any(p["isHead"] and p["lastName"] == last_name for p in edge["node"]["household"]):
            return str(edge["node"]["id"])
    raise AssertionError(f"no demo case for the {last_name} household")


def open_case(page: Page, case_id: str) -> None:
    page.goto(f"/cases/{case_id}")
    expect(page.get_by_test_id("case-title")).to_be_visible()
    expect(page.get_by_test_id("live-indicator")).to_have_text("Live")


def notes(page: Page) -> Any:
    return page.get_by_test_id("case-notes").get_by_test_id("case-record")


def test_the_same_case_looks_different_to_child_welfare_and_to_housing(server: Server, sign_in: SignIn) -> None:
    solis = case_of(server, "Solis")
    housing = sign_in("housing-cm")
    housing.goto("/cases")
    expect(housing.get_by_test_id("case-row")).to_have_count(6)
    expect(housing.get_by_role("link", name="Cases")).to_be_visible()
    open_case(housing, solis)
    expect(housing.get_by_test_id("case-title")).to_have_text("Solis household")
    expect(housing.get_by_test_id("household-member")).to_have_count(3)
    expect(housing.get_by_test_id("case-assistance").get_by_test_id("case-record")).to_have_count(4)
    expect(housing.locator('[data-kind="NOTE"][data-scope="CHILD_WELFARE"]')).to_have_count(0)  # the release leaves it out
    expect(housing.get_by_test_id("withheld")).to_have_count(0)
    expect(housing.get_by_label("Move to stage")).to_be_visible()  # the lead runs the case
    save_screenshot(housing, "case-housing")

    caseworker = sign_in("caseworker")
    caseworker.goto("/cases")
    rows = caseworker.get_by_test_id("case-row")
    expect(rows).to_have_count(6)
    expect(rows.filter(has_text="Household withheld (no consent)")).to_have_count(4)  # pending, expired, revoked, none
    open_case(caseworker, solis)
    expect(caseworker.get_by_test_id("household-member").first).to_contain_text("Renata Solis")
    expect(caseworker.get_by_test_id("case-assistance").get_by_test_id("case-record")).to_have_count(0)  # money never crosses
    expect(caseworker.locator('[data-kind="NOTE"][data-scope="CHILD_WELFARE"]')).to_have_count(1)  # its own
    expect(caseworker.get_by_label("Move to stage")).to_have_count(0)
    save_screenshot(caseworker, "case-caseworker")

    # No release at all: the case exists, its lead and how to reach them; nothing else of the family.
    pierce = case_of(server, "Pierce")
    phone = sign_in("caseworker", viewport=PHONE)
    open_case(phone, pierce)
    expect(phone.get_by_test_id("case-title")).to_have_text("Household withheld (no consent)")
    expect(phone.get_by_test_id("withheld")).to_contain_text("The household's names")
    expect(phone.get_by_test_id("lead-contact")).to_have_text("Nora Bell (Harbor Supportive Housing)")
    expect(phone.get_by_test_id("household-withheld")).to_be_visible()
    assert all(m == "true" for m in notes(phone).evaluate_all("els => els.map(e => e.dataset.mine)"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(phone, "case-withheld-phone")


def test_a_note_from_housing_appears_live_for_child_welfare(server: Server, sign_in: SignIn) -> None:
    solis = case_of(server, "Solis")
    caseworker = sign_in("caseworker")
    open_case(caseworker, solis)
    before = notes(caseworker).count()
    housing = sign_in("housing-cm")
    open_case(housing, solis)
    housing.get_by_text("Add a note").click()
    housing.get_by_label("Note", exact=True).fill("Lease renewal signed for another year.")
    housing.get_by_role("button", name="Add note").click()
    expect(notes(housing).filter(has_text="Lease renewal signed")).to_have_count(1)
    expect(notes(caseworker).filter(has_text="Lease renewal signed")).to_have_count(1)  # no reload
    expect(notes(caseworker)).to_have_count(before + 1)


def test_revoking_the_release_drops_the_household_live(server: Server, sign_in: SignIn) -> None:
    holt = case_of(server, "Holt")
    caseworker = sign_in("caseworker")
    open_case(caseworker, holt)
    expect(caseworker.get_by_test_id("household-member")).to_have_count(4)
    expect(notes(caseworker).filter(has_text="Moved in on Saturday")).to_have_count(1)  # Harbor's note, under the release

    housing = sign_in("housing-cm")
    open_case(housing, holt)
    active = housing.locator('[data-testid="consent"][data-state="ACTIVE"]')
    expect(active).to_have_count(1)
    active.get_by_role("button", name="Revoke…").click()
    active.get_by_role("button", name="Yes, revoke").click()
    expect(housing.locator('[data-testid="consent"][data-state="REVOKED"]')).to_have_count(1)

    expect(caseworker.get_by_test_id("household-withheld")).to_be_visible()  # no reload
    expect(caseworker.get_by_test_id("household-member")).to_have_count(0)
    expect(notes(caseworker).filter(has_text="Moved in on Saturday")).to_have_count(0)
    expect(caseworker.get_by_test_id("case-title")).to_have_text("Household withheld (no consent)")
    expect(notes(caseworker).filter(has_text="Reunification visit")).to_have_count(1)  # its own stays


def test_granting_a_release_on_the_consent_screen(server: Server, sign_in: SignIn) -> None:
    pierce = case_of(server, "Pierce")
    housing = sign_in("housing-cm")
    open_case(housing, pierce)
    panel = housing.get_by_test_id("consent-panel")
    expect(panel.get_by_test_id("no-consents")).to_be_visible()
    panel.get_by_role("button", name="Record a release…").click()
    form = panel.get_by_test_id("grant-form")
    expect(form).to_contain_text("three years unless you say")
    form.get_by_label("Who may see it").select_option(label="Every party of “Families First: Housing and Child Welfare MOA”")
    form.get_by_label("Child welfare status").check()
    form.get_by_label("How it was given").select_option("VERBAL_WITNESSED")
    form.get_by_label("Witness's name").fill("Dana Whitfield")
    form.get_by_role("button", name="Record release").click()
    granted = panel.get_by_test_id("consent")
    expect(granted).to_have_count(1)
    expect(granted.get_by_test_id("consent-state")).to_have_text("Active")
    expect(granted).to_contain_text("Case notes, Contact details, Child welfare status")
    expect(granted).to_contain_text("witnessed by Dana Whitfield")

    caseworker = sign_in("caseworker")
    open_case(caseworker, pierce)
    expect(caseworker.get_by_test_id("household-member").first).to_contain_text("Yolanda Pierce")


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core comes with the dashboards' npm install")
def test_case_page_and_consent_screen_pass_axe_wcag_aa(server: Server, sign_in: SignIn) -> None:
    problems: dict[str, list[str]] = {}
    housing = sign_in("housing-cm")
    housing.goto("/cases")
    expect(housing.get_by_test_id("case-row").first).to_be_visible()
    problems["cases"] = axe_violations(housing)
    open_case(housing, case_of(server, "Solis"))
    expect(housing.get_by_test_id("consent").first).to_be_visible()
    for summary in ("Add a goal", "Record a contact", "Add a note", "Record a conference", "Record a payment"):
        housing.get_by_text(summary, exact=True).click()
    problems["case"] = axe_violations(housing)
    housing.get_by_role("button", name="Record a release…").click()
    housing.get_by_test_id("grant-form").get_by_label("A parent or legal guardian").check()
    housing.get_by_test_id("grant-form").get_by_label("How it was given").select_option("VERBAL_WITNESSED")
    housing.get_by_test_id("consent").first.get_by_role("button", name="Revoke…").click()
    problems["consent screen"] = axe_violations(housing)
    withheld = sign_in("caseworker", viewport=PHONE)
    open_case(withheld, case_of(server, "Moreno"))
    problems["withheld case"] = axe_violations(withheld)
    seeker = sign_in("seeker", viewport=PHONE)
    expect(seeker.get_by_test_id("consent-panel")).to_be_visible()
    problems["my releases"] = axe_violations(seeker)
    found = {page: p for page, p in problems.items() if p}
    assert not found, "\n".join(f"{page}: {p}" for page, ps in found.items() for p in ps)
