"""A real day's work (issue 10) in the browser: paging past the first page of programs and of People
I'm Helping, their search, filter and sort, the duplicate warning and its override, a seeker's own
self-referral seen live by the program, the undo of a mistaken tap, the seeker's settings, and the
wording on a tracking-only site; axe on every page state reached."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import ACCOUNTS, PHONE, Server, SignIn, save_screenshot
from tests.browser.test_dashboards import AXE, PROGRAMS, answer_screener, axe_violations, demo_seeker, search_programs

pytestmark = pytest.mark.skipif(not AXE.is_file(), reason="axe-core comes with the dashboards' npm install")

ACCOUNTS.setdefault("outreach", "outreach@demo.referloop.org")  # a navigator at the tracking-only site

TOTALS = "query { programs(first: 1) { totalCount } peopleImHelping(first: 1) { totalCount } }"
MINE = "query { referralsForMe(first: 100) { edges { node { id status program { id } } } } }"
CREATE = """mutation($input: CreateReferralInput!) { createReferral(input: $input) { id status } }"""
HISTORY = "query($id: ID!) { referral(id: $id) { history { note } } }"
INBOUND_BY_NAME = "query($search: String) { inboundReferrals(search: $search) { totalCount } }"
OPEN = {"NOT_UPDATED", "NEEDS_CLIENT_ACTION", "PENDING", "REFERRED_ELSEWHERE", "ELIGIBLE"}


def load_every_page(page: Page, button: str, item: str, total: int) -> None:
    """Press `button` until `total` items show, each press waiting for its page to arrive (the
    button reads "Loading…" meanwhile, so counting buttons would stop early); then it is gone."""
    items = page.get_by_test_id(item)
    while (shown := items.count()) < total:
        page.get_by_role("button", name=button).click()
        expect(items).not_to_have_count(shown)
    expect(items).to_have_count(total)
    expect(page.get_by_role("button", name=button)).to_have_count(0)


def no_axe_problems(page: Page, state: str) -> None:
    problems = axe_violations(page)
    assert not problems, f"{state}: {problems}"


def test_navigator_pages_through_programs_and_people_on_a_phone(server: Server, sign_in: SignIn) -> None:
    totals = server.graphql("navigator", TOTALS)
    programs_total = totals["programs"]["totalCount"]
    people_total = totals["peopleImHelping"]["totalCount"]
    # Both lists go well past a first page of 20 (the demo: 49 programs, 47 people for navigator@).
    assert programs_total > 40 and people_total > 40, totals

    page = sign_in("navigator", viewport=PHONE)
    expect(page.get_by_test_id("person").first).to_be_visible()
    expect(page.get_by_test_id("program-count")).to_have_text(f"Showing 20 of {programs_total} programs")
    # On a phone, People I'm Helping comes first.
    people_top = page.get_by_role("heading", name="People I'm Helping").bounding_box()
    search_top = page.get_by_role("heading", name="Find programs").bounding_box()
    assert people_top and search_top and people_top["y"] < search_top["y"] and people_top["y"] < 300
    page.wait_for_timeout(300)
    save_screenshot(page, "navigator-phone")
    no_axe_problems(page, "navigator, first pages")

    # Programs: past the first page, to the true total.
    expect(page.get_by_test_id("program-card").first.get_by_test_id("program-details")).to_contain_text("Phone")
    load_every_page(page, "Load more programs", "program-card", programs_total)
    expect(page.get_by_test_id("program-count")).to_have_text(f"{programs_total} programs found")

    # People: past 20 and past the old limit of 50.
    expect(page.get_by_test_id("people-count")).to_have_text(f"Showing 20 of {people_total} people")
    load_every_page(page, "Load more people", "person", people_total)
    no_axe_problems(page, "navigator, everything loaded")

    # Search by name.
    seeker = demo_seeker(server)
    page.get_by_label("Name", exact=True).fill(seeker["lastName"])
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.get_by_test_id("person").first).to_contain_text(seeker["lastName"])
    page.get_by_label("Name", exact=True).fill("")

    # Sort by last name.
    page.get_by_label("Sort").select_option("NAME")
    expect(page.get_by_test_id("people-count")).to_have_text(f"Showing 20 of {people_total} people")
    names = [n.split()[-1] for n in page.get_by_test_id("person").locator("h3").all_inner_texts()]
    assert names == sorted(names, key=str.lower) or names == sorted(names), names

    # Open and closed.
    page.get_by_label("Referrals", exact=True).select_option("CLOSED")
    page.wait_for_timeout(500)
    closed_text = page.get_by_test_id("people-count").inner_text() if page.get_by_test_id("people-count").count() else ""
    page.get_by_label("Referrals", exact=True).select_option("OPEN")
    page.wait_for_timeout(500)
    open_text = page.get_by_test_id("people-count").inner_text()
    counts = [int(re.findall(r"of (\d+)", t)[0]) for t in (closed_text, open_text) if "of" in t]
    assert sum(counts) == people_total, (closed_text, open_text)
    for badge_list in page.get_by_test_id("person").all()[:5]:
        assert badge_list.get_by_test_id("person-referral").count() >= 1
    no_axe_problems(page, "navigator, filtered and sorted")


def _live_program_without_open_referral(server: Server) -> dict[str, Any]:
    data = server.graphql("intake", PROGRAMS)
    org = data["viewer"]["organization"]["id"]
    live = [
        e["node"] for e in data["programs"]["edges"]
        if e["node"]["organization"]["id"] == org and e["node"]["acceptsReferrals"] and e["node"]["connectMode"] != "EXTERNAL"
    ]
    mine = server.graphql("seeker", MINE)["referralsForMe"]["edges"]
    busy = {e["node"]["program"]["id"] for e in mine if e["node"]["status"] in OPEN}
    free = [p for p in live if p["id"] not in busy]
    assert free, "the demo seeker has an open referral to every live program of intake@"
    chosen: dict[str, Any] = free[0]
    return chosen


def test_duplicate_warning_and_its_override(server: Server, sign_in: SignIn) -> None:
    seeker = demo_seeker(server)
    data = server.graphql("navigator", PROGRAMS)
    program = next(p["node"] for p in data["programs"]["edges"] if p["node"]["acceptsReferrals"] and not p["node"]["screener"])
    made = server.post_json(
        "/graphql",
        {"query": CREATE, "variables": {"input": {"programId": program["id"], "seekerId": seeker["id"], "consent": True, "contactPreference": "EMAIL"}}},
        token=server.token("navigator"),
    )
    assert not made.get("errors") or made["errors"][0]["extensions"].get("reason") == "DUPLICATE", made

    page = sign_in("navigator")
    search_programs(page, program["name"])
    card = page.locator(f'[data-testid="program-card"][data-program-id="{program["id"]}"]')
    card.get_by_role("button").first.click()
    form = page.get_by_test_id("referral-form")
    form.get_by_role("combobox", name="Use contact info on file").fill(seeker["firstName"])
    form.get_by_role("option").filter(has_text=f'{seeker["firstName"]} {seeker["lastName"]}').first.click()
    form.get_by_label("Email", exact=True).check()
    form.get_by_test_id("consent").check()
    form.locator('button[type="submit"]').click()

    warning = form.get_by_test_id("duplicate-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(f"already has an open referral to {program['name']}")
    no_axe_problems(page, "referral form, duplicate warning")
    # Without a reason, it is not sent.
    form.get_by_role("button", name="Refer again").click()
    expect(form.get_by_text("Say why you are referring them again")).to_be_visible()
    form.get_by_label("Why refer them again?").fill("Browser test: the first referral went to an old email")
    form.get_by_role("button", name="Refer again").click()
    expect(page.get_by_role("status").filter(has_text="Referral sent")).to_be_visible()
    created = page.locator('[data-testid="person-referral"]').first.get_attribute("data-referral-id")
    assert created
    notes = [h["note"] for h in server.graphql("navigator", HISTORY, {"id": created})["referral"]["history"]]
    assert any(n and "old email" in n for n in notes), notes


def test_self_referral_live_to_the_program_then_undo(server: Server, sign_in: SignIn) -> None:
    program = _live_program_without_open_referral(server)
    intake = sign_in("intake")
    expect(intake.get_by_test_id("counts")).to_be_visible()
    seeker_info = demo_seeker(server)

    page = sign_in("seeker", viewport=PHONE)
    expect(page.get_by_test_id("seeker-referral").first).to_be_visible()
    search_programs(page, program["name"], label="What do you need?")
    card = page.locator(f'[data-testid="find-card"][data-program-id="{program["id"]}"]')
    expect(card.get_by_test_id("program-details")).to_contain_text("Address")
    no_axe_problems(page, "seeker, find help results")
    card.get_by_role("button", name=f"Connect me: {program['name']}").click()
    form = page.get_by_test_id("referral-form")
    expect(form).to_be_visible()
    answer_screener(form, program)
    form.get_by_test_id("consent").check()
    no_axe_problems(page, "seeker, self-referral form")
    form.get_by_role("button", name=f"Send to {program['name']}").click()
    expect(page.get_by_role("status").filter(has_text=f"Sent to {program['name']}")).to_be_visible()

    # The program sees it arrive, without a reload.
    arrived = intake.get_by_test_id("inbound-referral").filter(has_text=seeker_info["firstName"]).filter(has_text=program["name"])
    expect(arrived.first).to_be_visible(timeout=5000)

    mine = page.get_by_test_id("seeker-referral").filter(has_text=program["name"]).first
    expect(mine.get_by_test_id("next-steps")).to_be_visible()
    expect(mine.get_by_test_id("program-details")).to_contain_text("Phone")
    # A tap asks first; "Cancel" changes nothing.
    mine.get_by_role("button", name="Got help").click()
    confirm = mine.get_by_test_id("seeker-confirm")
    expect(confirm).to_contain_text(re.compile("got help", re.I))
    no_axe_problems(page, "seeker, confirming")
    confirm.get_by_role("button", name="Cancel").click()
    expect(mine.get_by_test_id("seeker-choices")).to_be_visible()
    mine.get_by_role("button", name="Got help").click()
    mine.get_by_role("button", name="Yes, mark it").click()
    undo = mine.get_by_test_id("undo")
    expect(undo).to_be_visible()
    # Closed: no more "Got help" or "Couldn't get help".
    expect(mine.get_by_test_id("seeker-choices")).to_have_count(0)
    no_axe_problems(page, "seeker, undo offered")
    undo.get_by_role("button", name="Undo").click()
    expect(mine.get_by_test_id("seeker-choices")).to_be_visible()
    expect(mine.get_by_test_id("undo")).to_have_count(0)
    no_axe_problems(page, "seeker, undone")


def test_seeker_settings(server: Server, sign_in: SignIn) -> None:
    page = sign_in("seeker", viewport=PHONE)
    settings = page.get_by_test_id("seeker-settings")
    expect(settings).to_be_visible()
    # Until the settings arrive the form waits: a choice made meanwhile was overwritten by them (and
    # then not saved, being "unchanged"), which a slow answer made this test see.
    held: list[Route] = []

    def hold_the_settings(route: Route) -> None:
        if "MySettings" in (route.request.post_data or "") and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/graphql", hold_the_settings)
    page.reload()
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the settings were never asked for"
    expect(settings.get_by_label("Text", exact=True)).to_be_disabled()
    expect(settings.get_by_role("button", name="Save my settings")).to_be_disabled()
    held[0].continue_()
    page.unroute("**/graphql")
    expect(settings.get_by_label("Text", exact=True)).to_be_enabled()
    had_email = settings.get_by_label("Email", exact=True).is_checked()
    settings.get_by_label("Text", exact=True).check()
    settings.get_by_label("A new comment").check()
    settings.get_by_role("button", name="Save my settings").click()
    expect(settings.get_by_role("status")).to_have_text("Your settings are saved.")
    no_axe_problems(page, "seeker, settings saved")
    page.reload()
    settings = page.get_by_test_id("seeker-settings")
    expect(settings.get_by_label("Text", exact=True)).to_be_checked()
    expect(settings.get_by_label("A new comment")).to_be_checked()
    # Put things back for the other tests.
    if had_email:
        settings.get_by_label("Email", exact=True).check()
    settings.get_by_label("A new comment").uncheck()
    settings.get_by_role("button", name="Save my settings").click()
    expect(settings.get_by_role("status")).to_have_text("Your settings are saved.")


def test_tracking_only_site_says_what_it_does(server: Server, sign_in: SignIn) -> None:
    page = sign_in("outreach")
    expect(page.get_by_test_id("program-card").first).to_be_visible()
    card = page.get_by_test_id("program-card").first
    expect(card.get_by_role("button", name=re.compile("^Record that you told them about"))).to_be_visible()
    expect(card.get_by_role("button", name=re.compile("Refer"))).to_have_count(0)
    card.get_by_role("button", name=re.compile("^Record that you told them about")).click()
    form = page.get_by_test_id("referral-form")
    expect(form).to_be_visible()
    text = form.inner_text()
    for words in ("Refer", "seen by", "agrees to share"):
        assert words not in text, f"{words!r} on a tracking-only form: {text}"
    expect(form.get_by_role("heading")).to_contain_text("Record that you told them about")
    no_axe_problems(page, "tracking-only form")
    form.get_by_label("First name").fill("Tracy")
    form.get_by_label("Last name").fill("Onlyrecord")
    form.get_by_label("Don't reach out").check()
    form.get_by_role("button", name="Record it").click()
    status = page.get_by_role("status").filter(has_text="Recorded")
    expect(status).to_be_visible()
    expect(status).not_to_contain_text("Referral logged")
    expect(status).to_contain_text("was told about")
    no_axe_problems(page, "tracking-only, recorded")


def test_an_email_link_opens_the_referral_it_names(server: Server, sign_in: SignIn) -> None:
    """Emails link to /seeker?referral=<id> and /navigator?referral=<id>: the page shows that referral, focused."""
    mine = server.graphql("seeker", "query { referralsForMe(first: 50) { edges { node { id } } } }")["referralsForMe"]["edges"]
    last = mine[-1]["node"]["id"]  # the oldest: further down the page than the first screen
    seeker = sign_in("seeker", viewport=PHONE, start=f"/seeker?referral={last}")
    card = seeker.locator(f'[data-testid="seeker-referral"][data-referral-id="{last}"]')
    expect(card).to_be_focused()
    expect(card).to_be_in_viewport()
    helping = server.graphql(
        "navigator", "query { peopleImHelping(first: 1) { edges { node { referrals { edges { node { id } } } } } } }"
    )["peopleImHelping"]["edges"][0]["node"]["referrals"]["edges"]
    theirs = helping[-1]["node"]["id"]
    navigator = sign_in("navigator", start=f"/navigator?referral={theirs}")
    item = navigator.locator(f'[data-testid="person-referral"][data-referral-id="{theirs}"]')
    expect(item).to_be_focused()
    expect(item.locator("details").first).to_have_attribute("open", "")


def test_a_referral_resent_after_its_answer_was_lost_is_made_once(server: Server, sign_in: SignIn) -> None:
    """The server made the referral but the answer never arrived; pressing Send again must not make a second."""
    from tests.browser.test_dashboards import CONNECT_LABEL, live_program_of_intake

    program = live_program_of_intake(server)
    last_name = f"Idem{uuid.uuid4().hex[:6]}"
    page = sign_in("navigator")
    lost: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        if "createReferral" in (route.request.post_data or "") and not lost:
            lost.append(route.fetch().text())  # the server gets it and commits; the page never hears back
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/graphql", lose_the_first_answer)
    search_programs(page, program["name"])
    card = page.locator(f'[data-testid="program-card"][data-program-id="{program["id"]}"]')
    card.get_by_role("button", name=CONNECT_LABEL[program["connectMode"]]).click()
    form = page.get_by_test_id("referral-form")
    form.get_by_label("First name").fill("Rhea")
    form.get_by_label("Last name").fill(last_name)
    form.get_by_label("Don't reach out").check()
    answer_screener(form, program)
    form.get_by_test_id("consent").check()
    form.locator('button[type="submit"]').click()
    expect(form.get_by_text("Can't reach Referloop right now")).to_be_visible()
    assert lost and '"createReferral"' in lost[0], lost

    form.locator('button[type="submit"]').click()
    expect(page.get_by_role("status").filter(has_text="Referral sent")).to_be_visible()
    inbound = server.graphql("intake", INBOUND_BY_NAME, {"search": last_name})["inboundReferrals"]
    assert inbound["totalCount"] == 1, "one referral, although the form was sent twice"


def test_a_referral_form_opened_while_a_search_is_on_its_way_stays_open(server: Server, sign_in: SignIn) -> None:
    """The program list changes under an open form when the search's answer arrives; the form stays, for its program."""
    from tests.browser.test_dashboards import CONNECT_LABEL, live_program_of_intake

    program = live_program_of_intake(server)
    page = sign_in("navigator")
    search_programs(page, program["name"])
    card = page.locator(f'[data-testid="program-card"][data-program-id="{program["id"]}"]')
    expect(card).to_be_visible()
    held: list[Route] = []

    def hold_the_search(route: Route) -> None:
        if program["name"] in (route.request.post_data or "") and not held:
            held.append(route)
        else:
            route.continue_()

    # The same search again, held: the list is busy, and changes when its answer comes.
    page.route("**/graphql", hold_the_search)
    page.get_by_role("button", name="Search", exact=True).click()
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the search was never sent"
    expect(page.get_by_test_id("program-list")).to_have_attribute("aria-busy", "true")
    card.get_by_role("button", name=CONNECT_LABEL[program["connectMode"]]).click()
    form = page.get_by_test_id("referral-form")
    expect(form).to_be_visible()
    held[0].continue_()
    expect(page.get_by_test_id("program-list")).to_have_attribute("aria-busy", "false")
    page.unroute("**/graphql")
    expect(form).to_be_visible()
    expect(form).to_contain_text(program["name"])
