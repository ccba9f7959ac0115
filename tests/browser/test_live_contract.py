"""The dashboards follow the API's contract: they offer exactly what `viewerCan` says, load their
page and then follow from its `lastSeq`, describe each event by its own change, and the CE wall
lives on its own wall-only shapes and subscription."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from typing import Any, TypedDict

import pytest
from playwright.sync_api import Locator, Page, Route, ViewportSize, WebSocketRoute, expect

from tests.browser.conftest import PHONE, Server, SignIn, open_row
from tests.browser.test_dashboards import DroppableLink, _make_referral, demo_seeker, droppable_route, live_program_of_intake

WALL: ViewportSize = {"width": 1920, "height": 1080}
SEEKER_CHOICES = ["GOT_HELP", "COULDNT_GET_HELP", "NO_LONGER_INTERESTED"]
SEEKER_WORDS = ["I got help", "I couldn't get help", "I don't need this anymore"]
VIEWER_CAN = "query($id: ID!) { referral(id: $id) { status viewerCan { statuses comment } } }"
UPDATE = "mutation($input: UpdateReferralStatusInput!) { updateReferralStatus(input: $input) { id version status } }"


class HeldSubscriptions(TypedDict):
    """What _holding_subscriptions keeps: whether to hold subscribes now, the held ones (with the
    server side each is for), and the payload of every subscribe the page sent."""

    hold: bool
    held: list[tuple[WebSocketRoute, str | bytes]]
    subscribes: list[dict[str, Any]]


def refer_demo_seeker(server: Server, program: dict[str, Any], seeker: dict[str, Any]) -> dict[str, Any]:
    """The navigator refers seeker@'s own profile to a live program (through the API)."""
    answers = [{"key": q["key"], "value": q["choices"][0] if q["choices"] else "Yes"} for q in program["screener"]]
    data = server.graphql(
        "navigator",
        "mutation($input: CreateReferralInput!) { createReferral(input: $input) { id version status kind } }",
        # Each test wants a referral of its own, whatever the seeker already has open there.
        {"input": {"programId": program["id"], "seekerId": seeker["id"], "contactPreference": "NONE", "consent": True,
                   "screenerAnswers": answers, "overrideDuplicateReason": "Browser test: a referral of its own"}},
    )
    referral = data["createReferral"]
    assert isinstance(referral, dict), data
    assert referral["kind"] == "LIVE", referral
    return referral


def _attribute(element: Locator, name: str) -> str:
    """An attribute the element must have."""
    value = element.get_attribute(name)
    assert value is not None, f"no {name} attribute"
    return value


def last_seq(server: Server) -> int:
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
        return int(json.loads(response.read())["lastSeq"])


def test_seeker_and_program_are_offered_exactly_what_viewer_can_says(server: Server, sign_in: SignIn) -> None:
    program = live_program_of_intake(server)
    seeker = demo_seeker(server)
    page = sign_in("seeker", viewport=PHONE)
    expect(page.get_by_test_id("live-indicator")).to_have_text("Live")
    expect(page.get_by_test_id("seeker-referral").first).to_be_visible()

    referral = refer_demo_seeker(server, program, seeker)
    card = page.locator(f'[data-testid="seeker-referral"][data-referral-id="{referral["id"]}"]')
    expect(card).to_be_visible(timeout=3000)  # pushed live

    # Exactly the three statuses a seeker may set, in their own words; none of the program's.
    api = server.graphql("seeker", VIEWER_CAN, {"id": referral["id"]})["referral"]
    assert api["viewerCan"]["statuses"] == SEEKER_CHOICES, api
    choices = card.get_by_test_id("seeker-choices").get_by_role("button")
    expect(choices).to_have_text(SEEKER_WORDS)
    assert [b.get_attribute("data-status-choice") for b in choices.all()] == SEEKER_CHOICES
    expect(card.get_by_test_id("status-select")).to_have_count(0)
    expect(card.get_by_role("button", name=re.compile(r"eligible|pending|capacity|contact|elsewhere|action", re.I))).to_have_count(0)
    expect(card.get_by_label("Add a comment")).to_be_visible()  # viewerCan.comment

    # The seeker says they don't need it anymore (and confirms): the referral is closed, so viewerCan
    # offers no more choices, and the page shows none (only the undo, for a while).
    card.get_by_role("button", name="I don't need this anymore").click()
    card.get_by_role("button", name="Yes, mark it").click()
    expect(card.locator('[data-status="NO_LONGER_INTERESTED"]')).to_be_visible()
    expect(choices).to_have_count(0)
    api = server.graphql("seeker", VIEWER_CAN, {"id": referral["id"]})["referral"]
    assert api["viewerCan"]["statuses"] == []

    # The program's intake staff get every status their viewerCan lists, and no other.
    intake = sign_in("intake")
    inbound = intake.locator(f'[data-testid="inbound-referral"][data-referral-id="{referral["id"]}"]')
    open_row(inbound)
    api = server.graphql("intake", VIEWER_CAN, {"id": referral["id"]})["referral"]
    offered = inbound.get_by_test_id("status-select").locator("option:not([value=''])")
    expect(offered).to_have_count(len(api["viewerCan"]["statuses"]))
    assert sorted(_attribute(o, "value") for o in offered.all()) == sorted(api["viewerCan"]["statuses"])
    assert "NO_LONGER_INTERESTED" not in api["viewerCan"]["statuses"]  # the current status is never offered
    expect(inbound.get_by_label("Add a comment")).to_be_visible()


def _nothing_allowed(route: Route) -> None:
    """Answer /graphql as the server does, but with every viewerCan saying "nothing"."""
    response = route.fetch()
    body = response.json()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "viewerCan" and isinstance(item, dict):
                    value[key] = {"statuses": [], "comment": False}
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body)
    route.fulfill(response=response, json=body)


def test_nothing_is_offered_when_viewer_can_is_empty(server: Server, sign_in: SignIn) -> None:
    seeker = sign_in("seeker", viewport=PHONE)
    intake = sign_in("intake")
    for page, testid in ((seeker, "seeker-referral"), (intake, "inbound-referral")):
        page.context.route("**/graphql", _nothing_allowed)
        page.reload()
        cards = page.get_by_test_id(testid)
        expect(cards.first).to_be_visible()
        assert cards.count() > 0
        if testid == "inbound-referral":
            open_row(cards.first)  # the compact queue: the status form and comments are in its details
        expect(page.get_by_test_id("seeker-choices")).to_have_count(0)
        expect(page.get_by_test_id("status-update")).to_have_count(0)
        expect(page.get_by_test_id("status-select")).to_have_count(0)
        expect(page.get_by_label("Add a comment")).to_have_count(0)
        expect(page.get_by_role("button", name="Add comment")).to_have_count(0)
        expect(cards.first.get_by_role("heading", name="Comments")).to_be_visible()  # still shown, read-only


def _holding_subscriptions(state: HeldSubscriptions) -> Callable[[WebSocketRoute], None]:
    """A websocket route that passes everything through except `subscribe`, held until released."""

    def route(ws: WebSocketRoute) -> None:
        upstream = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            try:
                parsed = json.loads(message)
            except (TypeError, ValueError):
                parsed = {}
            if parsed.get("type") == "subscribe":
                state["subscribes"].append(parsed["payload"])
                if state["hold"]:
                    state["held"].append((upstream, message))
                    return
            upstream.send(message)

        ws.on_message(to_server)

    return route


def _wait_for(page: Page, predicate: Callable[[], bool], timeout_ms: int = 10_000) -> None:
    waited = 0
    while not predicate():
        if waited >= timeout_ms:
            pytest.fail("timed out")
        page.wait_for_timeout(50)
        waited += 50


@pytest.mark.parametrize(
    ("who", "row"),
    [("seeker", "seeker-referral"), ("navigator", "person-referral"), ("intake", "inbound-referral")],
)
def test_a_change_between_load_and_subscribe_is_not_lost(server: Server, sign_in: SignIn, who: str, row: str) -> None:
    """The page subscribes with its query's lastSeq: a change made before the subscription reached
    the server is replayed to it."""
    program = live_program_of_intake(server)
    seeker = demo_seeker(server)
    state: HeldSubscriptions = {"hold": True, "held": [], "subscribes": []}
    loaded_at = last_seq(server)
    page = sign_in(who, viewport=PHONE if who == "seeker" else None, route_websocket=_holding_subscriptions(state))
    expect(page.get_by_test_id(row).first).to_be_visible()
    _wait_for(page, lambda: len(state["held"]) == 1)
    variables = state["subscribes"][0]["variables"]
    assert "referralChanged" in state["subscribes"][0]["query"]
    assert variables.get("afterSeq") == loaded_at, f"subscribe after the page's lastSeq {loaded_at}: {variables}"
    page.evaluate("window.__sameDocument = true")

    referral = refer_demo_seeker(server, program, seeker)  # the seeker's, the navigator's and the program's
    page.wait_for_timeout(700)  # committed and announced to everyone already subscribed; not to this page
    card = page.locator(f'[data-testid="{row}"][data-referral-id="{referral["id"]}"]')
    expect(card).to_have_count(0)

    state["hold"] = False
    for upstream, message in state["held"]:
        upstream.send(message)
    expect(card).to_be_visible(timeout=3000)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"


def _feed_rows(wall: Page, referral_id: str) -> Locator:
    return wall.locator(f'[data-testid="wall-change"][data-referral-id="{referral_id}"] strong')


def test_wall_today_tells_each_change_once_as_it_happened(server: Server, sign_in: SignIn) -> None:
    """A navigator sets Eligible, then Got help: the wall (which may not see the referral itself, a
    non-housing one) shows each change from its own fromStatus/toStatus, once, live and after a reload."""
    program = live_program_of_intake(server)
    state: HeldSubscriptions = {"hold": False, "held": [], "subscribes": []}
    board_seq = server.graphql("ce", 'query { wallboard(cocCode: "CA-600") { lastSeq } }')["wallboard"]["lastSeq"]
    wall = sign_in("ce", viewport=WALL, route_websocket=_holding_subscriptions(state), start="/wall/CA-600")
    wall.wait_for_url("**/wall/**")
    expect(wall.get_by_test_id("live-indicator")).to_have_text("Live")
    _wait_for(wall, lambda: len(state["subscribes"]) >= 1)
    first = state["subscribes"][0]
    assert "wallboardChanged" in first["query"] and "referralChanged" not in first["query"], first["query"]
    assert first["variables"] == {"cocCode": "CA-600", "afterSeq": board_seq}, first["variables"]
    wall.evaluate("window.__sameDocument = true")
    total = wall.get_by_test_id("open-total")
    open_before = int(total.inner_text())

    navigator = sign_in("navigator")
    expect(navigator.get_by_test_id("live-indicator")).to_have_text("Live")
    referral = _make_referral(server, program)
    rows = _feed_rows(wall, referral["id"])
    expect(rows).to_have_text(["New referral"], timeout=3000)
    expect(total).to_have_text(str(open_before + 1))
    # The CE manager gets no full referral for a non-housing program: the wall needs wallboardChanged.
    full = server.post_json(
        "/graphql", {"query": "query($id: ID!) { referral(id: $id) { id } }", "variables": {"id": referral["id"]}}, token=server.token("ce")
    )
    assert full["data"]["referral"] is None and full["errors"][0]["extensions"]["code"] == "NOT_FOUND", full

    # The navigator sets Eligible, then Got help, on their own page.
    mine = navigator.locator(f'[data-testid="person-referral"][data-referral-id="{referral["id"]}"]')
    expect(mine).to_be_visible(timeout=3000)
    mine.locator("summary").first.click()
    for status in ("ELIGIBLE", "GOT_HELP"):
        mine.get_by_test_id("status-select").select_option(status)
        mine.get_by_role("button", name="Update status").click()
        expect(mine.locator(f'[data-status="{status}"]')).to_be_visible()
    expect(mine.get_by_test_id("status-select").locator('option[value="GOT_HELP"]')).to_have_count(0)

    told = ["Eligible → Got help", "Not updated yet → Eligible", "New referral"]  # newest first
    expect(rows).to_have_text(told, timeout=3000)
    expect(total).to_have_text(str(open_before))  # Got help is not open: the board was refetched
    wall.wait_for_timeout(1000)  # the debounced refetches have merged the board's own changesToday
    expect(rows).to_have_text(told)
    assert wall.evaluate("window.__sameDocument") is True, "the wall reloaded"

    # The board's changesToday tells the same story on a fresh load.
    wall.reload()
    expect(wall.get_by_test_id("live-indicator")).to_have_text("Live")
    expect(_feed_rows(wall, referral["id"])).to_have_text(told)


def test_wall_replay_after_a_drop_tells_each_change_once(server: Server, sign_in: SignIn) -> None:
    """Two changes while the wall is away: the replay shows each from its own change, not twice the last."""
    state: DroppableLink = {"blocked": False, "current": None, "subscribes": []}
    route = droppable_route(state)

    program = live_program_of_intake(server)
    wall = sign_in("ce", viewport=WALL, route_websocket=route, start="/wall/CA-600")
    wall.wait_for_url("**/wall/**")
    expect(wall.get_by_test_id("live-indicator")).to_have_text("Live")
    referral = _make_referral(server, program)
    rows = _feed_rows(wall, referral["id"])
    expect(rows).to_have_text(["New referral"], timeout=3000)

    state["blocked"] = True
    assert state["current"] is not None, "the wall never opened its websocket"
    ws, upstream = state["current"]
    ws.close(code=1011, reason="test: network down")
    upstream.close()
    expect(wall.get_by_test_id("live-indicator")).to_have_text("Reconnecting…")
    version = referral["version"]
    for status in ("PENDING", "NO_CAPACITY"):
        version = server.graphql("intake", UPDATE, {"input": {"referralId": referral["id"], "status": status, "expectedVersion": version}})[
            "updateReferralStatus"
        ]["version"]
    state["blocked"] = False
    expect(wall.get_by_test_id("live-indicator")).to_have_text("Live", timeout=20_000)
    expect(rows).to_have_text(["Pending → No capacity", "Not updated yet → Pending", "New referral"], timeout=5000)
    assert state["subscribes"][-1].get("afterSeq"), state["subscribes"]
