from __future__ import annotations

from typing import Annotated
from uuid import UUID

from contracts.types import UnitStatus
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nyprod_kit.api import Timestamp

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(max_length=10_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectCreate(Strict):
    name: Name


class ProjectOut(BaseModel):
    id: UUID
    name: str
    created_at: Timestamp


class UnitData(Strict):
    rooms: float | None = Field(default=None, ge=0, le=100)
    living_area_sqm: float | None = Field(default=None, ge=0, le=100_000)
    floor: int | None = Field(default=None, ge=-10, le=300)
    price_sek: int | None = Field(default=None, ge=0, le=10**12)
    monthly_fee_sek: int | None = Field(default=None, ge=0, le=10**9)
    description: Text | None = None


class UnitCreate(UnitData):
    project_id: UUID
    name: Name


class UnitPatch(UnitData):
    name: Name | None = None
    status: UnitStatus | None = None


class UnitBuyerOut(BaseModel):
    buyer_id: UUID
    first_name: str
    last_name: str


class UnitOut(BaseModel):
    id: UUID
    project_id: UUID
    name: str
    rooms: float | None
    living_area_sqm: float | None
    floor: int | None
    price_sek: int | None
    monthly_fee_sek: int | None
    description: str | None
    status: UnitStatus
    buyers: list[UnitBuyerOut]
    booking_ids: list[UUID]
    created_at: Timestamp
    updated_at: Timestamp


class CancelBookingIn(Strict):
    reason: Text | None = None


class CancelBookingOut(BaseModel):
    unit_id: UUID
    status: UnitStatus
    booking_ids: list[UUID]


class HistoryEntryOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    at: Timestamp
    from_: UnitStatus | None = Field(alias="from", serialization_alias="from")
    to: UnitStatus
    booking_id: UUID | None
    by: str | None
    reason: str | None
