"""Signing out ends the session on the server; a token ended elsewhere sends the person to sign in."""

from __future__ import annotations

import time
import urllib.request

from playwright.sync_api import expect

from tests.browser.conftest import Server, SignIn

VIEWER = {"query": "{ viewer { email } }"}


def _refused(server: Server, token: str) -> bool:
    """Whether the token is refused now, polling a little while the page's sign-out request lands."""
    deadline = time.monotonic() + 5
    while True:
        errors = server.post_json("/graphql", VIEWER, token=token).get("errors") or [{}]
        if errors[0].get("extensions", {}).get("code") == "UNAUTHENTICATED":
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def test_the_sign_out_button_revokes_the_token(sign_in: SignIn, server: Server) -> None:
    page = sign_in("navigator")
    token = page.evaluate("() => localStorage.getItem('referloop.token')")
    assert token
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/login" in url)
    assert _refused(server, token), "the token still works after signing out"


def test_a_session_ended_elsewhere_sends_the_page_to_sign_in(sign_in: SignIn, server: Server) -> None:
    page = sign_in("intake")
    token = page.evaluate("() => localStorage.getItem('referloop.token')")
    request = urllib.request.Request(server.url + "/auth/logout", data=b"", headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    page.reload()
    page.wait_for_url(lambda url: "/login" in url)
    expect(page.get_by_role("heading", name="Sign in to Referloop")).to_be_visible()
