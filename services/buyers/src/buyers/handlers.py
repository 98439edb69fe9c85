"""One async function per event. Each owns its transaction: the buyer rows, the links, the
outbox rows and the inbox row commit together or not at all.

Events about bookings, buyers or prospects this service never heard of change nothing: the
topics also carry events that concern no buyer here (and, in tests, other runs' events)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from contracts.booking import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    CoBuyerAdded,
    CoBuyerRemoved,
    ProspectChanged,
    ProspectErased,
)
from contracts.buyers import BuyerCreated, BuyerCreationFailed, UnitBuyer, UnitBuyersChanged
from contracts.types import ProspectSnapshot
from contracts.units import UnitChanged, UnitReserved

from . import domain
from .db.repo import contact_of
from .db.uow import BuyersUnitOfWork
from .domain import BookingClaim, Contact, LinkState

log = logging.getLogger(__name__)

CONSUMER = "buyers"


def _contact(snapshot: ProspectSnapshot | ProspectChanged) -> Contact:
    return Contact(snapshot.first_name, snapshot.last_name, snapshot.email, snapshot.phone)


async def _publish_unit_buyers(uow: BuyersUnitOfWork, unit_ids: Iterable[UUID], correlation_id: UUID | None) -> None:
    """Tell the units service each unit's full list of confirmed buyers as it is now."""
    for unit_id in sorted(set(unit_ids)):
        rows = await uow.links.confirmed_buyers_of_unit(unit_id)
        uow.publish(
            UnitBuyersChanged(unit_id=unit_id, buyers=[UnitBuyer(**r) for r in rows], correlation_id=correlation_id)
        )


async def _update_contact(uow: BuyersUnitOfWork, buyer: dict[str, Any], contact: Contact, as_of: datetime) -> set[UUID]:
    """Apply newer contact data; returns the confirmed units whose buyer names changed."""
    if not domain.is_newer(buyer["contact_as_of"], as_of):
        return set()
    if contact_of(buyer) == contact:
        # same data, but confirmed as of later: an older change arriving after this must lose
        await uow.buyers.confirm_contact_as_of(buyer["id"], as_of)
        return set()
    await uow.buyers.set_contact(buyer["id"], contact, as_of=as_of)
    if not domain.names_differ(contact_of(buyer), contact):
        return set()
    return domain.confirmed_units(await uow.buyers.state(buyer))


async def _buyer_copy(
    uow: BuyersUnitOfWork, snapshot: ProspectSnapshot, as_of: datetime, booking_id: UUID
) -> tuple[dict[str, Any], set[UUID]]:
    """The prospect's one buyer copy, made or brought up to date from the snapshot; also the
    units whose buyer names changed."""
    contact = _contact(snapshot)
    # tried first: in a sales launch most prospects who book have no buyer copy yet
    made = await uow.buyers.add_if_absent(uuid4(), snapshot.prospect_id, contact, as_of=as_of, for_booking_id=booking_id)
    if made is not None:
        return made, set()
    buyer = await uow.buyers.by_prospect(snapshot.prospect_id)
    assert buyer is not None
    return buyer, await _update_contact(uow, buyer, contact, as_of)


# ---- the booking saga ----------------------------------------------------------------------


async def on_unit_reserved(event: UnitReserved, uow: BuyersUnitOfWork) -> None:
    """The booking holds its unit: make the prospect's buyer copy with a pending link."""
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        snapshot = event.prospect
        if snapshot is None:
            uow.publish(_creation_failed(event, domain.SNAPSHOT_MISSING))
        elif not await uow.claims.claim(event.booking_id, BookingClaim.UNIT_RESERVED):
            pass  # the booking is already over: nothing to make, nobody waits for an answer
        elif reason := domain.decide_buyer_creation(_contact(snapshot), prospect_erased=await uow.erased.contains(snapshot.prospect_id)):
            uow.publish(_creation_failed(event, reason))
        else:
            buyer, renamed_units = await _buyer_copy(uow, snapshot, event.requested_at or event.occurred_at, event.booking_id)
            await uow.links.add_if_absent(buyer["id"], event.unit_id, event.booking_id, LinkState.PENDING)
            uow.publish(
                BuyerCreated(
                    unit_id=event.unit_id,
                    booking_id=event.booking_id,
                    buyer_id=buyer["id"],
                    prospect_id=snapshot.prospect_id,
                    correlation_id=event.booking_id,
                )
            )
            await _publish_unit_buyers(uow, renamed_units, event.booking_id)
        await uow.commit()


def _creation_failed(event: UnitReserved, reason: str) -> BuyerCreationFailed:
    return BuyerCreationFailed(unit_id=event.unit_id, booking_id=event.booking_id, reason=reason, correlation_id=event.booking_id)


async def on_booking_confirmed(event: BookingConfirmed, uow: BuyersUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        links = await uow.links.of_booking(event.booking_id)
        if links:
            await uow.links.confirm(event.booking_id)
            await uow.buyers.touch((link["buyer_id"] for link in links), confirmed=True)
            await _publish_unit_buyers(uow, [event.unit_id], event.booking_id)
        await uow.commit()


def never_reached_buyers(event: BookingRejected) -> bool:
    """The unit refused the booking, so no UnitReserved exists for it: nothing was or will be
    made for it here, and its rejection is skipped (by the consumer)."""
    return event.unit_refused


async def on_booking_rejected(event: BookingRejected, uow: BuyersUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        if await uow.claims.claim(event.booking_id, BookingClaim.BOOKING_ENDED):
            await uow.commit()  # ended before its unit was held here: a late UnitReserved makes nothing
            return
        confirmed_changed = False
        for buyer, state in await uow.buyers.of_booking_with_state(event.booking_id):
            decision = domain.decide_rejection(state, event.booking_id)
            if decision.delete_buyer:
                await uow.buyers.delete(buyer["id"])
            else:
                await uow.links.remove(event.booking_id, buyer["id"])
                await uow.buyers.touch([buyer["id"]])
            confirmed_changed |= decision.confirmed_changed
        if confirmed_changed:
            await _publish_unit_buyers(uow, [event.unit_id], event.booking_id)
        await uow.commit()


async def on_booking_cancelled(event: BookingCancelled, uow: BuyersUnitOfWork) -> None:
    """The unit is free again; its buyers stay on the buyer list, without this unit."""
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        if await uow.claims.claim(event.booking_id, BookingClaim.BOOKING_ENDED):
            await uow.commit()  # ended before its unit was held here: a late UnitReserved makes nothing
            return
        links = await uow.links.of_booking(event.booking_id)
        if links:
            await uow.links.remove(event.booking_id)
            await uow.buyers.touch(link["buyer_id"] for link in links)
            await _publish_unit_buyers(uow, [event.unit_id], event.booking_id)
        await uow.commit()


async def on_co_buyer_added(event: CoBuyerAdded, uow: BuyersUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        reason = domain.decide_buyer_creation(
            _contact(event.prospect), prospect_erased=await uow.erased.contains(event.prospect.prospect_id)
        )
        if not await uow.links.of_booking(event.booking_id):
            pass  # a booking this service never linked: nothing to add a buyer to
        elif reason:
            log.warning("co-buyer %s of booking %s not added: %s", event.prospect.prospect_id, event.booking_id, reason)
        else:
            buyer, renamed_units = await _buyer_copy(uow, event.prospect, event.occurred_at, event.booking_id)
            # a co-buyer joins an already confirmed booking, so the link is confirmed at once
            await uow.links.add_if_absent(buyer["id"], event.unit_id, event.booking_id, LinkState.CONFIRMED)
            await uow.links.confirm(event.booking_id, buyer["id"])
            await uow.buyers.touch([buyer["id"]], confirmed=True)
            await _publish_unit_buyers(uow, {event.unit_id, *renamed_units}, event.booking_id)
        await uow.commit()


async def on_co_buyer_removed(event: CoBuyerRemoved, uow: BuyersUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        buyer = await uow.buyers.by_prospect(event.prospect_id)
        if buyer is not None and await uow.links.remove(event.booking_id, buyer["id"]):
            await uow.buyers.touch([buyer["id"]])
            await _publish_unit_buyers(uow, [event.unit_id], event.booking_id)
        await uow.commit()


# ---- the prospect's own data ---------------------------------------------------------------


async def on_prospect_changed(event: ProspectChanged, uow: BuyersUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        buyer = await uow.buyers.by_prospect(event.prospect_id)
        contact = _contact(event)
        erased = await uow.erased.contains(event.prospect_id)
        if buyer is not None and domain.decide_buyer_creation(contact, prospect_erased=erased) is None:
            renamed_units = await _update_contact(uow, buyer, contact, event.occurred_at)
            await _publish_unit_buyers(uow, renamed_units, None)
        await uow.commit()


async def on_prospect_erased(event: ProspectErased, uow: BuyersUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        await uow.erased.add(event.prospect_id)
        buyer = await uow.buyers.by_prospect(event.prospect_id)
        if buyer is not None:
            state = await uow.buyers.state(buyer)
            if domain.decide_erasure(state) is domain.Erasure.DELETE:
                await uow.buyers.delete(buyer["id"])
            else:
                await uow.buyers.set_contact(buyer["id"], domain.ERASED, as_of=event.occurred_at)
                await _publish_unit_buyers(uow, domain.confirmed_units(state), None)
        await uow.commit()


# ---- the units service's data --------------------------------------------------------------


async def on_unit_changed(event: UnitChanged, uow: BuyersUnitOfWork) -> None:
    async with uow:
        if not await uow.first_time(CONSUMER, event):
            return
        await uow.unit_names.remember(event.unit_id, event.name, event.revision)
        await uow.commit()
