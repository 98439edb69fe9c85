"""The web client's everyday qualities: roles, language, forms and their errors, keyboard use,
tablet layout, and catching up after the live connection was lost."""

from __future__ import annotations

import os
import signal
import uuid

import httpx
import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser

LIVE = 3_000


def unit_row(page: Page, testid: str, unit_id: str):
    return page.locator(f'[data-testid="{testid}"][data-unit-id="{unit_id}"]')


async def test_viewer_sees_no_write_buttons_when_logged_in_read_only(open_agent, launch, shot):
    anna = launch.prospects[0]
    viewer = await open_agent("viewer")
    page = viewer.page
    await expect(page.get_by_test_id("current-role")).to_have_text("Läsbehörighet")
    await expect(page.get_by_test_id("prospect-row").first).to_be_visible()
    await expect(page.get_by_test_id("add-prospect")).to_have_count(0)

    await page.goto(f"{viewer.base_url}/#/prospects/{anna['id']}")
    await expect(page.get_by_test_id("interest-row").first.get_by_test_id("unit-status")).to_be_visible()
    await expect(page.get_by_test_id("available-row").first).to_be_visible()
    for absent in ("book-button", "contact-edit", "interest-edit", "cancel-booking"):
        await expect(page.get_by_test_id(absent)).to_have_count(0)
    await shot(page, "30-kundkort-lasbehorighet")

    await page.goto(f"{viewer.base_url}/#/units/{launch.units[0]['id']}")
    await expect(page.get_by_test_id("unit-data")).to_be_visible()
    for absent in ("unit-edit", "status-change-sold", "add-buyer-form", "unit-cancel-booking"):
        await expect(page.get_by_test_id(absent)).to_have_count(0)
    await page.get_by_test_id("nav-buyers").click()
    await expect(page.get_by_test_id("buyer-list").or_(page.get_by_test_id("buyer-list-empty"))).to_be_visible()
    await expect(page.get_by_test_id("add-buyer")).to_have_count(0)

    await page.get_by_test_id("logout").click()
    await expect(page.get_by_test_id("login-form")).to_be_visible()
    await page.reload()  # the token is gone, not just hidden
    await expect(page.get_by_test_id("login-form")).to_be_visible()


async def test_language_choice_is_remembered_when_page_reloads(open_agent, shot):
    agent = await open_agent("first")
    page = agent.page
    await expect(page.get_by_test_id("nav-units")).to_have_text("Objekt")
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("nav-units")).to_have_text("Units")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await page.reload()
    await expect(page.get_by_test_id("nav-units")).to_have_text("Units")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Prospects")
    await shot(page, "31-english")
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.get_by_test_id("nav-units")).to_have_text("Objekt")


async def test_plus_button_adds_prospect_with_interests_when_agent_fixes_a_bad_email(open_agent, launch, shot):
    last_name = f"Ekström-{uuid.uuid4().hex[:6]}"
    unit = launch.units[2]
    agent = await open_agent("first")
    page = agent.page
    await page.get_by_test_id("add-prospect").click()
    dialog = page.get_by_test_id("prospect-dialog")
    await dialog.get_by_test_id("field-first_name").fill("Eva")
    await dialog.get_by_test_id("field-last_name").fill(last_name)
    await dialog.get_by_test_id("field-email").fill("inte-en-adress")
    await dialog.get_by_test_id("unit-picker-filter").fill(unit["name"])
    await dialog.locator(f'[data-testid="unit-picker-option"][value="{unit["id"]}"]').check()
    await dialog.get_by_test_id("prospect-form-save").click()

    # The 422 names the field in words, marks it, and the form keeps what was typed.
    await expect(dialog.get_by_test_id("prospect-form-error")).to_contain_text("E-post")
    await expect(dialog.get_by_test_id("field-email")).to_have_attribute("aria-invalid", "true")
    await expect(dialog.get_by_test_id("field-email")).to_be_focused()
    await shot(page, "32-ny-intressent-fel")
    await dialog.get_by_test_id("field-email").fill("eva.ekstrom@example.se")
    await dialog.get_by_test_id("prospect-form-save").click()

    await expect(page.get_by_test_id("prospect-name")).to_have_text(f"Eva {last_name}")
    await expect(unit_row(page, "interest-row", unit["id"])).to_be_visible()
    await expect(page.get_by_test_id("notice-success")).to_contain_text(last_name)

    # The contact data is edited on the card.
    await page.get_by_test_id("contact-edit").click()
    form = page.get_by_test_id("contact-form")
    await form.get_by_test_id("field-phone").fill("076-111 22 33")
    await form.get_by_test_id("field-note").fill("Vill ha balkong mot söder")
    await form.get_by_test_id("contact-save").click()
    data = page.get_by_test_id("contact-data")
    await expect(data.locator('[data-field="phone"]')).to_have_text("076-111 22 33")
    await expect(data.locator('[data-field="note"]')).to_have_text("Vill ha balkong mot söder")
    await shot(page, "33-kundkort-redigerat")

    # Interests are changed on the card too.
    other = launch.units[1]
    await page.get_by_test_id("interest-edit").click()
    dialog = page.get_by_test_id("interest-dialog")
    await dialog.get_by_test_id("unit-picker-filter").fill(other["name"])
    await dialog.locator(f'[data-testid="unit-picker-option"][value="{other["id"]}"]').check()
    await dialog.get_by_test_id("interest-save").click()
    await expect(page.get_by_test_id("interest-row")).to_have_count(2)
    await expect(unit_row(page, "interest-row", other["id"]).get_by_test_id("book-button")).to_be_visible()


async def test_agent_is_asked_to_log_in_again_when_the_token_is_no_longer_valid(open_agent):
    agent = await open_agent("first")
    page = agent.page
    await page.evaluate("localStorage.setItem('nyprod.token', 'no-longer-valid')")
    await page.reload()
    await expect(page.get_by_test_id("login-form")).to_be_visible()
    await expect(page.get_by_test_id("current-username")).to_have_count(0)
    await expect(page.get_by_test_id("notice-error")).to_contain_text("Logga in igen")


async def test_confirm_popup_keeps_focus_inside_and_closes_on_escape_when_used_by_keyboard(open_agent, launch):
    anna = launch.prospects[0]
    unit = launch.units[1]
    agent = await open_agent("first")
    page = agent.page
    await page.goto(f"{agent.base_url}/#/prospects/{anna['id']}")
    boka = unit_row(page, "interest-row", unit["id"]).get_by_test_id("book-button")
    await boka.focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_test_id("book-dialog")
    await expect(dialog.get_by_test_id("book-dialog-ok")).to_be_focused()
    for _ in range(5):
        await page.keyboard.press("Tab")
        assert await dialog.evaluate("d => d.contains(document.activeElement)")
    for _ in range(5):
        await page.keyboard.press("Shift+Tab")
        assert await dialog.evaluate("d => d.contains(document.activeElement)")
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await expect(boka).to_be_focused()
    # nothing was booked
    await expect(unit_row(page, "interest-row", unit["id"]).get_by_test_id("unit-status")).to_have_attribute("data-status", "available")


async def test_pages_fit_the_screen_when_viewed_on_a_tablet(open_agent, launch, shot):
    anna = launch.prospects[0]
    agent = await open_agent("first", tablet=True)
    page = agent.page
    pages = [
        ("40-tablet-intressenter", "#/prospects", "prospect-row"),
        ("41-tablet-kundkort", f"#/prospects/{anna['id']}", "interest-row"),
        ("42-tablet-objekt", f"#/units?project_id={launch.project['id']}", "unit-row"),
        ("43-tablet-objektkort", f"#/units/{launch.units[0]['id']}", "unit-data"),
        ("44-tablet-kopare", "#/buyers", "add-buyer"),
    ]
    for name, route, marker in pages:
        await page.goto(f"{agent.base_url}/{route}")
        await expect(page.get_by_test_id(marker).first).to_be_visible()
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{route} is {overflow}px wider than a tablet"
        await shot(page, name)


@pytest.fixture
def own_stack(request):
    """The stack these tests started themselves (its gateway may be restarted)."""
    if os.environ.get("NYPROD_GATEWAY_URL"):
        pytest.skip("the gateway under test is not ours to restart")
    return request.getfixturevalue("stack")


async def test_page_catches_up_after_reconnecting_when_gateway_was_down(own_stack, open_agent, launch, shot):
    anna = launch.prospects[0]
    unit = launch.units[2]
    agent = await open_agent("second")
    page = agent.page
    await page.goto(f"{agent.base_url}/#/units?project_id={launch.project['id']}")
    status = unit_row(page, "unit-row", unit["id"]).get_by_test_id("unit-status")
    await expect(status).to_have_attribute("data-status", "available")
    indicator = page.get_by_test_id("live-indicator")

    own_stack.kill_service("gateway", signal.SIGTERM)
    try:
        await expect(indicator).not_to_have_attribute("data-state", "live", timeout=10_000)
        await shot(page, "45-live-ateransluter")
        # Booked while the page could not hear it: straight at the prospects service.
        async with httpx.AsyncClient(base_url=own_stack.url("prospects"), timeout=10) as prospects:
            resp = await prospects.post("/api/v1/bookings", json={"prospect_id": anna["id"], "unit_id": unit["id"]}, headers={"X-Nyprod-User": "e2e"})
            assert resp.status_code in (200, 202), resp.text
            final = (await prospects.get(f"/api/v1/bookings/{resp.json()['booking_id']}", params={"wait": 20})).json()
            assert final["status"] == "confirmed", final
    finally:
        own_stack.start_service("gateway")
        await own_stack.wait_ready("gateway")

    await expect(indicator).to_have_attribute("data-state", "live", timeout=20_000)
    await expect(status).to_have_attribute("data-status", "booked", timeout=LIVE)


async def test_a_stopped_service_is_told_in_words_and_the_page_keeps_working_when_units_is_down(own_stack, open_agent, shot):
    agent = await open_agent("first")
    page = agent.page
    own_stack.kill_service("units", signal.SIGTERM)
    try:
        await page.get_by_test_id("nav-units").click()
        await expect(page.get_by_test_id("inline-message")).to_contain_text("inte tillgänglig just nu", timeout=15_000)
        await shot(page, "46-tjansten-nere")
        await page.get_by_test_id("nav-prospects").click()
        await expect(page.get_by_test_id("prospect-row").first).to_be_visible()
    finally:
        own_stack.start_service("units")
        await own_stack.wait_ready("units")
    await page.get_by_test_id("nav-units").click()
    await expect(page.get_by_test_id("unit-row").first).to_be_visible()
