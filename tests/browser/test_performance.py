"""The performance page: signed in, opened from the header, the API's figures shown, the charts drawn, axe clean."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, SignIn, save_screenshot
from tests.browser.test_dashboards import AXE, axe_violations

COC = "CA-600"
FIGURES = """
query($scope: PerformanceScopeInput!, $from: Date!, $to: Date!) {
  performance(scope: $scope, from: $from, to: $to) { referralsMade gotHelpShare series { made } }
}"""


def last_twelve_months() -> dict[str, str]:
    """The page's default range (lib/performance.js): from the first of the month eleven months back, to today."""
    today = date.today()
    months = today.year * 12 + today.month - 1 - 11
    return {"from": date(months // 12, months % 12 + 1, 1).isoformat(), "to": today.isoformat()}


def open_performance(page: Page) -> None:
    page.get_by_role("navigation", name="Dashboards").get_by_role("link", name="Performance").click()
    expect(page.get_by_role("heading", name="Performance", level=1)).to_be_visible()


def figures(server: Server, who: str, scope: dict[str, str]) -> dict[str, Any]:
    answer: dict[str, Any] = server.graphql(who, FIGURES, {"scope": scope, **last_twelve_months()})["performance"]
    return answer


def test_the_ce_manager_sees_the_cocs_figures_and_charts(server: Server, sign_in: SignIn) -> None:
    expected = figures(server, "ce", {"cocCode": COC})
    assert expected["referralsMade"] > 0, "the demo seed should have referrals in CA-600 this year"
    ce = sign_in("ce")
    ce.goto("/ce")  # the CE manager lands on the wall display, which has no header
    open_performance(ce)
    expect(ce.get_by_label("Program, organization, CoC or agreement")).to_have_value(f"COC:{COC}")
    made = ce.get_by_test_id("figure-made")
    expect(made).to_contain_text(str(expected["referralsMade"]))
    expect(ce.get_by_test_id("figure-got-help")).to_contain_text(f"{round(expected['gotHelpShare'] * 100)}%")
    months = ce.get_by_test_id("chart-months")
    expect(months.locator("canvas")).to_be_visible()
    assert months.locator("canvas").evaluate("c => c.width > 0 && c.height > 0")
    expect(ce.get_by_test_id("chart-statuses").locator("canvas")).to_be_visible()
    # The table behind the months chart holds the same figures.
    months.get_by_text("The figures as a table").click()
    total = sum(int(cell) for cell in months.locator("tbody tr td:nth-child(2)").all_inner_texts())
    assert total == expected["referralsMade"] == sum(p["made"] for p in expected["series"])
    save_screenshot(ce, "performance-desktop", doc=False)


def test_a_program_can_be_chosen(server: Server, sign_in: SignIn) -> None:
    intake = sign_in("intake")
    open_performance(intake)
    picker = intake.get_by_label("Program, organization, CoC or agreement")
    programs = picker.locator("optgroup[label='Program'] option")
    expect(programs.first).to_be_attached()
    value = programs.first.get_attribute("value")
    assert value and value.startswith("PROGRAM:")
    expected = figures(server, "intake", {"programId": value.removeprefix("PROGRAM:")})
    picker.select_option(value)
    intake.get_by_role("button", name="Show").click()
    expect(intake.get_by_test_id("performance-scope")).to_contain_text(programs.first.inner_text().split(" · ")[0])
    expect(intake.get_by_test_id("figure-made")).to_contain_text(str(expected["referralsMade"]))


def test_the_admin_opens_the_page(sign_in: SignIn) -> None:
    admin = sign_in("admin")
    open_performance(admin)
    expect(admin.get_by_test_id("figure-made")).to_be_visible()
    expect(admin.get_by_test_id("chart-months").locator("canvas")).to_be_visible()


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core comes with the dashboards' npm install")
def test_the_performance_page_passes_axe_wcag_aa(sign_in: SignIn) -> None:
    ce = sign_in("ce")
    ce.goto("/ce")  # the CE manager lands on the wall display, which has no header
    open_performance(ce)
    expect(ce.get_by_test_id("chart-statuses").locator("canvas")).to_be_visible()
    ce.get_by_test_id("chart-months").get_by_text("The figures as a table").click()
    problems = axe_violations(ce)
    assert not problems, "\n".join(problems)
