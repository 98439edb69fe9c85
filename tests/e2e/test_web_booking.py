"""The seed workflow in the browser: book from the customer card, see it live elsewhere, lose a
race with a clear answer, and cancel."""

from __future__ import annotations

import time

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser

BOOKED_ORANGE = "rgb(194, 90, 0)"
AVAILABLE_GREEN = "rgb(30, 123, 58)"
LIVE = 3_000  # ms: "within a second", with room for a shared 2-core test machine


def unit_row(page: Page, testid: str, unit_id: str):
    return page.locator(f'[data-testid="{testid}"][data-unit-id="{unit_id}"]')


async def open_units_page(page: Page, project_id: str) -> None:
    await page.get_by_test_id("nav-units").click()
    await page.get_by_test_id("filter-project").select_option(project_id)
    await expect(page.get_by_test_id("unit-row").first).to_be_visible()


async def open_card(page: Page, base_url: str, prospect_id: str) -> None:
    await page.goto(f"{base_url}/#/prospects/{prospect_id}")
    await expect(page.get_by_test_id("prospect-card")).to_have_attribute("data-prospect-id", prospect_id)
    await expect(page.get_by_test_id("interest-row").first).to_be_visible()


async def test_booking_shows_live_on_every_open_page_when_agent_books_from_customer_card(open_agent, launch, shot, settled):
    anna, bjorn = launch.prospects
    unit = launch.units[0]
    first = await open_agent("first")
    second = await open_agent("second")

    # Another agent watches the units page and, in a second tab, Björn's customer card.
    units_tab = second.page
    await open_units_page(units_tab, launch.project["id"])
    await expect(unit_row(units_tab, "unit-row", unit["id"]).get_by_test_id("unit-status")).to_have_attribute("data-status", "available")
    card_tab = await second.new_tab()
    await open_card(card_tab, second.base_url, bjorn["id"])
    their_boka = unit_row(card_tab, "interest-row", unit["id"]).get_by_test_id("book-button")
    await expect(their_boka).to_be_enabled()
    for tab in (units_tab, card_tab):
        await tab.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    # The first agent finds Anna by searching and opens her customer card.
    page = first.page
    await expect(page.get_by_test_id("prospect-row").first).to_be_visible()
    await shot(page, "01-intressenter")
    search = page.get_by_test_id("prospect-search")
    await search.fill(anna["last_name"])
    await search.press("Enter")
    await expect(page.get_by_test_id("prospect-row")).to_have_count(1)
    await expect(page.get_by_test_id("prospect-search")).to_be_focused()  # ready to search again
    await shot(page, "02-intressenter-sokning")
    await page.get_by_test_id("prospect-row").get_by_test_id("prospect-link").click()
    await expect(page.get_by_test_id("prospect-name")).to_have_text(f"Anna {anna['last_name']}")
    mine = unit_row(page, "interest-row", unit["id"])
    await expect(mine.get_by_test_id("unit-status")).to_have_attribute("data-status", "available")
    await expect(mine.get_by_test_id("unit-status")).to_have_css("color", AVAILABLE_GREEN)
    await expect(page.get_by_test_id("prospect-status")).to_have_attribute("data-status", "prospect")
    await shot(page, "03-kundkort")

    # BOKA → "Vill du boka?" with the unit's facts → OK → "Bokad!"
    await mine.get_by_test_id("book-button").click()
    dialog = page.get_by_test_id("book-dialog")
    await expect(dialog.get_by_role("heading", name="Vill du boka?")).to_be_visible()
    facts = dialog.get_by_test_id("book-unit-facts")
    for fact in (unit["name"], "54,5 m²", "2 950 000 kr"):
        await expect(facts).to_contain_text(fact)
    await expect(dialog.get_by_test_id("book-dialog-ok")).to_be_focused()
    await shot(page, "04-vill-du-boka")
    await dialog.get_by_test_id("book-dialog-ok").click()
    outcome = dialog.get_by_test_id("book-outcome")
    state, words = await settled(outcome)
    assert state == "confirmed", words
    confirmed_at = time.monotonic()
    await expect(outcome).to_contain_text("Bokad!")
    await shot(page, "05-bokad")

    # Every other open page follows within moments, without a reload.
    await expect(unit_row(units_tab, "unit-row", unit["id"]).get_by_test_id("unit-status")).to_have_attribute("data-status", "booked", timeout=LIVE)
    await expect(their_boka).to_be_disabled(timeout=LIVE)
    print(f"other agent's pages updated {time.monotonic() - confirmed_at:.2f}s after the confirmation")
    assert await units_tab.evaluate("window.sameDocument") and await card_tab.evaluate("window.sameDocument")
    await expect(unit_row(units_tab, "unit-row", unit["id"]).get_by_test_id("unit-status")).to_have_css("color", BOOKED_ORANGE)
    await expect(unit_row(units_tab, "unit-row", unit["id"]).get_by_test_id("buyer-chip")).to_contain_text("Anna", timeout=LIVE)

    # The card itself: unit orange, BOKA grey, Anna a buyer, the booking listed.
    await dialog.get_by_test_id("book-dialog-close").click()
    await expect(dialog).to_have_count(0)
    await expect(mine.get_by_test_id("unit-status")).to_have_attribute("data-status", "booked")
    await expect(mine.get_by_test_id("unit-status")).to_have_css("color", BOOKED_ORANGE)
    await expect(mine.get_by_test_id("book-button")).to_be_disabled()
    await expect(page.get_by_test_id("prospect-status")).to_have_attribute("data-status", "buyer", timeout=LIVE)
    await expect(page.get_by_test_id("booking-row").get_by_test_id("booking-status")).to_have_attribute("data-status", "confirmed")
    await shot(page, "06-kundkort-efter-bokning")
    await shot(units_tab, "07-objekt-live")
    await shot(card_tab, "08-annat-kundkort-live")

    # The buyer copy appears on the Köpare page with the unit.
    await page.get_by_test_id("nav-buyers").click()
    await page.get_by_test_id("buyers-search").fill(anna["last_name"])
    await page.get_by_test_id("buyers-search").press("Enter")
    buyer = page.get_by_test_id("buyer-row")
    await expect(buyer).to_have_count(1, timeout=LIVE)
    await expect(buyer.get_by_test_id("buyer-unit")).to_contain_text(unit["name"])
    await shot(page, "09-kopare")


async def test_second_agent_hears_already_booked_when_first_agent_just_took_the_unit(open_agent, launch, shot, settled):
    anna, bjorn = launch.prospects
    unit = launch.units[1]  # both want it
    first = await open_agent("first")
    second = await open_agent("second")

    # The second agent opens the confirm popup for Björn and hesitates.
    late = second.page
    await open_card(late, second.base_url, bjorn["id"])
    await unit_row(late, "interest-row", unit["id"]).get_by_test_id("book-button").click()
    late_dialog = late.get_by_test_id("book-dialog")
    await expect(late_dialog.get_by_test_id("book-unit-facts")).to_contain_text(unit["name"])

    # Meanwhile the first agent books it for Anna.
    early = first.page
    await open_card(early, first.base_url, anna["id"])
    await unit_row(early, "interest-row", unit["id"]).get_by_test_id("book-button").click()
    await early.get_by_test_id("book-dialog-ok").click()
    state, words = await settled(early.get_by_test_id("book-outcome"))
    assert state == "confirmed", words

    # Behind the popup the second agent's BOKA has already greyed out; OK gets a clear no.
    await expect(unit_row(late, "interest-row", unit["id"]).get_by_test_id("book-button")).to_be_disabled(timeout=LIVE)
    await late_dialog.get_by_test_id("book-dialog-ok").click()
    outcome = late_dialog.get_by_test_id("book-outcome")
    state, words = await settled(outcome)
    assert state == "rejected", words
    await expect(outcome).to_contain_text("Objektet är redan bokat")
    await shot(late, "10-redan-bokat")
    await late_dialog.get_by_test_id("book-dialog-close").click()
    rejected = late.get_by_test_id("booking-row").filter(has=late.locator('[data-status="rejected"]'))
    await expect(rejected.get_by_test_id("booking-reason")).to_have_text("Objektet är redan bokat")
    await expect(late.get_by_test_id("prospect-status")).to_have_attribute("data-status", "prospect")


async def test_unit_turns_green_again_live_when_agent_cancels_booking_on_customer_card(open_agent, launch, admin_api, shot):
    anna = launch.prospects[0]
    unit = launch.units[0]
    booking = await admin_api.book(anna["id"], unit["id"])
    assert (await admin_api.final(booking["booking_id"]))["status"] == "confirmed"
    first = await open_agent("first")
    second = await open_agent("second")
    watcher = second.page
    await open_units_page(watcher, launch.project["id"])
    watched = unit_row(watcher, "unit-row", unit["id"])
    await expect(watched.get_by_test_id("unit-status")).to_have_attribute("data-status", "booked")
    await expect(watched.get_by_test_id("buyer-chip")).to_contain_text("Anna")

    page = first.page
    await open_card(page, first.base_url, anna["id"])
    booking_row = page.locator(f'[data-testid="booking-row"][data-booking-id="{booking["booking_id"]}"]')
    await booking_row.get_by_test_id("cancel-booking").click()
    dialog = page.get_by_test_id("cancel-dialog")
    await expect(dialog.get_by_test_id("cancel-reason")).to_be_focused()
    await dialog.get_by_test_id("cancel-reason").fill("Kunden ångrade sig")
    await shot(page, "11-avboka")
    await dialog.get_by_test_id("cancel-confirm").click()
    await expect(dialog).to_have_count(0)

    await expect(booking_row.get_by_test_id("booking-status")).to_have_attribute("data-status", "cancelled", timeout=LIVE)
    mine = unit_row(page, "interest-row", unit["id"])
    await expect(mine.get_by_test_id("unit-status")).to_have_attribute("data-status", "available", timeout=LIVE)
    await expect(mine.get_by_test_id("book-button")).to_be_enabled()
    await expect(watched.get_by_test_id("unit-status")).to_have_attribute("data-status", "available", timeout=LIVE)
    await expect(watched.get_by_test_id("unit-status")).to_have_css("color", AVAILABLE_GREEN)
    await expect(watched.get_by_test_id("buyer-chip")).to_have_count(0, timeout=LIVE)
    await expect(page.get_by_test_id("prospect-status")).to_have_attribute("data-status", "prospect", timeout=LIVE)
    await shot(page, "12-kundkort-efter-avbokning")

    # The unit card's history tells who did what, and why.
    await mine.get_by_test_id("unit-link").click()
    await expect(page.get_by_test_id("unit-name")).to_have_text(unit["name"])
    await expect(page.get_by_test_id("history-row").first).to_be_visible()
    await expect(page.get_by_test_id("history-list")).to_contain_text("Kunden ångrade sig")
    await shot(page, "13-objektkort-historik")
