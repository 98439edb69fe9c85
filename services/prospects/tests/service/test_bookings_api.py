"""Bookings over HTTP and the saga's answers over Kafka — on PostgreSQL and on SQLite.

The units' and buyers' answers are published to Kafka by the test, as those services would; the
events this service publishes are read from its outbox and decoded with the contracts' registry.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from uuid import UUID

import pytest
from contracts.booking import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    CoBuyerAdded,
    CoBuyerRemoved,
)
from contracts.buyers import BuyerCreated, BuyerCreationFailed
from contracts.types import ProspectSnapshot
from contracts.units import UnitReleased, UnitReservationRejected, UnitReserved

from nyprod_kit.testing import wait_until
from prospects.messaging.consumers import saga_handlers

API = "/api/v1"


def _field_errors(response) -> list[tuple]:  # noqa: ANN001
    assert response.status_code == 422, response.text
    return [tuple(e["loc"]) for e in response.json()["detail"]]


async def _status(service, prospect_id) -> str:  # noqa: ANN001
    return (await service.client.get(f"{API}/prospects/{prospect_id}")).json()["status"]


def _yes_from_units(unit_id, booking_id) -> UnitReserved:  # noqa: ANN001
    return UnitReserved(unit_id=unit_id, booking_id=booking_id, correlation_id=booking_id)


def _yes_from_buyers(unit_id, booking_id, prospect_id) -> BuyerCreated:  # noqa: ANN001
    return BuyerCreated(unit_id=unit_id, booking_id=booking_id, buyer_id=uuid.uuid4(), prospect_id=prospect_id, correlation_id=booking_id)


async def _confirmed(service, publish) -> tuple[dict, UUID, str]:  # noqa: ANN001
    """A prospect with a booking that units and buyers both said yes to."""
    prospect = await service.prospect()
    unit = await service.unit()
    booking_id = await service.booking(prospect["id"], unit)
    await publish(_yes_from_units(unit, UUID(booking_id)), _yes_from_buyers(unit, UUID(booking_id), UUID(prospect["id"])))
    assert (await service.settled(booking_id))["status"] == "confirmed"
    return prospect, unit, booking_id


# ---- starting a booking ---------------------------------------------------------------------


async def test_booking_is_pending_and_requested_when_booked(service) -> None:  # noqa: ANN001
    prospect = await service.prospect(email="asa@example.se", phone="070-123 45 67")
    unit = await service.unit()

    response = await service.client.post(
        f"{API}/bookings", json={"prospect_id": prospect["id"], "unit_id": str(unit)}, headers={"X-Nyprod-User": "maria"}
    )

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "pending"
    booking = (await service.client.get(f"{API}/bookings/{accepted['booking_id']}")).json()
    assert booking["status"] == "pending" and booking["reason"] is None
    assert (booking["prospect_id"], booking["unit_id"], booking["buyers"]) == (prospect["id"], str(unit), [prospect["id"]])
    (requested,) = await service.outbox_events(booking_id=UUID(accepted["booking_id"]))
    assert isinstance(requested, BookingRequested)
    assert requested.prospect == ProspectSnapshot(
        prospect_id=UUID(prospect["id"]), first_name="Åsa", last_name=prospect["last_name"], email="asa@example.se", phone="070-123 45 67"
    )
    assert requested.requested_by == "maria"
    assert requested.key == str(unit)
    assert requested.correlation_id == UUID(accepted["booking_id"])
    card = (await service.client.get(f"{API}/prospects/{prospect['id']}")).json()
    assert card["bookings"] == [{"booking_id": accepted["booking_id"], "unit_id": str(unit), "unit_name": "A-1101", "status": "pending"}]


async def test_taken_unit_still_gives_a_pending_booking_when_booked(service) -> None:  # noqa: ANN001
    """The copy may be stale: only the saga decides whether the unit can be had."""
    prospect = await service.prospect()
    from contracts.types import UnitStatus

    sold = await service.unit(status=UnitStatus.SOLD)
    never_heard_of = uuid.uuid4()
    for unit in (sold, never_heard_of):
        response = await service.client.post(f"{API}/bookings", json={"prospect_id": prospect["id"], "unit_id": str(unit)})
        assert response.status_code == 202
        assert response.json()["status"] == "pending"


async def test_booking_is_not_found_when_prospect_unknown(service) -> None:  # noqa: ANN001
    unknown = uuid.uuid4()
    response = await service.client.post(f"{API}/bookings", json={"prospect_id": str(unknown), "unit_id": str(uuid.uuid4())})
    assert response.status_code == 404
    assert str(unknown) in response.json()["detail"]
    assert await service.outbox_events(prospect_id=unknown) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({"unit_id": str(uuid.uuid4())}, "prospect_id"), ({"prospect_id": str(uuid.uuid4())}, "unit_id"), ({"prospect_id": "x", "unit_id": str(uuid.uuid4())}, "prospect_id")],
)
async def test_booking_names_the_bad_field_when_invalid(service, body: dict, field: str) -> None:  # noqa: ANN001
    assert ("body", field) in _field_errors(await service.client.post(f"{API}/bookings", json=body))


# ---- the saga's answers ---------------------------------------------------------------------


async def test_booking_is_confirmed_and_prospect_becomes_buyer_when_unit_and_buyer_say_yes(service, publish) -> None:  # noqa: ANN001
    prospect, unit, booking_id = await _confirmed(service, publish)

    booking = (await service.client.get(f"{API}/bookings/{booking_id}")).json()
    assert (booking["status"], booking["reason"]) == ("confirmed", None)
    assert await _status(service, prospect["id"]) == "buyer"
    events = await service.outbox_events(booking_id=UUID(booking_id))
    assert [type(e) for e in events] == [BookingRequested, BookingConfirmed]
    assert events[1].prospect_id == UUID(prospect["id"]) and events[1].correlation_id == UUID(booking_id)
    card = (await service.client.get(f"{API}/prospects/{prospect['id']}")).json()
    assert [(b["booking_id"], b["status"]) for b in card["bookings"]] == [(booking_id, "confirmed")]
    history = (await service.client.get(f"{API}/bookings/{booking_id}/history")).json()
    assert [s["step"] for s in history["items"]][0] == "RequestBooking"
    assert history["items"][-1]["status"] == "confirmed" and history["total"] == 3


async def test_booking_is_rejected_with_the_reason_when_unit_is_taken(service, publish) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    unit = await service.unit()
    booking_id = await service.booking(prospect["id"], unit)

    await publish(UnitReservationRejected(unit_id=unit, booking_id=UUID(booking_id), reason="unit_not_available"))

    booking = await service.settled(booking_id)
    assert (booking["status"], booking["reason"]) == ("rejected", "unit_not_available")
    assert await _status(service, prospect["id"]) == "prospect"
    rejected = (await service.outbox_events(booking_id=UUID(booking_id)))[-1]
    assert isinstance(rejected, BookingRejected) and rejected.reason == "unit_not_available"


async def test_booking_is_rejected_with_the_reason_when_buyers_says_no(service, publish) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    unit = await service.unit()
    booking_id = await service.booking(prospect["id"], unit)

    await publish(_yes_from_units(unit, UUID(booking_id)), BuyerCreationFailed(unit_id=unit, booking_id=UUID(booking_id), reason="prospect_not_found"))

    booking = await service.settled(booking_id)
    assert (booking["status"], booking["reason"]) == ("rejected", "prospect_not_found")


async def test_late_answer_changes_nothing_when_booking_already_rejected(service, publish) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    unit = await service.unit()
    booking_id = await service.booking(prospect["id"], unit)
    await publish(UnitReservationRejected(unit_id=unit, booking_id=UUID(booking_id), reason="unit_not_available"))
    assert (await service.settled(booking_id))["status"] == "rejected"

    late = _yes_from_buyers(unit, UUID(booking_id), UUID(prospect["id"]))
    duplicate = UnitReservationRejected(unit_id=unit, booking_id=UUID(booking_id), reason="unit_not_available")
    await publish(late, duplicate)
    await wait_until(lambda: service.handled(duplicate), message="late answers handled")

    assert (await service.settled(booking_id, wait=0))["status"] == "rejected"
    assert [type(e) for e in await service.outbox_events(booking_id=UUID(booking_id))] == [BookingRequested, BookingRejected]


async def test_same_answer_twice_is_handled_once_when_redelivered(service, publish) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    unit = await service.unit()
    booking_id = await service.booking(prospect["id"], unit)
    reserved = _yes_from_units(unit, UUID(booking_id))

    await publish(reserved, reserved, _yes_from_buyers(unit, UUID(booking_id), UUID(prospect["id"])))

    assert (await service.settled(booking_id))["status"] == "confirmed"
    assert [type(e) for e in await service.outbox_events(booking_id=UUID(booking_id))] == [BookingRequested, BookingConfirmed]


async def test_answers_about_unknown_bookings_are_skipped_when_consumed(service, publish) -> None:  # noqa: ANN001
    stranger = _yes_from_units(uuid.uuid4(), uuid.uuid4())
    await publish(stranger)
    await wait_until(lambda: service.handled(stranger), message="answer about an unknown booking handled")
    assert (await service.client.get(f"{API}/bookings/{stranger.booking_id}")).status_code == 404


# ---- waiting for the outcome ----------------------------------------------------------------


async def test_answers_about_the_same_bookings_in_one_batch_settle_them_in_one_transaction(service) -> None:  # noqa: ANN001
    """A fetched batch locks and reads its bookings in one statement; each later answer in the
    batch must see what the earlier ones saved, or the second answer would be lost."""
    unit_a, unit_b = await service.unit(name="B-1"), await service.unit(name="B-2")
    prospect = await service.prospect()
    confirmed = UUID(await service.booking(prospect["id"], unit_a))
    rejected = UUID(await service.booking((await service.prospect())["id"], unit_b))
    await saga_handlers(service.app.state.uow_factory).many(
        [
            _yes_from_buyers(unit_a, confirmed, UUID(prospect["id"])),
            _yes_from_buyers(unit_b, rejected, uuid.uuid4()),
            UnitReservationRejected(unit_id=unit_b, booking_id=rejected, reason="unit_not_available"),
            _yes_from_units(unit_a, confirmed),
        ]
    )
    assert (await service.settled(str(confirmed), wait=0))["status"] == "confirmed"
    assert (await service.settled(str(rejected), wait=0))["status"] == "rejected"
    steps = (await service.client.get(f"{API}/bookings/{confirmed}/history")).json()["items"]
    assert [s["step"] for s in steps] == ["RequestBooking", "BuyerCreated", "UnitReserved"]
    assert await _status(service, prospect["id"]) == "buyer"


async def test_wait_returns_promptly_when_the_booking_settles(service, publish) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    unit = await service.unit()
    booking_id = await service.booking(prospect["id"], unit)
    waiters = service.app.state.waiters
    waiting = asyncio.create_task(service.client.get(f"{API}/bookings/{booking_id}", params={"wait": 25}))
    await wait_until(lambda: _present(len(waiters) > 0), message="the request to wait")

    started = time.monotonic()
    await publish(_yes_from_units(unit, UUID(booking_id)), _yes_from_buyers(unit, UUID(booking_id), UUID(prospect["id"])))
    response = await asyncio.wait_for(waiting, 25)
    elapsed = time.monotonic() - started

    assert response.json()["status"] == "confirmed"
    # settled in this process, the booking came with the wake-up: the same as a fresh read
    assert response.json() == (await service.client.get(f"{API}/bookings/{booking_id}")).json()
    assert elapsed < 3, f"the wait ended {elapsed:.2f}s after the answers"
    print(f"\nwait= answered {elapsed * 1000:.0f} ms after the last answer was published")
    assert len(waiters) == 0


async def _present(value):  # noqa: ANN001, ANN202
    return value


async def test_wait_gives_the_pending_booking_when_nothing_happens_in_time(service) -> None:  # noqa: ANN001
    booking_id = await service.booking((await service.prospect())["id"], await service.unit())
    started = time.monotonic()
    booking = await service.settled(booking_id, wait=0.5)
    assert booking["status"] == "pending"
    assert 0.45 <= time.monotonic() - started < 3


async def test_wait_answers_at_once_when_the_booking_has_settled(service, publish) -> None:  # noqa: ANN001
    _, _, booking_id = await _confirmed(service, publish)
    started = time.monotonic()
    assert (await service.settled(booking_id, wait=30))["status"] == "confirmed"
    assert time.monotonic() - started < 1


async def test_post_with_wait_answers_with_the_outcome_in_one_call(service, publish) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    unit = await service.unit()
    body = {"prospect_id": prospect["id"], "unit_id": str(unit)}
    booking = asyncio.create_task(service.client.post(f"{API}/bookings", json=body, params={"wait": 25}))
    (requested,) = await wait_until(
        lambda: service.outbox_events(unit_id=unit), message="the booking to be requested while the POST waits"
    )
    assert not booking.done()

    await publish(_yes_from_units(unit, requested.booking_id), _yes_from_buyers(unit, requested.booking_id, UUID(prospect["id"])))
    response = await asyncio.wait_for(booking, 25)

    assert response.status_code == 200
    answer = response.json()
    assert (answer["booking_id"], answer["status"], answer["prospect_id"]) == (str(requested.booking_id), "confirmed", prospect["id"])
    assert answer == (await service.client.get(f"{API}/bookings/{requested.booking_id}")).json()


async def test_post_with_wait_gives_the_pending_booking_after_the_wait(service) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    body = {"prospect_id": prospect["id"], "unit_id": str(await service.unit())}
    started = time.monotonic()
    response = await service.client.post(f"{API}/bookings", json=body, params={"wait": 0.5})
    assert response.status_code == 202
    assert 0.45 <= time.monotonic() - started < 3
    assert {k: response.json()[k] for k in ("status", "prospect_id", "reason")} == {"status": "pending", "prospect_id": prospect["id"], "reason": None}
    # without wait, the contract's answer, unchanged
    plain = await service.client.post(f"{API}/bookings", json={**body, "unit_id": str(await service.unit(name="B-1"))})
    assert plain.status_code == 202
    assert set(plain.json()) == {"booking_id", "status"}


@pytest.mark.parametrize("wait", [31, -1, "soon"])
async def test_post_names_a_bad_wait(service, wait) -> None:  # noqa: ANN001
    body = {"prospect_id": (await service.prospect())["id"], "unit_id": str(await service.unit())}
    assert ("query", "wait") in _field_errors(await service.client.post(f"{API}/bookings", json=body, params={"wait": wait}))


@pytest.mark.parametrize(("params", "field"), [({"wait": 31}, "wait"), ({"wait": -1}, "wait"), ({"wait": "soon"}, "wait")])
async def test_get_names_the_bad_parameter_when_invalid(service, params: dict, field: str) -> None:  # noqa: ANN001
    assert ("query", field) in _field_errors(await service.client.get(f"{API}/bookings/{uuid.uuid4()}", params=params))


async def test_booking_is_not_found_when_unknown(service) -> None:  # noqa: ANN001
    for path in ("", "/history"):
        response = await service.client.get(f"{API}/bookings/{uuid.uuid4()}{path}")
        assert response.status_code == 404 and set(response.json()) == {"detail"}
    assert (await service.client.get(f"{API}/bookings/{uuid.uuid4()}", params={"wait": 5})).status_code == 404
    assert ("path", "booking_id") in _field_errors(await service.client.get(f"{API}/bookings/not-a-uuid"))


# ---- idempotency ----------------------------------------------------------------------------


async def test_retry_gets_the_same_booking_when_the_idempotency_key_is_reused(service) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    unit = await service.unit()
    body = {"prospect_id": prospect["id"], "unit_id": str(unit)}
    key = {"Idempotency-Key": f"boka-{uuid.uuid4()}"}

    first = await service.client.post(f"{API}/bookings", json=body, headers=key)
    retry = await service.client.post(f"{API}/bookings", json=body, headers=key)
    other = await service.client.post(f"{API}/bookings", json={**body, "unit_id": str(uuid.uuid4())}, headers=key)

    assert (first.status_code, retry.status_code) == (202, 200)
    assert retry.json() == first.json()
    assert other.status_code == 409 and other.json()["reason"] == "idempotency_key_reused"
    assert len(await service.outbox_events(unit_id=unit)) == 1
    fresh = await service.client.post(f"{API}/bookings", json=body, headers={"Idempotency-Key": f"boka-{uuid.uuid4()}"})
    assert fresh.status_code == 202 and fresh.json()["booking_id"] != first.json()["booking_id"]


async def test_retry_with_wait_gets_the_same_booking_and_books_nothing_new(service) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    unit = await service.unit()
    body = {"prospect_id": prospect["id"], "unit_id": str(unit)}
    key = {"Idempotency-Key": f"boka-{uuid.uuid4()}"}

    first = await service.client.post(f"{API}/bookings", json=body, headers=key, params={"wait": 0.2})
    retry = await service.client.post(f"{API}/bookings", json=body, headers=key, params={"wait": 0.2})

    assert (first.status_code, retry.status_code) == (202, 200)
    assert retry.json()["booking_id"] == first.json()["booking_id"]
    assert retry.json()["status"] == "pending"
    assert len(await service.outbox_events(unit_id=unit)) == 1


async def test_concurrent_retries_make_one_booking_when_they_share_a_key(service) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    unit = await service.unit()
    body = {"prospect_id": prospect["id"], "unit_id": str(unit)}
    key = {"Idempotency-Key": f"boka-{uuid.uuid4()}"}

    responses = await asyncio.gather(*(service.client.post(f"{API}/bookings", json=body, headers=key) for _ in range(4)))

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 202]
    assert len({r.json()["booking_id"] for r in responses}) == 1
    assert len(await service.outbox_events(unit_id=unit)) == 1


async def test_idempotency_key_is_refused_when_too_long(service) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    response = await service.client.post(
        f"{API}/bookings", json={"prospect_id": prospect["id"], "unit_id": str(uuid.uuid4())}, headers={"Idempotency-Key": "k" * 201}
    )
    assert ("header", "idempotency-key") in [(loc[0], loc[1].lower()) for loc in _field_errors(response)]


# ---- cancelling -----------------------------------------------------------------------------


async def test_confirmed_booking_ends_and_buyer_is_a_prospect_again_when_cancelled(service, publish) -> None:  # noqa: ANN001
    prospect, unit, booking_id = await _confirmed(service, publish)

    response = await service.client.post(
        f"{API}/bookings/{booking_id}/cancel", json={"reason": "changed their mind"}, headers={"X-Nyprod-User": "maria"}
    )

    assert response.status_code == 202, response.text
    assert (response.json()["status"], response.json()["reason"]) == ("cancelled", "changed their mind")
    assert await _status(service, prospect["id"]) == "prospect"
    cancelled = (await service.outbox_events(booking_id=UUID(booking_id)))[-1]
    assert isinstance(cancelled, BookingCancelled)
    assert (cancelled.prospect_ids, cancelled.reason, cancelled.cancelled_by) == ([UUID(prospect["id"])], "changed their mind", "maria")
    again = await service.client.post(f"{API}/bookings/{booking_id}/cancel")
    assert again.status_code == 409
    assert again.json() == {"detail": "the booking has already ended", "reason": "booking_already_final"}


async def test_pending_booking_can_be_cancelled_when_no_body_is_sent(service) -> None:  # noqa: ANN001
    booking_id = await service.booking((await service.prospect())["id"], await service.unit())
    response = await service.client.post(f"{API}/bookings/{booking_id}/cancel")
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["reason"]) == ("cancelled", None)


async def test_buyer_stays_a_buyer_when_another_of_their_bookings_is_cancelled(service, publish) -> None:  # noqa: ANN001
    prospect, _, _ = await _confirmed(service, publish)
    unit = await service.unit("A-1102")
    second = await service.booking(prospect["id"], unit)
    await publish(_yes_from_units(unit, UUID(second)), _yes_from_buyers(unit, UUID(second), UUID(prospect["id"])))
    assert (await service.settled(second))["status"] == "confirmed"

    assert (await service.client.post(f"{API}/bookings/{second}/cancel")).status_code == 202

    assert await _status(service, prospect["id"]) == "buyer"


async def test_cancel_is_refused_when_unknown_or_invalid(service) -> None:  # noqa: ANN001
    assert (await service.client.post(f"{API}/bookings/{uuid.uuid4()}/cancel")).status_code == 404
    booking_id = await service.booking((await service.prospect())["id"], await service.unit())
    assert ("body", "reason") in _field_errors(await service.client.post(f"{API}/bookings/{booking_id}/cancel", json={"reason": "x" * 1001}))


async def test_unit_released_on_its_card_cancels_the_booking_when_consumed(service, publish) -> None:  # noqa: ANN001
    prospect, unit, booking_id = await _confirmed(service, publish)

    await publish(UnitReleased(unit_id=unit, booking_ids=[UUID(booking_id)], reason="Avboka", released_by="maria"))

    booking = await wait_until(lambda: _if_cancelled(service, booking_id), message="booking cancelled by the unit card")
    assert booking["reason"] == "Avboka"
    assert await _status(service, prospect["id"]) == "prospect"
    cancelled = (await service.outbox_events(booking_id=UUID(booking_id)))[-1]
    assert isinstance(cancelled, BookingCancelled) and cancelled.cancelled_by == "maria"


async def _if_cancelled(service, booking_id: str) -> dict | None:  # noqa: ANN001
    booking = (await service.client.get(f"{API}/bookings/{booking_id}")).json()
    return booking if booking["status"] == "cancelled" else None


# ---- co-buyers ------------------------------------------------------------------------------


async def test_co_buyer_is_refused_when_booking_is_not_confirmed(service) -> None:  # noqa: ANN001
    booking_id = await service.booking((await service.prospect())["id"], await service.unit())
    partner = await service.prospect(first_name="Bo")
    response = await service.client.post(f"{API}/bookings/{booking_id}/buyers", json={"prospect_id": partner["id"]})
    assert response.status_code == 409 and response.json()["reason"] == "booking_not_confirmed"


async def test_co_buyers_come_and_go_and_the_last_one_out_cancels_when_changed(service, publish) -> None:  # noqa: ANN001
    holder, unit, booking_id = await _confirmed(service, publish)
    partner = await service.prospect(first_name="Bo")
    buyers = f"{API}/bookings/{booking_id}/buyers"

    added = await service.client.post(buyers, json={"prospect_id": partner["id"]})

    assert added.status_code == 202, added.text
    assert added.json()["buyers"] == [holder["id"], partner["id"]]
    assert await _status(service, partner["id"]) == "buyer"
    co_buyer_added = (await service.outbox_events(booking_id=UUID(booking_id)))[-1]
    assert isinstance(co_buyer_added, CoBuyerAdded) and co_buyer_added.prospect.first_name == "Bo"
    assert [b["booking_id"] for b in (await service.client.get(f"{API}/prospects/{partner['id']}")).json()["bookings"]] == [booking_id]
    twice = await service.client.post(buyers, json={"prospect_id": partner["id"]})
    assert twice.status_code == 409 and twice.json()["reason"] == "already_a_buyer"
    assert (await service.client.post(buyers, json={"prospect_id": str(uuid.uuid4())})).status_code == 404
    assert (await service.client.delete(f"{buyers}/{uuid.uuid4()}")).status_code == 404

    holder_out = await service.client.delete(f"{buyers}/{holder['id']}")

    assert holder_out.status_code == 202
    assert (holder_out.json()["status"], holder_out.json()["buyers"]) == ("confirmed", [partner["id"]])
    assert await _status(service, holder["id"]) == "prospect"
    assert await _status(service, partner["id"]) == "buyer"
    assert isinstance((await service.outbox_events(booking_id=UUID(booking_id)))[-1], CoBuyerRemoved)

    last_out = await service.client.delete(f"{buyers}/{partner['id']}")

    assert last_out.status_code == 202
    assert (last_out.json()["status"], last_out.json()["reason"]) == ("cancelled", "last_buyer_removed")
    assert await _status(service, partner["id"]) == "prospect"
    cancelled = (await service.outbox_events(booking_id=UUID(booking_id)))[-1]
    assert isinstance(cancelled, BookingCancelled) and cancelled.prospect_ids == [UUID(partner["id"])]


async def test_co_buyer_paths_are_refused_when_not_uuids(service) -> None:  # noqa: ANN001
    assert ("path", "booking_id") in _field_errors(await service.client.post(f"{API}/bookings/x/buyers", json={"prospect_id": str(uuid.uuid4())}))
    assert ("path", "prospect_id") in _field_errors(await service.client.delete(f"{API}/bookings/{uuid.uuid4()}/buyers/x"))


# ---- erasure and bookings -------------------------------------------------------------------


async def test_erasure_waits_for_bookings_when_prospect_buys_or_is_booking(service, publish) -> None:  # noqa: ANN001
    prospect, _, booking_id = await _confirmed(service, publish)

    refused = await service.client.delete(f"{API}/prospects/{prospect['id']}")
    assert refused.status_code == 409 and refused.json()["reason"] == "prospect_has_confirmed_booking"

    assert (await service.client.post(f"{API}/bookings/{booking_id}/cancel")).status_code == 202
    pending = await service.booking(prospect["id"], await service.unit())
    refused = await service.client.delete(f"{API}/prospects/{prospect['id']}")
    assert refused.status_code == 409 and refused.json()["reason"] == "prospect_has_pending_booking"

    assert (await service.client.post(f"{API}/bookings/{pending}/cancel")).status_code == 202
    # both bookings are over, so their events may go out (to Kafka) as the relay would send them
    while await service.app.state.relay.publish_pending():
        pass
    assert (await service.client.delete(f"{API}/prospects/{prospect['id']}")).status_code == 204
    kept = (await service.client.get(f"{API}/bookings/{booking_id}")).json()
    assert (kept["prospect_id"], kept["status"]) == (prospect["id"], "cancelled")
    # the published copies of their contact data are gone from this service's outbox
    assert [e for e in await service.outbox_events() if prospect["last_name"] in e.model_dump_json()] == []


# ---- listing --------------------------------------------------------------------------------


async def test_bookings_are_listed_by_prospect_unit_and_status_when_filtered(service, publish) -> None:  # noqa: ANN001
    holder, unit, confirmed = await _confirmed(service, publish)
    partner = await service.prospect(first_name="Bo")
    await service.client.post(f"{API}/bookings/{confirmed}/buyers", json={"prospect_id": partner["id"]})
    pending = await service.booking(holder["id"], await service.unit("A-1102"))

    async def ids(**params) -> list[str]:  # noqa: ANN003
        response = await service.client.get(f"{API}/bookings", params=params)
        assert response.status_code == 200, response.text
        assert response.json()["total"] == len(response.json()["items"])
        return [b["booking_id"] for b in response.json()["items"]]

    assert await ids(prospect_id=holder["id"]) == [pending, confirmed]
    assert await ids(prospect_id=partner["id"]) == [confirmed]
    assert await ids(prospect_id=holder["id"], status="confirmed") == [confirmed]
    assert await ids(unit_id=str(unit)) == [confirmed]
    page = (await service.client.get(f"{API}/bookings", params={"prospect_id": holder["id"], "limit": 1})).json()
    assert page["total"] == 2 and len(page["items"]) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 501}, "limit"), ({"status": "maybe"}, "status"), ({"prospect_id": "x"}, "prospect_id"), ({"unit_id": "x"}, "unit_id")],
)
async def test_booking_list_names_the_bad_parameter_when_invalid(service, params: dict, field: str) -> None:  # noqa: ANN001
    assert ("query", field) in _field_errors(await service.client.get(f"{API}/bookings", params=params))


# ---- adding a buyer directly ----------------------------------------------------------------


async def test_new_prospect_and_booking_are_made_together_when_a_buyer_is_added_with_contact_data(service) -> None:  # noqa: ANN001
    unit = await service.unit()

    response = await service.client.post(
        f"{API}/buyers", json={"unit_id": str(unit), "first_name": "Örjan", "last_name": "Åkesson", "phone": "+46 70 111 22 33"}
    )

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "pending"
    card = (await service.client.get(f"{API}/prospects/{accepted['prospect_id']}")).json()
    assert (card["first_name"], card["last_name"], card["phone"], card["status"]) == ("Örjan", "Åkesson", "+46 70 111 22 33", "prospect")
    assert [b["booking_id"] for b in card["bookings"]] == [accepted["booking_id"]]
    (requested,) = await service.outbox_events(booking_id=UUID(accepted["booking_id"]))
    assert isinstance(requested, BookingRequested) and requested.prospect.last_name == "Åkesson"


async def test_existing_prospect_is_booked_when_a_buyer_is_added_by_id(service) -> None:  # noqa: ANN001
    prospect = await service.prospect()
    key = {"Idempotency-Key": f"buyer-{uuid.uuid4()}"}
    body = {"unit_id": str(await service.unit()), "prospect_id": prospect["id"]}

    response = await service.client.post(f"{API}/buyers", json=body, headers=key)
    retry = await service.client.post(f"{API}/buyers", json=body, headers=key)

    assert response.status_code == 202 and response.json()["prospect_id"] == prospect["id"]
    assert retry.status_code == 200 and retry.json() == response.json()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"unit_id", "first_name", "last_name"}),
        ({"first_name": "Bo"}, {"last_name"}),
        ({"prospect_id": str(uuid.uuid4()), "first_name": "Bo"}, {"first_name"}),
        ({"first_name": "Bo", "last_name": "Ek", "email": "nope"}, {"email"}),
        ({"first_name": "Bo", "last_name": "Ek", "phone": "abc"}, {"phone"}),
        ({"first_name": "B" * 101, "last_name": "Ek"}, {"first_name"}),
    ],
)
async def test_buyer_names_the_bad_fields_when_invalid(service, body: dict, fields: set[str]) -> None:  # noqa: ANN001
    body = {"unit_id": str(uuid.uuid4()), **body} if "unit_id" not in fields else body
    response = await service.client.post(f"{API}/buyers", json=body)
    assert fields <= {loc[1] for loc in _field_errors(response) if loc[0] == "body"}


async def test_buyer_is_not_found_when_prospect_unknown(service) -> None:  # noqa: ANN001
    response = await service.client.post(f"{API}/buyers", json={"unit_id": str(uuid.uuid4()), "prospect_id": str(uuid.uuid4())})
    assert response.status_code == 404
