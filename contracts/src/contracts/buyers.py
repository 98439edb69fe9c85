"""Events the buyers service publishes (topic ``buyers.events``, keyed by unit_id)."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from . import topics
from .envelope import Event


class BuyerEvent(Event):
    TOPIC: ClassVar[str] = topics.BUYERS

    unit_id: UUID


class BuyerCreated(BuyerEvent):
    """The buyer copy of the booking's prospect exists and holds a pending link to the unit."""

    TYPE: ClassVar[str] = "BuyerCreated"
    booking_id: UUID
    buyer_id: UUID
    prospect_id: UUID


class BuyerCreationFailed(BuyerEvent):
    TYPE: ClassVar[str] = "BuyerCreationFailed"
    booking_id: UUID
    reason: str = Field(max_length=100)


class UnitBuyer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    buyer_id: UUID
    prospect_id: UUID
    first_name: str
    last_name: str
    booking_id: UUID


class UnitBuyersChanged(BuyerEvent):
    """The unit's confirmed buyers after any change: the unit card shows them from a copy."""

    TYPE: ClassVar[str] = "UnitBuyersChanged"
    buyers: list[UnitBuyer]
