"""Fixtures of the browser tests: the whole system behind the gateway (tests/web/stack.py), seeded once
(tests/web/seed.py), and Debian's Chromium driven by Playwright (no browser download: executable_path)."""

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from deploy.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.web.seed import seed
from tests.web.stack import USERS, User, WebStack, start

PHONE = {"width": 360, "height": 760}
DESKTOP = {"width": 1280, "height": 860}
REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="package")
def web(pg_server) -> Iterator[WebStack]:
    stack, stop = start(pg_server, asyncio.run)
    try:
        stack.seeded = seed(stack)
        yield stack
    finally:
        stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: $OTOP_SCREENSHOT_DIR (docs/app/ for the committed ones), else a temporary
    folder."""
    folder = Path(os.environ.get("OTOP_SCREENSHOT_DIR") or tmp_path_factory.mktemp("screens"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Session:
    """One user's browser (context) and tab, logged in through Keycloak's own login page."""

    def __init__(self, browser: Browser, web: WebStack, user: User | None, viewport: dict) -> None:
        self.web, self.user = web, user
        self.context: BrowserContext = browser.new_context(
            viewport=viewport, locale="th-TH", timezone_id="Asia/Bangkok"
        )
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def login(self, route: str = "#/") -> Page:
        self.page.goto(f"{self.web.url}/{route}")
        # Keycloak's first logins after its start are slow on a busy machine: more time than other steps.
        self.page.wait_for_url("**/auth/realms/otop/protocol/openid-connect/auth**", timeout=90_000)
        self.page.locator("#username").wait_for(timeout=90_000)
        self.sign_in()
        self.page.wait_for_selector("nav", timeout=90_000)
        return self.page

    def sign_in(self) -> None:
        """Keycloak's login page: username and password, then the one-time code if the account has one."""
        self.page.fill("#username", self.user.username)
        self.page.fill("#password", self.user.password)
        self.page.click("#kc-login")
        if self.user.one_time_secret:
            self.page.locator("#otp").wait_for(timeout=90_000)
            self.page.fill("#otp", self.web.one_time_code(self.user))
            self.page.click("#kc-login")

    def go(self, route: str) -> Page:
        self.page.goto(f"{self.web.url}/{route}")
        self.page.wait_for_selector("main")
        return self.page

    def axe(self) -> list[dict]:
        """axe-core's WCAG 2.1 A/AA violations on the page as it is (axe from npm, evaluated in the page)."""
        self.page.evaluate(AXE.read_text())
        return self.page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations.map(v => ({id: v.id,
            impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html)}))""")

    def close(self) -> None:
        self.context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def session(request, browser, web, shots):
    """session(user_key, viewport=PHONE) -> a logged-in Session; all are closed after the test."""
    opened: list[Session] = []

    def open_session(who: str | None, viewport: dict = PHONE, login: str | None = "#/") -> Session:
        s = Session(browser, web, USERS[who] if who else None, viewport)
        opened.append(s)
        if who and login is not None:
            s.login(login)
        return s

    yield open_session
    failed = getattr(request.node, "report_call", None)
    for n, s in enumerate(opened):
        if failed is not None and failed.failed:  # what each page showed when the test failed
            s.page.screenshot(path=shots / f"FAILED-{request.node.name}-{n}.png", full_page=True)
        s.close()
