"""The Coordinated Entry cycle across browsers: the CE manager refers a client on the priority list
to a vacancy, the provider (intake@) acknowledges and resolves it, and the wall and the CE page
follow live without a reload."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import Server, SignIn, save_screenshot, open_row
from tests.browser.test_dashboards import AXE, axe_violations, demo_seeker

COC = "CA-600"
WALL: ViewportSize = {"width": 1920, "height": 1080}

OUR_PROGRAMS = """
query { viewer { organization { id cocCode } }
  programs(first: 100) { edges { node { id name categories organization { id } } } } }"""
VACANCIES = "query($coc: String!) { vacancies(cocCode: $coc, open: true) { id programId description } }"
POST_VACANCY = "mutation($input: PostVacancyInput!) { postVacancy(input: $input) { id programId description } }"
PRIORITY_PAGE = """
query($coc: String!, $after: String) { priorityList(cocCode: $coc, first: 100, after: $after) {
  totalCount edges { node { id seeker { id } } } pageInfo { hasNextPage endCursor } } }"""
RECORD_ASSESSMENT = "mutation($input: RecordCeAssessmentInput!) { recordCeAssessment(input: $input) { id priorityListEntry { id } } }"
CE_EVENTS = "query($coc: String!) { ceEvents(cocCode: $coc, first: 100) { edges { node { id referralId seeker { id } status } } } }"
ENROLLMENTS = """query($program: ID, $seeker: ID) { enrollments(programId: $program, seekerId: $seeker) {
  edges { node { id entryDate relationshipToHoH priorLivingSituation } } } }"""


def _post(server: Server, who: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Like Server.graphql, but hands back the errors instead of failing on them."""
    return server.post_json("/graphql", {"query": query, "variables": variables}, token=server.token(who))


PENDING_AT = """query($coc: String!) { ceEvents(cocCode: $coc, first: 100) { edges { node { status vacancy { id } } } } }"""


def vacancy_of_intake(server: Server) -> dict[str, Any]:
    """An open vacancy at a program of intake@'s organization with room for a referral (CE allows as many
    pending referrals as its size): one already there, or one intake@ posts."""
    existing: list[dict[str, Any]] = server.graphql("intake", VACANCIES, {"coc": COC})["vacancies"]
    events = server.graphql("intake", PENDING_AT, {"coc": COC})["ceEvents"]["edges"]
    taken = {e["node"]["vacancy"]["id"] for e in events if e["node"]["status"] != "RESOLVED" and e["node"]["vacancy"]}
    free = [v for v in existing if v["id"] not in taken]
    if free:
        return free[0]
    data = server.graphql("intake", OUR_PROGRAMS)
    org = data["viewer"]["organization"]["id"]
    ours = [e["node"] for e in data["programs"]["edges"] if e["node"]["organization"]["id"] == org]
    assert ours, "intake@'s organization has no programs"
    ours.sort(key=lambda p: "HOUSING" not in p["categories"])
    description = "Browser test: one-bedroom unit"
    for program in ours:
        answer = _post(server, "intake", POST_VACANCY, {"input": {"programId": program["id"], "description": description}})
        if not answer.get("errors"):
            vacancy: dict[str, Any] = answer["data"]["postVacancy"]
            return vacancy
    pytest.fail("none of intake@'s programs takes a vacancy: the demo seed should give intake@'s organization a HUD housing project")


def entry_for(server: Server, seeker_id: str) -> str:
    """The seeker's open entry on CA-600's priority list, placing them on it (as ce@) if need be."""
    after: str | None = None
    while True:
        page = server.graphql("ce", PRIORITY_PAGE, {"coc": COC, "after": after})["priorityList"]
        for edge in page["edges"]:
            if edge["node"]["seeker"]["id"] == seeker_id:
                entry_id: str = edge["node"]["id"]
                return entry_id
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assessment = server.graphql(
        "ce",
        RECORD_ASSESSMENT,
        {
            "input": {
                "seekerId": seeker_id,
                "cocCode": COC,
                "assessmentDate": datetime.date.today().isoformat(),
                "location": "Downtown Access Center",
                "assessmentType": 3,
                "assessmentLevel": 2,
                "prioritizationStatus": 1,
                "score": 1000,
                "daysHomeless": 400,
                "householdType": "INDIVIDUAL",
            }
        },
    )["recordCeAssessment"]
    assert assessment["priorityListEntry"], assessment
    placed: str = assessment["priorityListEntry"]["id"]
    return placed


FREE_SEEKERS = """query($coc: String!) {
  priorityList(cocCode: $coc, first: 100) { edges { node { id seeker { id firstName lastName } } } }
  ceEvents(cocCode: $coc, first: 100) { edges { node { status seeker { id } } } } }"""


def free_seeker(server: Server) -> dict[str, Any]:
    """Someone on CA-600's list with no pending CE referral (CE makes one offer at a time), as demo_seeker gives."""
    data = server.graphql("ce", FREE_SEEKERS, {"coc": COC})
    pending = {e["node"]["seeker"]["id"] for e in data["ceEvents"]["edges"] if e["node"]["status"] != "RESOLVED"}
    demo = demo_seeker(server)
    if demo["id"] not in pending:
        return demo
    for edge in data["priorityList"]["edges"]:
        seeker: dict[str, Any] = edge["node"]["seeker"]
        if seeker["id"] not in pending:
            return seeker
    pytest.fail("everyone on the first page of the list has a pending CE referral")


def _same_document(*pages: Page) -> None:
    for page in pages:
        assert page.evaluate("window.__sameDocument") is True, "a page reloaded"


def test_ce_cycle_across_browsers(server: Server, sign_in: SignIn) -> None:
    vacancy = vacancy_of_intake(server)
    seeker = free_seeker(server)
    entry_id = entry_for(server, seeker["id"])

    wall = sign_in("ce", viewport=WALL, start="/wall/CA-600")
    wall.wait_for_url("**/wall/**")
    expect(wall.get_by_test_id("wall-title")).to_have_text(f"Coordinated Entry · {COC}")
    expect(wall.get_by_test_id("live-indicator")).to_have_text("Live")
    # Listed (shown, or among the "+N more" when the panel is full: no row is cut mid-line).
    expect(wall.locator(f'[data-testid="wall-vacancy"][data-vacancy-id="{vacancy["id"]}"]')).to_have_count(1)
    expect(wall.get_by_test_id("wall-priority").first).to_be_visible()

    ce = sign_in("ce")
    ce.wait_for_url("**/ce")  # CE managers land on their CE page
    expect(ce.get_by_role("heading", name=f"Coordinated Entry · {COC}")).to_be_visible()
    expect(ce.get_by_test_id("live-indicator")).to_have_text("Live")
    expect(ce.get_by_test_id("priority-entry").first).to_be_visible()

    intake = sign_in("intake")
    intake.wait_for_url("**/program")
    expect(intake.get_by_test_id("live-indicator")).to_have_text("Live")
    for page in (wall, ce, intake):
        page.evaluate("window.__sameDocument = true")

    # The CE manager refers the client to the vacancy, picking them off the list.
    while ce.locator(f'[data-testid="priority-entry"][data-entry-id="{entry_id}"]').count() == 0:
        ce.get_by_role("button", name="Load more").click()
        ce.wait_for_timeout(300)
    card = ce.locator(f'[data-testid="vacancy"][data-vacancy-id="{vacancy["id"]}"]')
    waiting_before = int(wall.get_by_test_id("ce-waiting-total").inner_text())
    card.get_by_role("button", name="Refer to this vacancy").click()
    form = card.get_by_test_id("refer-form")
    picker = form.get_by_label("Client on the priority list")
    expect(picker).to_have_value("")  # no pre-selection: the CE manager chooses
    expect(form.get_by_role("button", name="Refer", exact=True)).to_be_disabled()
    expect(picker.locator("option").first).to_have_text("Choose a client…")
    expect(picker.locator(f'option[value="{entry_id}"]')).to_contain_text("on the list")
    picker.select_option(entry_id)
    expect(form.get_by_role("button", name="Refer", exact=True)).to_be_enabled()
    form.get_by_role("button", name="Refer", exact=True).click()
    waiting = ce.get_by_test_id("stage-WAITING").get_by_test_id("ce-event").filter(has_text=seeker["lastName"])
    expect(waiting.first).to_be_visible()
    ce.evaluate("window.scrollTo(0, 0)")
    save_screenshot(ce, "ce-desktop")
    events = server.graphql("ce", CE_EVENTS, {"coc": COC})["ceEvents"]["edges"]
    mine = [e["node"] for e in events if e["node"]["seeker"]["id"] == seeker["id"] and e["node"]["status"] == "WAITING"]
    assert mine, events
    event = mine[-1]
    ce_row = ce.locator(f'[data-testid="ce-event"][data-ce-event-id="{event["id"]}"]')
    expect(ce_row).to_have_attribute("data-status", "WAITING")

    # The wall counts it waiting for acknowledgement, live (the longest waiting are listed first).
    counted = server.graphql("ce", 'query { wallboard(cocCode: "CA-600") { ceWaitingCount } }')["wallboard"]["ceWaitingCount"]
    assert counted == waiting_before + 1, (counted, waiting_before)
    expect(wall.get_by_test_id("ce-waiting-total")).to_have_text(str(waiting_before + 1), timeout=3000)
    expect(wall.get_by_test_id("wall")).not_to_contain_text(seeker["lastName"])  # initials only

    # The provider sees it arrive, and acknowledges it with its contact pre-filled.
    open_row(intake.locator(f'[data-testid="inbound-referral"][data-ce-event-id="{event["id"]}"]'))
    workflow = intake.locator(f'[data-testid="ce-workflow"][data-ce-event-id="{event["id"]}"]')
    expect(workflow).to_be_visible(timeout=3000)
    expect(workflow.get_by_label("Contact name")).to_have_value("Priya Shah")
    expect(workflow.get_by_label("Contact email")).to_have_value("intake@demo.referloop.org")
    workflow.get_by_label("Contact phone").fill("+13105550142")
    workflow.get_by_role("button", name="Acknowledge").click()
    expect(workflow).to_have_attribute("data-ce-status", "ACKNOWLEDGED")
    expect(ce_row).to_have_attribute("data-status", "ACKNOWLEDGED", timeout=3000)
    expect(ce_row).to_contain_text("Priya Shah")
    expect(wall.get_by_test_id("ce-waiting-total")).to_have_text(str(waiting_before), timeout=3000)

    # The provider enrolls the client right there, and resolves it: housed.
    workflow.get_by_label("Accepted: the client was housed").check()
    picker = workflow.get_by_label("The client's enrollment in this program")
    expect(picker.locator("option:not([value=''])")).to_have_count(0)
    expect(workflow.get_by_role("button", name="Resolve")).to_be_disabled()
    workflow.get_by_role("button", name="Enroll the client now").click()
    enroll = workflow.get_by_test_id("ce-enroll")
    expect(enroll).to_contain_text(f"Enroll {seeker['firstName']} {seeker['lastName']} as head of household")
    enroll.get_by_label("Prior living situation (3.917)").select_option(label="Safe Haven")
    enroll.get_by_role("button", name="Enroll", exact=True).click()
    expect(enroll).to_have_count(0)
    expect(picker.locator("option:not([value=''])")).to_have_count(1)
    expect(picker).not_to_have_value("")
    enrolled = server.graphql("intake", ENROLLMENTS, {"program": vacancy["programId"], "seeker": seeker["id"]})
    [made] = [e["node"] for e in enrolled["enrollments"]["edges"]]
    assert made["entryDate"] == datetime.date.today().isoformat() and made["priorLivingSituation"] == 118, made
    assert made["relationshipToHoH"] == 1
    workflow.get_by_role("button", name="Resolve").click()
    expect(workflow).to_have_attribute("data-ce-status", "RESOLVED")
    expect(ce_row).to_have_attribute("data-status", "RESOLVED", timeout=3000)
    expect(ce_row).to_contain_text("Accepted")

    # The vacancy is filled and the client is off the list, on the CE page and the wall alike.
    expect(card).to_have_count(0, timeout=3000)
    expect(ce.locator(f'[data-testid="priority-entry"][data-entry-id="{entry_id}"]')).to_have_count(0)
    expect(wall.locator(f'[data-testid="wall-vacancy"][data-vacancy-id="{vacancy["id"]}"]')).to_have_count(0, timeout=3000)
    # The wall's Today tells the day's CE results in the CE team's words, and its header counts them.
    expect(wall.locator('[data-testid="wall-change"][data-ce-action="RESOLVED"]').first).to_contain_text("Housed", timeout=3000)
    expect(wall.get_by_test_id("ce-housed-today")).not_to_have_text("0")
    expect(wall.get_by_test_id("ce-acknowledged-today")).not_to_have_text("0")
    _rows_are_whole(wall)
    _same_document(wall, ce, intake)


def _rows_are_whole(wall: Page) -> None:
    """No panel of the wall cuts a row mid-line: every row shown ends inside its list."""
    cut = wall.evaluate(
        """() => [...document.querySelectorAll('.panel ol')].flatMap((ol) => {
             const bottom = ol.getBoundingClientRect().bottom;
             return [...ol.children].filter((li) => li.style.display !== 'none' && li.getBoundingClientRect().bottom > bottom + 1)
               .map((li) => li.textContent.trim());
           })"""
    )
    assert cut == [], cut


def test_ce_page_puts_vacancies_near_the_top_and_fits_a_phone(server: Server, sign_in: SignIn) -> None:
    vacancy_of_intake(server)
    ce = sign_in("ce", viewport={"width": 1440, "height": 900})
    ce.wait_for_url("**/ce")
    refer = ce.get_by_test_id("vacancy").first.get_by_role("button", name="Refer to this vacancy")
    expect(refer).to_be_visible()
    box = refer.bounding_box()
    assert box is not None and box["y"] < 900, f"the first Refer button is {box} down the page"
    phone = sign_in("ce", viewport={"width": 390, "height": 844})
    phone.wait_for_url("**/ce")
    expect(phone.get_by_test_id("priority-entry").first).to_be_visible()
    phone.get_by_test_id("vacancy").first.get_by_role("button", name="Refer to this vacancy").click()
    expect(phone.get_by_test_id("refer-form")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the CE page is {width} px wide on a 390 px phone"


CREATE_CE_REFERRAL = "mutation($input: CreateCeReferralInput!) { createCeReferral(input: $input) { id version status } }"


def test_provider_resolves_unsuccessfully_and_says_why(server: Server, sign_in: SignIn) -> None:
    """4.20.D result 3 (provider rejected), then the not-housed reason; the CE page follows live."""
    vacancy = vacancy_of_intake(server)
    seeker = free_seeker(server)
    entry_id = entry_for(server, seeker["id"])
    ce = sign_in("ce")
    ce.goto("/ce")
    expect(ce.get_by_test_id("live-indicator")).to_have_text("Live")
    intake = sign_in("intake")
    intake.wait_for_url("**/program")
    expect(intake.get_by_test_id("live-indicator")).to_have_text("Live")

    event = server.graphql("ce", CREATE_CE_REFERRAL, {"input": {"vacancyId": vacancy["id"], "entryId": entry_id}})["createCeReferral"]
    ce_row = ce.locator(f'[data-testid="ce-event"][data-ce-event-id="{event["id"]}"]')
    expect(ce_row).to_have_attribute("data-status", "WAITING", timeout=3000)
    open_row(intake.locator(f'[data-testid="inbound-referral"][data-ce-event-id="{event["id"]}"]'))
    workflow = intake.locator(f'[data-testid="ce-workflow"][data-ce-event-id="{event["id"]}"]')
    expect(workflow).to_be_visible(timeout=3000)
    workflow.get_by_role("button", name="Acknowledge").click()
    expect(workflow).to_have_attribute("data-ce-status", "ACKNOWLEDGED")

    workflow.get_by_label("Unsuccessful: the provider rejected it").check()
    expect(workflow.get_by_label("The client's enrollment in this program")).to_have_count(0)
    workflow.get_by_role("button", name="Resolve").click()
    expect(workflow).to_have_attribute("data-ce-status", "RESOLVED")
    expect(ce_row).to_have_attribute("data-status", "RESOLVED", timeout=3000)
    workflow.get_by_label("Why the client was not housed").select_option("NOT_ELIGIBLE")
    workflow.get_by_role("button", name="Record the reason").click()
    expect(workflow.get_by_test_id("ce-not-housed")).to_have_count(0)
    expect(workflow).to_contain_text("Not eligible")
    expect(ce_row).to_contain_text("Not eligible", timeout=3000)
    expect(ce.locator(f'[data-testid="vacancy"][data-vacancy-id="{vacancy["id"]}"]')).to_be_visible()  # still open


ACKNOWLEDGE = """mutation($input: AcknowledgeCeReferralInput!) {
  acknowledgeCeReferral(input: $input) { id version status } }"""


def test_a_stale_acknowledgement_is_explained_and_reloaded(server: Server, sign_in: SignIn) -> None:
    """CONFLICT: a colleague acknowledged the CE referral since this page loaded, and no push told it."""
    vacancy = vacancy_of_intake(server)
    entry_id = entry_for(server, free_seeker(server)["id"])
    event = server.graphql("ce", CREATE_CE_REFERRAL, {"input": {"vacancyId": vacancy["id"], "entryId": entry_id}})["createCeReferral"]
    intake = sign_in("intake", route_websocket=lambda ws: None)  # the live channel never comes up here
    intake.wait_for_url("**/program")
    open_row(intake.locator(f'[data-testid="inbound-referral"][data-ce-event-id="{event["id"]}"]'))
    workflow = intake.locator(f'[data-testid="ce-workflow"][data-ce-event-id="{event["id"]}"]')
    expect(workflow).to_have_attribute("data-ce-status", "WAITING")

    server.graphql(
        "intake", ACKNOWLEDGE, {"input": {"ceEventId": event["id"], "acknowledgedOn": datetime.date.today().isoformat(), "expectedVersion": event["version"], "providerContactName": "A colleague"}}
    )
    workflow.get_by_role("button", name="Acknowledge").click()
    alert = intake.get_by_role("alert").filter(has_text="Someone else changed")
    expect(alert).to_have_attribute("data-code", "CONFLICT")
    expect(workflow).to_have_attribute("data-ce-status", "ACKNOWLEDGED")  # reloaded: the colleague's acknowledgement
    expect(workflow).to_contain_text("A colleague")
    expect(workflow.get_by_test_id("ce-resolve")).to_be_visible()


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core comes with the dashboards' npm install")
def test_ce_page_passes_axe_wcag_aa(server: Server, sign_in: SignIn) -> None:
    vacancy_of_intake(server)
    entry_for(server, demo_seeker(server)["id"])
    ce = sign_in("ce")
    ce.goto("/ce")
    expect(ce.get_by_test_id("live-indicator")).to_have_text("Live")
    expect(ce.get_by_test_id("priority-entry").first).to_be_visible()
    ce.get_by_test_id("vacancy").first.get_by_role("button", name="Refer to this vacancy").click()
    expect(ce.get_by_test_id("refer-form")).to_be_visible()
    problems = axe_violations(ce)
    assert not problems, "\n".join(problems)
