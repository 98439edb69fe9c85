from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel

from nyprod_kit.api import Timestamp

from ..domain import LinkState


class BuyerUnitOut(BaseModel):
    unit_id: UUID
    # None until the unit's name has arrived from the units service
    unit_name: str | None
    booking_id: UUID


class BuyerOut(BaseModel):
    id: UUID
    prospect_id: UUID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    units: list[BuyerUnitOut]
    created_at: Timestamp
    updated_at: Timestamp


class BuyerLinkOut(BaseModel):
    buyer_id: UUID
    prospect_id: UUID
    unit_id: UUID
    booking_id: UUID
    state: LinkState
    created_at: Timestamp
