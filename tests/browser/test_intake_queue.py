"""The intake queue as someone working through fifty referrals a morning finds it: compact rows,
the keyboard, search, sort, filters that stay true live, load more; the program's notification
settings; the wall's "+N more" and its refusal; the link page on a phone."""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

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

INBOUND_TOTAL = "query { inboundReferrals(first: 1) { totalCount notUpdatedCount } }"
SET_STATUS = """mutation($input: UpdateReferralStatusInput!) { updateReferralStatus(input: $input) { id status version } }"""


def no_axe_problems(page: Page, state: str, found: dict[str, list[str]]) -> None:
    if AXE.is_file():
        problems = axe_violations(page)
        if problems:
            detail = page.evaluate(
                "async () => (await axe.run(document, { runOnly: ['color-contrast'] })).violations.flatMap((v) => v.nodes.map((n) => n.failureSummary))"
            )
            found[state] = [*problems, *detail]


def focused_row_name(page: Page) -> str:
    return str(page.evaluate("document.activeElement?.closest('[data-testid=inbound-referral]')?.querySelector('.name')?.textContent?.trim() ?? ''"))


def test_the_compact_queue_with_fifty_referrals_by_keyboard(server: Server, sign_in: SignIn) -> None:
    made = fifty_referrals(server)
    total = server.graphql("intake", INBOUND_TOTAL)["inboundReferrals"]["totalCount"]
    assert total >= FIFTY
    found: dict[str, list[str]] = {}
    page = sign_in("intake", viewport=DESKTOP)
    rows = page.get_by_test_id("inbound-referral")
    expect(rows).to_have_count(25)
    expect(page.get_by_test_id("showing")).to_have_text(f"Showing 25 of {total}")
    # Compact: a row is one line, not a form (the main build's cards were about 440 px each).
    box = rows.first.bounding_box()
    assert box is not None and box["height"] < 70, box
    expect(page.get_by_test_id("referral-details")).to_have_count(0)
    expect(rows.first.get_by_test_id("new-mark")).to_be_visible()
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    save_screenshot(page, "intake-50")
    no_axe_problems(page, "queue", found)

    # j/k move the focus between rows, visibly; Enter opens and closes.
    page.get_by_role("heading", name="Inbound Referrals").click()
    page.keyboard.press("j")
    assert focused_row_name(page).startswith(made["referrals"][-1]["name"]), focused_row_name(page)
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert focused_row_name(page).startswith(made["referrals"][-3]["name"])
    page.keyboard.press("k")
    second = made["referrals"][-2]
    assert focused_row_name(page).startswith(second["name"])
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", outline
    page.keyboard.press("Enter")
    row = page.locator(f'[data-referral-id="{second["id"]}"]')
    expect(row.get_by_test_id("referral-details")).to_be_visible()
    expect(row.get_by_test_id("row-button")).to_have_attribute("aria-expanded", "true")
    expect(row.get_by_test_id("status-select")).to_be_visible()
    expect(row.get_by_test_id("new-mark")).to_have_count(0)  # opened: no longer new
    no_axe_problems(page, "a referral opened", found)
    page.keyboard.press("Enter")
    expect(row.get_by_test_id("referral-details")).to_have_count(0)

    # Search by name.
    page.get_by_label("Search by name").fill(f"queue07 person{made['tag']}")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"Queue07 Person{made['tag']}")
    expect(page.get_by_test_id("showing")).to_contain_text("Showing 1 of 1")
    no_axe_problems(page, "search", found)
    page.get_by_label("Search by name").fill("")
    expect(page.get_by_test_id("showing")).to_have_text(f"Showing 25 of {total}")  # the search is cleared

    # Sort: oldest first puts the demo's old referrals first; newest first our last one. While the
    # re-sorted list is on its way, Load more waits: the old list's cursor would append a page of
    # the old order, and the answer arriving after it would then drop that page again.
    held: list[Route] = []

    def hold_the_oldest_first_page(route: Route) -> None:
        if '"sort":"OLDEST"' in (route.request.post_data or "") and not held:
            held.append(route)  # answered below, once the page has been looked at meanwhile
        else:
            route.continue_()

    page.route("**/graphql", hold_the_oldest_first_page)
    page.get_by_label("Sort").select_option("OLDEST")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the re-sorted list was never asked for"
    expect(page.get_by_test_id("load-more")).to_be_disabled()
    held[0].continue_()
    expect(rows.first).not_to_contain_text("Queue")
    expect(page.get_by_test_id("load-more")).to_be_enabled()
    expect(rows).to_have_count(25)
    page.unroute("**/graphql")
    page.get_by_label("Sort").select_option("LAST_ACTIVITY")
    expect(rows).to_have_count(25)
    page.get_by_label("Sort").select_option("NEWEST")
    expect(rows.first).to_contain_text(made["referrals"][-1]["name"])

    # Load more, through the connection, with the true total.
    page.get_by_test_id("load-more").click()
    expect(rows).to_have_count(50)
    expect(page.get_by_test_id("showing")).to_have_text(f"Showing 50 of {total}")
    page.get_by_test_id("load-more").click()
    expect(rows).to_have_count(min(75, total))
    no_axe_problems(page, "loaded more", found)

    # "Not updated" means not updated: a row changed elsewhere leaves the list, live.
    page.get_by_label("Status").select_option("NOT_UPDATED")
    expect(rows).to_have_count(25)
    expect(page.locator('[data-testid="inbound-referral"]:not([data-status="NOT_UPDATED"])')).to_have_count(0)
    changed = made["referrals"][-5]
    target = page.locator(f'[data-referral-id="{changed["id"]}"]')
    expect(target).to_have_count(1)
    before = rows.count()
    server.graphql("intake", SET_STATUS, {"input": {"referralId": changed["id"], "status": "PENDING", "expectedVersion": changed["version"]}})
    expect(target).to_have_count(0, timeout=5000)
    expect(rows).to_have_count(before - 1)
    no_axe_problems(page, "not updated, after a change", found)
    assert not found, "\n".join(f"{state}: {p}" for state, ps in found.items() for p in ps)


def test_an_email_link_opens_that_referral(server: Server, sign_in: SignIn) -> None:
    made = fifty_referrals(server)
    old = made["referrals"][3]  # beyond the first page
    page = sign_in("intake", start=f"/program?referral={old['id']}")
    row = page.locator(f'[data-referral-id="{old["id"]}"]')
    expect(row.get_by_test_id("referral-details")).to_be_visible()
    expect(row.get_by_test_id("row-button")).to_be_focused()


def test_the_programs_notification_settings(server: Server, sign_in: SignIn) -> None:
    found: dict[str, list[str]] = {}
    page = sign_in("intake")
    page.get_by_test_id("settings-link").click()
    expect(page.get_by_role("heading", name="Notification settings")).to_be_visible()
    toggle = page.get_by_test_id("digest-toggle").first
    expect(toggle).to_be_enabled()
    no_axe_problems(page, "settings", found)
    was = toggle.is_checked()
    toggle.click()
    expect(page.get_by_test_id("settings-saved")).to_be_visible()
    page.get_by_test_id("email-COMMENT_ADDED").uncheck()
    expect(page.get_by_test_id("settings-saved")).to_have_text("Your email settings are saved.")
    no_axe_problems(page, "settings saved", found)
    page.reload()
    expect(page.get_by_test_id("digest-toggle").first).to_be_checked(checked=not was)
    expect(page.get_by_test_id("email-COMMENT_ADDED")).not_to_be_checked()
    muted = server.graphql("intake", "query { notificationSettings { mutedEmailEvents } }")["notificationSettings"]["mutedEmailEvents"]
    assert muted == ["COMMENT_ADDED"]
    page.get_by_test_id("email-COMMENT_ADDED").check()
    expect(page.get_by_test_id("settings-saved")).to_be_visible()
    page.get_by_test_id("digest-toggle").first.click()
    page.get_by_role("link", name="← Inbound Referrals").click()
    expect(page.get_by_test_id("queue")).to_be_visible()
    assert not found, found


def test_the_wall_says_how_many_more_and_refuses_plainly(server: Server, sign_in: SignIn) -> None:
    found: dict[str, list[str]] = {}
    wall = sign_in("ce", viewport={"width": 1280, "height": 720}, start="/wall/CA-600")
    expect(wall.get_by_test_id("live-indicator")).to_have_text("Live")
    # Fifty new referrals and the demo's CE lists do not fit a 720p screen: each cut list says so.
    fifty_referrals(server)
    for panel, rows in (("more-waiting", "wall-waiting"), ("more-priority", "wall-priority")):
        more = wall.get_by_test_id(panel)
        expect(more).to_be_visible()
        shown = sum(1 for i in range(wall.get_by_test_id(rows).count()) if wall.get_by_test_id(rows).nth(i).is_visible())
        assert shown > 0 and more.inner_text().startswith("+"), (panel, shown, more.inner_text())
    no_axe_problems(wall, "wall", found)

    denied = sign_in("navigator", viewport={"width": 1280, "height": 720}, start="/wall/CA-600")
    expect(denied.get_by_test_id("wall-denied")).to_be_visible()
    expect(denied.get_by_test_id("wall-denied")).to_contain_text("isn't yours to see")
    expect(denied.get_by_test_id("live-indicator")).to_have_count(0)
    expect(denied.get_by_test_id("open-total")).to_have_count(0)
    expect(denied.get_by_text("Every referral has a response")).to_have_count(0)
    expect(denied.get_by_text("forbidden", exact=True)).to_have_count(0)
    no_axe_problems(denied, "wall, refused", found)
    assert not found, found


def test_the_link_page_on_a_phone(server: Server, browser: Any) -> None:
    from tests.browser.conftest import PHONE

    fifty_referrals(server)
    outbox = Path(server.env["DATABASE_URL"].split("///", 1)[1]).parent / "outbox" / "mail"
    link = None
    for path in sorted(outbox.rglob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        text = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = text.get_body(("plain",))
        match = re.search(r"- They're eligible: (\S+/r/\S+)", body.get_content() if body else "")
        if match:
            link = match.group(1)
            break
    assert link, f"no program email with status links in {outbox}"
    context = browser.new_context(viewport=PHONE, bypass_csp=True)  # to inject axe; the page itself runs no script
    page = context.new_page()
    page.goto(link.replace(link.split("/r/")[0], server.url))
    found: dict[str, list[str]] = {}
    expect(page.get_by_role("heading", name="Confirm: They're eligible")).to_be_visible()
    expect(page.get_by_role("link", name="Referloop")).to_be_visible()
    button = page.get_by_role("button", name="Yes, they're eligible")
    box = button.bounding_box()
    assert box is not None and box["width"] > 300, box  # a thumb-sized button across the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    no_axe_problems(page, "link page", found)
    expect(page.get_by_role("link", name="Open it in Inbound Referrals")).to_have_attribute("href", re.compile(r"/program\?referral="))
    save_screenshot(page, "link-phone")
    button.click()
    expect(page.get_by_role("heading", name="Thank you. It's updated.")).to_be_visible()
    expect(page.get_by_role("link", name="Open your dashboard")).to_be_visible()
    no_axe_problems(page, "link page, done", found)
    context.close()
    assert not found, found
