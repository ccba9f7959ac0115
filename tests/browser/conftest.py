"""Browser tests: the real server on a fresh demo database, driven through Debian's Chromium.

Run on their own (Playwright's sync API and pytest-asyncio do not mix):
    .venv/bin/pytest tests/browser -q -p no:asyncio
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:  # at run time Playwright is imported by the browser fixture, once Chromium is known to be there
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, WebSocketRoute

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist" / "index.html"
CHROMIUM = os.environ.get("REFERLOOP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Background tabs must keep their timers and sockets running: several people are watching at once.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
PASSWORD = "referloop-demo"
ACCOUNTS = {
    "seeker": "seeker@demo.referloop.org",
    "navigator": "navigator@demo.referloop.org",
    "intake": "intake@demo.referloop.org",
    "ce": "ce@demo.referloop.org",
    "admin": "admin@demo.referloop.org",
    "multi": "multi@demo.referloop.org",  # program staff in one organization, navigator in another
    "caseworker": "caseworker@demo.referloop.org",  # County DCFS: on the shared cases, sees them as consent says
    "housing-cm": "housing-cm@demo.referloop.org",  # Harbor Supportive Housing: leads the shared cases
    "housing-admin": "housing-admin@demo.referloop.org",
}
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
SCREENSHOTS = ROOT / "var" / "screenshots"
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    env: dict[str, str]

    def post_json(self, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"content-type": "application/json", "accept": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        assert isinstance(answer, dict), answer
        return answer

    def token(self, who: str) -> str:
        token = self.post_json("/auth/login", {"email": ACCOUNTS[who], "password": PASSWORD})["token"]
        assert isinstance(token, str), token
        return token

    def graphql(self, who: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.post_json("/graphql", {"query": query, "variables": variables or {}}, token=self.token(who))
        assert not body.get("errors"), body["errors"]
        data = body["data"]
        assert isinstance(data, dict), body
        return data


def _ensure_dashboards_built() -> None:
    if DIST.is_file():
        return
    app = ROOT / "web" / "app"
    subprocess.run("npm ci --no-audit --no-fund --loglevel=error && npm run build", shell=True, cwd=app, check=True)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _ensure_dashboards_built()
    tmp = tmp_path_factory.mktemp("browser-db")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'db.sqlite3'}",
        "REFERLOOP_ENV": "development",
        "PYTHONUNBUFFERED": "1",
        # One server for the whole suite, which opens the demo navigator's page dozens of times a
        # minute, far beyond what a person does (the default rates are for people: README, "Limits").
        "RATE_LIMIT_WORKER_BURST": "50000000",
    }
    env.pop("BROADCAST_URL", None)
    for command in (["migrate"], ["seed"]):
        subprocess.run([sys.executable, "-m", "web.cli", *command], cwd=ROOT, env=env, check=True)
    log = open(tmp / "server.log", "w")  # noqa: SIM115 - closed after the server stops
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "web.app:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{(tmp / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer /healthz:\n{(tmp / 'server.log').read_text()}")
            time.sleep(0.1)
        yield Server(url=url, env=env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class SignIn(Protocol):
    """The sign_in fixture: who signs in, at what size, and what stands between the page and its websocket."""

    def __call__(
        self,
        who: str,
        *,
        viewport: ViewportSize | None = None,
        route_websocket: Callable[[WebSocketRoute], Any] | None = None,
        start: str | None = None,
    ) -> Page: ...


@pytest.fixture
def sign_in(browser: Browser, server: Server) -> Iterator[SignIn]:
    """sign_in("navigator") -> a page signed in through the sign-in form, in its own browser context."""
    contexts: list[BrowserContext] = []

    def open_as(
        who: str,
        *,
        viewport: ViewportSize | None = None,
        route_websocket: Callable[[WebSocketRoute], Any] | None = None,
        start: str | None = None,
    ) -> Page:
        context = browser.new_context(viewport=viewport or DESKTOP, base_url=server.url)
        context.set_default_timeout(10_000)
        if route_websocket is not None:
            # Stands between the page and the server's websocket, to cut or hold the live channel.
            context.route_web_socket("**/graphql", route_websocket)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: print(f"[{who}] page error: {error}"))
        page.goto("/login")
        page.get_by_label("Email").fill(ACCOUNTS[who])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        if start is not None:  # e.g. "/wall/": CE managers land on /ce, the wall is opened on its own screen
            page.goto(start)
        return page

    yield open_as
    for context in contexts:
        context.close()


def save_screenshot(page: Page, name: str, *, doc: bool = True) -> Path:
    """var/screenshots/<name>.png (git-ignored), every run.

    The committed copy in docs/screenshots/ (shown in the README) is written when it is missing, or
    on every run with REFERLOOP_DOC_SCREENSHOTS=1, so that ordinary test runs leave git clean.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    committed = DOC_SCREENSHOTS / f"{name}.png"
    if doc and (not committed.exists() or os.environ.get("REFERLOOP_DOC_SCREENSHOTS") == "1"):
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, committed)
    return path


def open_row(row: Any) -> Any:
    """Open a row of the compact intake queue (Inbound Referrals) into its details; the row, for chaining."""
    button = row.get_by_test_id("row-button")
    button.wait_for()
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    row.get_by_test_id("referral-details").wait_for()
    return row
