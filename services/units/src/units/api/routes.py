"""Thin HTTP layer: validate, call a handler, shape the answer."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from contracts.types import UnitStatus
from fastapi import APIRouter, Body, Depends, Query, Request, status

from nyprod_kit.api import Page, Paging, acting_user, paging
from nyprod_kit.errors import NotFound

from .. import handlers
from ..db.uow import UnitsUnitOfWork
from .schemas import (
    CancelBookingIn,
    CancelBookingOut,
    HistoryEntryOut,
    ProjectCreate,
    ProjectOut,
    UnitCreate,
    UnitOut,
    UnitPatch,
)

router = APIRouter(prefix="/api/v1")

User = Annotated[str | None, Depends(acting_user)]
PageParams = Annotated[Paging, Depends(paging)]


async def get_uow(request: Request) -> UnitsUnitOfWork:
    return request.app.state.uow_factory()


Uow = Annotated[UnitsUnitOfWork, Depends(get_uow)]


def _unit_out(row: dict[str, Any], buyers: list[dict[str, Any]]) -> UnitOut:
    return UnitOut(
        **{k: row[k] for k in UnitOut.model_fields if k in row and k not in ("buyers", "booking_ids")},
        buyers=[{"buyer_id": b["buyer_id"], "first_name": b["first_name"], "last_name": b["last_name"]} for b in buyers],
        booking_ids=[row["booking_id"]] if row["booking_id"] else [],
    )


@router.post("/projects", status_code=status.HTTP_201_CREATED, response_model=ProjectOut, tags=["projects"])
async def create_project(body: ProjectCreate, uow: Uow) -> Any:
    return await handlers.create_project(uow, body.name)


@router.get("/projects", response_model=Page[ProjectOut], tags=["projects"])
async def list_projects(uow: Uow, page: PageParams) -> Any:
    async with uow:
        items, total = await uow.projects.page(page.limit, page.offset)
    return {"items": items, "total": total}


@router.get("/projects/{project_id}", response_model=ProjectOut, tags=["projects"])
async def get_project(project_id: UUID, uow: Uow) -> Any:
    async with uow:
        row = await uow.projects.get(project_id)
    if row is None:
        raise NotFound("project", project_id)
    return row


@router.post("/units", status_code=status.HTTP_201_CREATED, response_model=UnitOut, tags=["units"])
async def create_unit(body: UnitCreate, uow: Uow, user: User) -> Any:
    row = await handlers.create_unit(uow, body.model_dump(), user)
    return _unit_out(row, [])


@router.get("/units", response_model=Page[UnitOut], tags=["units"])
async def list_units(
    uow: Uow,
    page: PageParams,
    project_id: UUID | None = None,
    status: UnitStatus | None = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the unit's name")] = None,
) -> Any:
    async with uow:
        rows, total = await uow.units.page(
            project_id=project_id, status=status.value if status else None, q=q, limit=page.limit, offset=page.offset
        )
        buyers = await uow.units.buyers_of([r["id"] for r in rows])
    return {"items": [_unit_out(r, buyers[r["id"]]) for r in rows], "total": total}


@router.get("/units/{unit_id}", response_model=UnitOut, tags=["units"])
async def get_unit(unit_id: UUID, uow: Uow) -> Any:
    async with uow:
        row = await uow.units.get(unit_id)
        if row is None:
            raise NotFound("unit", unit_id)
        buyers = await uow.units.buyers_of([unit_id])
    return _unit_out(row, buyers[unit_id])


@router.patch("/units/{unit_id}", response_model=UnitOut, tags=["units"])
async def patch_unit(unit_id: UUID, body: UnitPatch, uow: Uow, user: User) -> Any:
    row = await handlers.edit_unit(uow, unit_id, body.model_dump(exclude_unset=True), user)
    async with uow:
        buyers = await uow.units.buyers_of([unit_id])
    return _unit_out(row, buyers[unit_id])


@router.post(
    "/units/{unit_id}/cancel-booking",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CancelBookingOut,
    tags=["units"],
    summary="Avboka: make the unit available and cancel its bookings",
)
async def cancel_booking(unit_id: UUID, uow: Uow, user: User, body: Annotated[CancelBookingIn | None, Body()] = None) -> Any:
    booking_id = await handlers.cancel_booking(uow, unit_id, body.reason if body else None, user)
    return {"unit_id": unit_id, "status": UnitStatus.AVAILABLE, "booking_ids": [booking_id] if booking_id else []}


@router.get("/units/{unit_id}/history", response_model=Page[HistoryEntryOut], response_model_by_alias=True, tags=["units"])
async def unit_history(unit_id: UUID, uow: Uow, page: PageParams) -> Any:
    async with uow:
        if await uow.units.state(unit_id) is None:
            raise NotFound("unit", unit_id)
        rows, total = await uow.history.page(unit_id, page.limit, page.offset)
    return {
        "items": [
            HistoryEntryOut.model_validate(
                {"at": r["at"], "from": r["from_status"], "to": r["to_status"], "booking_id": r["booking_id"], "by": r["by"], "reason": r["reason"]}
            )
            for r in rows
        ],
        "total": total,
    }
