"""The unit card and the buyer page in the browser: status changes, Avboka, adding and removing
buyers."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser

LIVE = 3_000


def unit_row(page: Page, testid: str, unit_id: str):
    return page.locator(f'[data-testid="{testid}"][data-unit-id="{unit_id}"]')


async def open_unit_card(page: Page, base_url: str, unit_id: str) -> None:
    await page.goto(f"{base_url}/#/units/{unit_id}")
    await expect(page.get_by_test_id("unit-card")).to_have_attribute("data-unit-id", unit_id)
    await expect(page.get_by_test_id("unit-data")).to_be_visible()


async def test_unit_card_reserves_sells_and_cancels_when_agent_manages_a_booked_unit(open_agent, launch, admin_api, shot):
    anna = launch.prospects[0]
    unit = launch.units[0]
    booking = await admin_api.book(anna["id"], unit["id"])
    assert (await admin_api.final(booking["booking_id"]))["status"] == "confirmed"
    first = await open_agent("first")
    second = await open_agent("second")
    watcher = second.page
    await watcher.get_by_test_id("nav-units").click()
    await watcher.get_by_test_id("filter-project").select_option(launch.project["id"])
    watched = unit_row(watcher, "unit-row", unit["id"]).get_by_test_id("unit-status")
    await expect(watched).to_have_attribute("data-status", "booked")

    page = first.page
    await open_unit_card(page, first.base_url, unit["id"])
    status = page.get_by_test_id("unit-card").get_by_test_id("unit-status").first
    await expect(status).to_have_attribute("data-status", "booked")
    await expect(page.get_by_test_id("section-unit-buyers").get_by_test_id("buyer-chip")).to_contain_text("Anna")

    # Edit the unit's data; the other agent's list follows.
    await page.get_by_test_id("unit-edit").click()
    form = page.get_by_test_id("unit-form")
    await form.get_by_test_id("field-price_sek").fill("3100000")
    await form.get_by_test_id("field-description").fill("Balkong i söderläge")
    await form.get_by_test_id("unit-form-save").click()
    await expect(page.get_by_test_id("unit-data")).to_contain_text("3 100 000 kr")
    await expect(page.get_by_test_id("unit-data")).to_contain_text("Balkong i söderläge")
    await expect(unit_row(watcher, "unit-row", unit["id"])).to_contain_text("3 100 000 kr", timeout=LIVE)

    await page.get_by_test_id("status-change-reserved").click()
    await expect(status).to_have_attribute("data-status", "reserved")
    await expect(status).to_have_text("Reserverad")
    await expect(watched).to_have_attribute("data-status", "reserved", timeout=LIVE)
    await page.get_by_test_id("status-change-sold").click()
    await expect(status).to_have_text("Såld")
    await expect(watched).to_have_attribute("data-status", "sold", timeout=LIVE)
    await expect(page.get_by_test_id("history-row")).to_have_count(4, timeout=LIVE)  # created, booked, reserved, sold (edits are no status change)
    await shot(page, "20-objektkort-sald")
    await shot(watcher, "21-objekt-sald-live")

    # Avboka on the unit card: free again, buyers detached (the buyer stays on Köpare).
    await page.get_by_test_id("unit-cancel-booking").click()
    dialog = page.get_by_test_id("cancel-dialog")
    await dialog.get_by_test_id("cancel-reason").fill("Finansieringen föll")
    await dialog.get_by_test_id("cancel-confirm").click()
    await expect(status).to_have_attribute("data-status", "available", timeout=LIVE)
    await expect(watched).to_have_attribute("data-status", "available", timeout=LIVE)
    await expect(page.get_by_test_id("section-unit-buyers").get_by_test_id("buyer-chip")).to_have_count(0, timeout=LIVE)
    await expect(page.get_by_test_id("unit-cancel-booking")).to_be_hidden()

    # An available unit becomes booked only through a booking: the 409 is told in words.
    await page.get_by_test_id("status-change-sold").click()
    await expect(page.get_by_test_id("status-error")).to_contain_text("bara bli bokat genom en bokning")
    await expect(status).to_have_attribute("data-status", "available")
    await shot(page, "22-objektkort-409")

    await page.get_by_test_id("nav-buyers").click()
    await page.get_by_test_id("buyers-search").fill(anna["last_name"])
    await page.get_by_test_id("buyers-search").press("Enter")
    await expect(page.get_by_test_id("buyer-row")).to_have_count(1)
    await expect(page.get_by_test_id("buyer-row").get_by_test_id("buyer-no-unit")).to_be_visible(timeout=LIVE)


async def test_buyer_added_on_unit_card_books_the_unit_when_agent_picks_a_suggested_prospect(open_agent, launch, shot, settled):
    bjorn = launch.prospects[1]
    unit = launch.units[2]
    first = await open_agent("first")
    page = first.page
    await open_unit_card(page, first.base_url, unit["id"])

    # Typing a name suggests existing prospects; choosing one fills the form.
    await page.get_by_test_id("buyer-search").press_sequentially(bjorn["last_name"][:12], delay=20)
    suggestion = page.get_by_test_id("buyer-suggestion").filter(has_text=bjorn["last_name"])
    await expect(suggestion).to_be_visible()
    await shot(page, "23-objektkort-forslag")
    await suggestion.click()
    form = page.get_by_test_id("add-buyer-form")
    await expect(form.get_by_test_id("field-first_name")).to_have_value("Björn")
    await expect(form.get_by_test_id("field-email")).to_have_value(bjorn["email"])
    await form.get_by_test_id("add-buyer-submit").click()
    outcome = page.get_by_test_id("add-buyer-outcome")
    state, words = await settled(outcome)
    assert state == "confirmed", words
    await expect(outcome).to_contain_text("Bokad!")
    status = page.get_by_test_id("unit-card").get_by_test_id("unit-status").first
    await expect(status).to_have_attribute("data-status", "booked", timeout=LIVE)
    chip = page.get_by_test_id("section-unit-buyers").get_by_test_id("buyer-chip")
    await expect(chip).to_contain_text("Björn", timeout=LIVE)
    await shot(page, "24-objektkort-kopare-tillagd")

    # ✕ on the only buyer's chip cancels the booking: the unit is free again.
    await chip.get_by_test_id("buyer-chip-remove").click()
    await page.get_by_test_id("remove-buyer-dialog-ok").click()
    await expect(status).to_have_attribute("data-status", "available", timeout=LIVE)
    await expect(chip).to_have_count(0, timeout=LIVE)


async def test_buyer_added_on_buyers_page_when_agent_types_new_contact_data(open_agent, launch, shot, settled):
    unit = launch.units[1]
    last_name = f"Nyström-{uuid.uuid4().hex[:6]}"
    first = await open_agent("first")
    page = first.page
    await page.get_by_test_id("nav-buyers").click()
    await page.get_by_test_id("add-buyer").click()
    dialog = page.get_by_test_id("add-buyer-dialog")
    await expect(dialog.get_by_test_id("add-buyer-unit")).to_be_enabled()
    await dialog.get_by_test_id("add-buyer-unit").select_option(unit["id"])
    await dialog.get_by_test_id("field-first_name").fill("Cecilia")
    await dialog.get_by_test_id("field-last_name").fill(last_name)
    await dialog.get_by_test_id("field-phone").fill("073-555 12 12")
    await shot(page, "25-ny-kopare")
    await dialog.get_by_test_id("add-buyer-submit").click()
    outcome = dialog.get_by_test_id("add-buyer-outcome")
    state, words = await settled(outcome)
    assert state == "confirmed", words
    await dialog.get_by_test_id("dialog-close").click()

    await page.get_by_test_id("buyers-search").fill(last_name)
    await page.get_by_test_id("buyers-search").press("Enter")
    row = page.get_by_test_id("buyer-row")
    await expect(row).to_have_count(1, timeout=LIVE)
    await expect(row.get_by_test_id("buyer-unit")).to_contain_text(unit["name"])
    await shot(page, "26-kopare-med-objekt")

    # Avboka from the buyer list: the buyer stays, without the unit.
    await row.get_by_test_id("buyer-unit-cancel").click()
    await page.get_by_test_id("cancel-confirm").click()
    await expect(row.get_by_test_id("buyer-no-unit")).to_be_visible(timeout=LIVE)


async def test_co_buyer_joins_and_leaves_the_booking_when_agent_uses_the_unit_card(open_agent, launch, admin_api, shot):
    anna, bjorn = launch.prospects
    unit = launch.units[0]
    booking = await admin_api.book(anna["id"], unit["id"])
    assert (await admin_api.final(booking["booking_id"]))["status"] == "confirmed"
    first = await open_agent("first")
    page = first.page
    await open_unit_card(page, first.base_url, unit["id"])
    form = page.get_by_test_id("add-buyer-form")
    await expect(form).to_contain_text("medköpare")

    await page.get_by_test_id("buyer-search").press_sequentially(bjorn["last_name"][:12], delay=20)
    await page.get_by_test_id("buyer-suggestion").filter(has_text=bjorn["last_name"]).click()
    await form.get_by_test_id("add-buyer-submit").click()
    await expect(page.get_by_test_id("add-buyer-outcome")).to_have_attribute("data-outcome", "co-buyer")
    chips = page.get_by_test_id("section-unit-buyers").get_by_test_id("buyer-chip")
    await expect(chips).to_have_count(2, timeout=LIVE)
    await shot(page, "27-objektkort-medkopare")

    # Removing one of two buyers (✕ in the units list) keeps the booking; the unit stays booked.
    await page.get_by_test_id("nav-units").click()
    await page.get_by_test_id("filter-project").select_option(launch.project["id"])
    row = unit_row(page, "unit-row", unit["id"])
    listed = row.get_by_test_id("buyer-chip")
    await expect(listed).to_have_count(2, timeout=LIVE)
    await listed.filter(has_text="Björn").get_by_test_id("buyer-chip-remove").click()
    await expect(page.get_by_test_id("remove-buyer-dialog")).to_contain_text("Björn")
    await page.get_by_test_id("remove-buyer-dialog-ok").click()
    await expect(listed).to_have_count(1, timeout=LIVE)
    await expect(listed).to_contain_text("Anna")
    await expect(row.get_by_test_id("unit-status")).to_have_attribute("data-status", "booked")
