"""The seed workflow end to end through the gateway, on the real stack (Kafka, PostgreSQL,
three services, gateway as processes), checking every service's view after each step."""

from __future__ import annotations

import asyncio

from harness.quiet import assert_invariants
from nyprod_kit.testing import wait_until


async def card(api, prospect_id):
    return await api.get(f"/prospects/{prospect_id}")


async def eventually(probe, message, timeout=10):
    return await wait_until(probe, timeout=timeout, interval=0.1, message=message)


async def test_seed_workflow_books_rejects_cancels_and_keeps_every_view_in_step(api, stack):
    project = await api.project()
    u1 = await api.unit(project["id"], "A-1101")
    u2 = await api.unit(project["id"], "A-1102")
    anna = await api.prospect("Anna", "Ström", email="anna.strom@example.se", phone="070-123 45 67", interests=[u1["id"], u2["id"]])
    bjorn = await api.prospect("Björn", "Åberg", interests=[u1["id"]])
    assert anna["status"] == "prospect"
    assert [i["bookable"] for i in (await card(api, anna["id"]))["interests"]] == [True, True]

    # Agent 1 books A-1101 for Anna from her customer card
    b1 = await api.book(anna["id"], u1["id"])
    assert b1["status"] == "pending"
    done = await api.final(b1["booking_id"])
    assert done["status"] == "confirmed" and done["reason"] is None
    assert (await api.get(f"/units/{u1['id']}"))["status"] == "booked"
    assert (await card(api, anna["id"]))["status"] == "buyer"

    async def buyer_copy_has(prospect_id, unit_ids):
        items = (await api.get("/buyers", q="Ström"))["items"]
        mine = [b for b in items if b["prospect_id"] == prospect_id]
        return mine and sorted(u["unit_id"] for u in mine[0]["units"]) == sorted(unit_ids) and mine[0]

    buyer = await eventually(lambda: buyer_copy_has(anna["id"], [u1["id"]]), "Anna's buyer copy with A-1101")
    assert buyer["first_name"] == "Anna" and buyer["units"][0]["unit_name"] == "A-1101"

    async def unit_shows_buyers(unit_id, names):
        unit = await api.get(f"/units/{unit_id}")
        return sorted(b["first_name"] for b in unit["buyers"]) == sorted(names)

    await eventually(lambda: unit_shows_buyers(u1["id"], ["Anna"]), "Anna on the unit card")

    async def bookable(prospect_id, unit_id, expected):
        interest = {i["unit_id"]: i for i in (await card(api, prospect_id))["interests"]}[unit_id]
        # bookable exactly when the unit is available
        return interest["bookable"] is expected and (interest["unit_status"] == "available") is expected

    await eventually(lambda: bookable(bjorn["id"], u1["id"], False), "BOKA greyed out on Björn's card")

    # Agent 2 presses BOKA on the same unit for Björn: rejected, nothing left behind
    b2 = await api.book(bjorn["id"], u1["id"])
    rejected = await api.final(b2["booking_id"])
    assert rejected["status"] == "rejected" and rejected["reason"] == "unit_not_available"
    assert (await card(api, bjorn["id"]))["status"] == "prospect"

    async def no_buyer_copy_of_bjorn():
        return (await api.get("/buyers", q="Åberg"))["total"] == 0

    # the buyers service compensates on the rejection event, a moment after the booking ends
    await eventually(no_buyer_copy_of_bjorn, "no buyer copy of Björn left behind")

    # A second unit for the same prospect
    b3 = await api.book(anna["id"], u2["id"])
    assert (await api.final(b3["booking_id"]))["status"] == "confirmed"
    await eventually(lambda: buyer_copy_has(anna["id"], [u1["id"], u2["id"]]), "Anna with two units")
    assert {b["booking_id"]: b["status"] for b in (await card(api, anna["id"]))["bookings"]} == {
        b1["booking_id"]: "confirmed",
        b3["booking_id"]: "confirmed",
    }

    # Cancel the second booking from the customer card
    await api.ok("POST", f"/bookings/{b3['booking_id']}/cancel", 202, json={"reason": "kunden ångrade sig"})
    cancelled = await api.booking(b3["booking_id"])
    assert cancelled["status"] == "cancelled"
    await eventually(lambda: buyer_copy_has(anna["id"], [u1["id"]]), "Anna left with A-1101")

    async def unit_status(unit_id, status):
        return (await api.get(f"/units/{unit_id}"))["status"] == status

    await eventually(lambda: unit_status(u2["id"], "available"), "A-1102 available again")
    assert (await card(api, anna["id"]))["status"] == "buyer"

    # Avboka on the unit card: the unit is free, the booking cancelled, Anna a prospect again
    await api.ok("POST", f"/units/{u1['id']}/cancel-booking", 202, json={"reason": "fel objekt"})

    async def booking_status(booking_id, status):
        return (await api.booking(booking_id))["status"] == status

    await eventually(lambda: booking_status(b1["booking_id"], "cancelled"), "Avboka cancels the booking")
    await eventually(lambda: buyer_copy_has(anna["id"], []), "Anna stays a buyer copy without units")

    async def prospect_status(prospect_id, status):
        return (await card(api, prospect_id))["status"] == status

    await eventually(lambda: prospect_status(anna["id"], "prospect"), "Anna back to prospect")
    await eventually(lambda: unit_shows_buyers(u1["id"], []), "no buyers on A-1101")
    await eventually(lambda: bookable(bjorn["id"], u1["id"], True), "BOKA live again on Björn's card")
    history = (await api.get(f"/units/{u1['id']}/history"))["items"]
    assert [(h["from"], h["to"]) for h in history] == [(None, "available"), ("available", "booked"), ("booked", "available")]
    assert history[1]["booking_id"] == b1["booking_id"] and history[1]["by"] == "admin"
    await assert_invariants(stack)


async def test_co_buyers_join_and_leave_and_the_last_one_leaving_cancels(api, stack):
    project = await api.project()
    unit = await api.unit(project["id"])
    maja = await api.prospect("Maja", "Lind")
    olof = await api.prospect("Olof", "Lind")
    booking = await api.book(maja["id"], unit["id"])
    assert (await api.final(booking["booking_id"]))["status"] == "confirmed"

    await api.ok("POST", f"/bookings/{booking['booking_id']}/buyers", 202, json={"prospect_id": olof["id"]})

    async def buyers_on_unit(names):
        return sorted(b["first_name"] for b in (await api.get(f"/units/{unit['id']}"))["buyers"]) == names

    await eventually(lambda: buyers_on_unit(["Maja", "Olof"]), "two buyers on the unit")
    assert (await card(api, olof["id"]))["status"] == "buyer"

    await api.ok("DELETE", f"/bookings/{booking['booking_id']}/buyers/{maja['id']}", 202)
    await eventually(lambda: buyers_on_unit(["Olof"]), "Olof alone")
    assert (await card(api, maja["id"]))["status"] == "prospect"
    assert (await api.booking(booking["booking_id"]))["status"] == "confirmed"

    await api.ok("DELETE", f"/bookings/{booking['booking_id']}/buyers/{olof['id']}", 202)

    async def cancelled_and_free():
        b = await api.booking(booking["booking_id"])
        u = await api.get(f"/units/{unit['id']}")
        return b["status"] == "cancelled" and u["status"] == "available" and u["buyers"] == []

    await eventually(cancelled_and_free, "the last buyer leaving cancels the booking")
    await assert_invariants(stack)


async def test_adding_a_buyer_with_new_contact_data_runs_the_same_saga(api, stack):
    project = await api.project()
    unit = await api.unit(project["id"])
    resp = await api.ok("POST", "/buyers", 202, json={"unit_id": unit["id"], "first_name": "Karin", "last_name": "Nyköpare", "phone": "+46 70 111 22 33"})
    final = await api.final(resp["booking_id"])
    assert final["status"] == "confirmed"
    found = (await api.get("/prospects", q="0701112233"))["items"]
    assert [p["last_name"] for p in found] == ["Nyköpare"] and found[0]["status"] == "buyer"

    async def buyer_listed():
        return (await api.get("/buyers", unit_id=unit["id"]))["total"] == 1

    await eventually(buyer_listed, "the new buyer on the Köpare list")
    other = await api.prospect("Per", "Senare")
    late = await api.ok("POST", "/buyers", 202, json={"unit_id": unit["id"], "prospect_id": other["id"]})
    assert (await api.final(late["booking_id"]))["reason"] == "unit_not_available"
    await assert_invariants(stack)


async def test_retried_post_with_the_same_idempotency_key_gives_the_same_booking(api, stack):
    project = await api.project()
    unit = await api.unit(project["id"])
    prospect = await api.prospect()
    first = await api.book(prospect["id"], unit["id"], **{"Idempotency-Key": f"boka-{unit['id']}"})
    again = await api.book(prospect["id"], unit["id"], **{"Idempotency-Key": f"boka-{unit['id']}"})
    assert again["booking_id"] == first["booking_id"]
    assert (await api.final(first["booking_id"]))["status"] == "confirmed"
    listed = await api.get("/bookings", unit_id=unit["id"])
    assert listed["total"] == 1


async def test_unknown_unit_is_rejected_and_unknown_prospect_is_404(api, stack):
    import uuid

    prospect = await api.prospect()
    booking = await api.book(prospect["id"], str(uuid.uuid4()))
    assert (await api.final(booking["booking_id"]))["reason"] == "unit_not_found"
    resp = await api.http.post("/bookings", json={"prospect_id": str(uuid.uuid4()), "unit_id": str(uuid.uuid4())})
    assert resp.status_code == 404
    await assert_invariants(stack)


async def test_wait_returns_as_soon_as_the_booking_is_final(api, stack):
    project = await api.project()
    unit = await api.unit(project["id"])
    prospect = await api.prospect()
    booking = await api.book(prospect["id"], unit["id"])
    loop = asyncio.get_running_loop()
    started = loop.time()
    final = await api.booking(booking["booking_id"], wait=20)
    assert final["status"] == "confirmed"
    # it wakes on the event: far below the 20 s it was allowed to wait
    assert loop.time() - started < 5
