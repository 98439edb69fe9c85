"""Browser fixtures: Debian's Chromium driven by Playwright, agents logged in through the UI,
and seed data created through the public API with unique names.

The gateway under test is NYPROD_GATEWAY_URL when that is set (the tests skip when nothing
answers there); otherwise the whole stack is started by the shared ``stack`` fixture.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from harness.client import Api
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 768, "height": 1024}
PASSWORD = "hemligt-losen-42"



def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def gateway_url(request) -> str:
    url = os.environ.get("NYPROD_GATEWAY_URL")
    if url:
        url = url.rstrip("/")
        if not _answers(url):
            pytest.skip(f"no gateway answers at {url}")
        return url
    return request.getfixturevalue("stack").gateway_url


@pytest.fixture(scope="session")
def shot():
    """Saves a full-page screenshot as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    async def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
        # a modal dialog is shot as the agent sees it: the viewport, not the whole page
        modal = await page.locator("dialog[open]").count()
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page and not modal)

    return _shot


@pytest.fixture(scope="session")
async def browser() -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (or make browser)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="session")
async def admin_api(gateway_url) -> Api:
    client = await Api.login(gateway_url)
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def agent_users(admin_api) -> dict[str, str]:
    """Two agents and a viewer of this run, each with their own name (seen in the history)."""
    run = uuid.uuid4().hex[:6]
    users = {"first": f"maklare-a-{run}", "second": f"maklare-b-{run}", "viewer": f"tittare-{run}"}
    for key, name in users.items():
        await admin_api.ok("POST", "/users", 201, json={"username": name, "password": PASSWORD, "role": "viewer" if key == "viewer" else "agent"})
    return users


@dataclass
class Agent:
    """One agent's browser: their own context (cookies, storage), one or more tabs."""

    context: BrowserContext
    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)

    async def new_tab(self) -> Page:
        page = await self.context.new_page()
        watch(page, self.errors)
        await page.goto(f"{self.base_url}/#/prospects")
        await expect(page.get_by_test_id("live-indicator")).to_have_attribute("data-state", "live", timeout=10_000)
        return page


def watch(page: Page, errors: list[str]) -> None:
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))


@pytest.fixture
async def open_agent(browser, gateway_url, agent_users):
    """Logs an agent in through the login page, as a person would; closes their browser after."""
    opened: list[Agent] = []

    async def _open(who: str = "first", *, tablet: bool = False) -> Agent:
        context = await browser.new_context(viewport=TABLET if tablet else LAPTOP, locale="sv-SE")
        page = await context.new_page()
        agent = Agent(context, page, gateway_url)
        watch(page, agent.errors)
        opened.append(agent)
        await page.goto(f"{gateway_url}/")
        await page.get_by_test_id("login-username").fill(agent_users[who])
        await page.get_by_test_id("login-password").fill(PASSWORD)
        await page.get_by_test_id("login-submit").click()
        await expect(page.get_by_test_id("current-username")).to_have_text(agent_users[who])
        await expect(page.get_by_test_id("live-indicator")).to_have_attribute("data-state", "live", timeout=10_000)
        return agent

    yield _open
    for agent in opened:
        await agent.context.close()
    errors = [e for agent in opened for e in agent.errors]
    assert not errors, f"the page threw: {errors}"


@pytest.fixture(scope="session")
def settled():
    """Waits for a booking outcome on the page to be final; gives (status, the words shown)."""
    final = re.compile("^(confirmed|rejected|cancelled|error)$")

    async def _settled(outcome) -> tuple[str, str]:
        await expect(outcome).to_have_attribute("data-outcome", final, timeout=40_000)
        return await outcome.get_attribute("data-outcome"), await outcome.inner_text()

    return _settled


@dataclass
class Launch:
    """A small sales launch of this test's own: a project, its units and interested prospects."""

    project: dict
    units: list[dict]
    prospects: list[dict]


@pytest.fixture
async def launch(admin_api) -> Launch:
    tag = uuid.uuid4().hex[:5].upper()
    project = await admin_api.project(f"Brf Utsikten {tag}")
    units = [
        await admin_api.unit(project["id"], f"{tag}-1101", rooms=2, living_area_sqm=54.5, floor=1, price_sek=2_950_000),
        await admin_api.unit(project["id"], f"{tag}-1102", rooms=3, living_area_sqm=72, floor=1, price_sek=3_650_000),
        await admin_api.unit(project["id"], f"{tag}-1201", rooms=4, living_area_sqm=96.5, floor=2, price_sek=4_890_000),
    ]
    ids = [u["id"] for u in units]
    prospects = [
        await admin_api.prospect("Anna", f"Lindqvist-{tag}", email=f"anna.{tag.lower()}@example.se", phone="070-123 45 67", interests=ids[:2]),
        await admin_api.prospect("Björn", f"Sundberg-{tag}", email=f"bjorn.{tag.lower()}@example.se", interests=ids),
    ]
    return Launch(project, units, prospects)

