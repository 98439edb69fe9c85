"""Events the prospects service publishes: the booking saga's commands and outcomes.

All are keyed by unit_id (topic ``prospects.events``) except the prospect's own data events,
which are keyed by prospect_id.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from . import topics
from .envelope import Event
from .types import ProspectSnapshot


class BookingEvent(Event):
    TOPIC: ClassVar[str] = topics.PROSPECTS

    booking_id: UUID
    unit_id: UUID


class BookingRequested(BookingEvent):
    """BOKA was pressed: units should reserve the unit (and its UnitReserved takes the prospect
    snapshot on to buyers, who make the buyer copy)."""

    TYPE: ClassVar[str] = "BookingRequested"
    prospect: ProspectSnapshot
    requested_by: str | None = None


class BookingConfirmed(BookingEvent):
    TYPE: ClassVar[str] = "BookingConfirmed"
    prospect_id: UUID


class BookingRejected(BookingEvent):
    """The saga failed; every participant undoes what it did for this booking, if anything."""

    TYPE: ClassVar[str] = "BookingRejected"
    prospect_id: UUID
    reason: str = Field(max_length=100)
    # the unit answered no, so no UnitReserved exists for this booking and nothing made from one
    # (a buyer copy) can exist or arrive later
    unit_refused: bool = False


class BookingCancelled(BookingEvent):
    """A confirmed (or still pending) booking was undone; the unit returns to available."""

    TYPE: ClassVar[str] = "BookingCancelled"
    prospect_ids: list[UUID]
    reason: str | None = Field(default=None, max_length=1000)
    cancelled_by: str | None = None


class CoBuyerAdded(BookingEvent):
    """Another prospect buys the already confirmed booking's unit together with its holder."""

    TYPE: ClassVar[str] = "CoBuyerAdded"
    prospect: ProspectSnapshot


class CoBuyerRemoved(BookingEvent):
    TYPE: ClassVar[str] = "CoBuyerRemoved"
    prospect_id: UUID


class ProspectEvent(Event):
    TOPIC: ClassVar[str] = topics.PROSPECTS
    KEY_FIELD: ClassVar[str] = "prospect_id"

    prospect_id: UUID


class ProspectChanged(ProspectEvent):
    """Contact data changed; a buyer copy follows it."""

    TYPE: ClassVar[str] = "ProspectChanged"
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None


class ProspectErased(ProspectEvent):
    """GDPR erasure: every copy of this person's data is erased too."""

    TYPE: ClassVar[str] = "ProspectErased"
