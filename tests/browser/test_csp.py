"""Every dashboard page works under its Content-Security-Policy (no inline script or style): Chromium
reports no violation while each page loads, goes live and draws its charts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ACCOUNTS, DESKTOP, PASSWORD, Server
from tests.browser.test_cases import CASES

# Installed before any page script runs: the violations the page itself is told about.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watched:
    """A signed-in page and every CSP violation reported on it, by the page and on the console."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "content security policy" in message.text.lower():
            self.console.append(message.text)

    def violations(self) -> list[str]:
        reported: list[str] = self.page.evaluate("window.__cspViolations")
        return reported + self.console


@pytest.fixture
def watched(browser: Browser, server: Server) -> Iterator[Callable[[str], Watched]]:
    contexts = []

    def open_as(who: str) -> Watched:
        context = browser.new_context(viewport=DESKTOP, base_url=server.url)
        context.set_default_timeout(10_000)
        context.add_init_script(RECORD_VIOLATIONS)
        contexts.append(context)
        watched = Watched(context.new_page())
        page = watched.page
        response = page.goto("/login")
        assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
        page.get_by_label("Email").fill(ACCOUNTS[who])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        assert watched.violations() == [], "the sign-in page"
        return watched

    yield open_as
    for context in contexts:
        context.close()


def _live(page: Page) -> None:
    # The live channel is a websocket to this origin: connect-src 'self' must let it through.
    expect(page.get_by_test_id("live-indicator")).to_have_text("Live")


def _case(page: Page) -> None:
    expect(page.get_by_test_id("case-title")).to_be_visible()
    _live(page)


def _charts(page: Page) -> None:
    canvas = page.get_by_test_id("chart-months").locator("canvas")
    expect(canvas).to_be_visible()
    assert canvas.evaluate("c => c.width > 0 && c.height > 0")


PAGES: dict[str, tuple[str, Callable[[Page], None]]] = {
    "/seeker": ("seeker", _live),
    "/navigator": ("navigator", _live),
    "/program": ("intake", _live),
    "/program/settings": ("intake", lambda page: expect(page.get_by_role("heading", level=1)).to_be_visible()),
    "/ce": ("ce", _live),
    "/wall/CA-600": ("ce", _live),
    "/cases": ("housing-cm", lambda page: expect(page.get_by_test_id("case-row").first).to_be_visible()),
    "/cases/<id>": ("housing-cm", _case),
    "/performance": ("admin", _charts),
    "/audit": ("admin", lambda page: expect(page.get_by_role("heading", level=1)).to_be_visible()),
}


@pytest.mark.parametrize("path", PAGES, ids=list(PAGES))
def test_the_page_runs_without_a_csp_violation(path: str, server: Server, watched: Callable[[str], Watched]) -> None:
    who, ready = PAGES[path]
    if path == "/cases/<id>":
        path = f"/cases/{server.graphql(who, CASES)['cases']['edges'][0]['node']['id']}"
    view = watched(who)
    response = view.page.goto(path)
    assert response is not None and response.status == 200
    ready(view.page)
    view.page.wait_for_load_state("networkidle")
    assert view.violations() == [], path


def test_the_status_link_page_stylesheet_matches_its_hash(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport=DESKTOP, base_url=server.url)
    try:
        context.add_init_script(RECORD_VIOLATIONS)
        view = Watched(context.new_page())
        response = view.page.goto("/r/not-a-token")
        assert response is not None and response.status == 400
        expect(view.page.get_by_test_id("link-page")).to_be_visible()
        # Styled: the stylesheet applied (the card's border), so the hash let it through.
        assert view.page.get_by_test_id("link-page").evaluate("e => getComputedStyle(e).borderLeftStyle") == "solid"
        assert view.violations() == []
    finally:
        context.close()
