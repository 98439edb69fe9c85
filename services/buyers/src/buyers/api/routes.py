"""Thin HTTP layer: validate, read, shape the answer. Buyers change only through events."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from nyprod_kit.api import Page, Paging, paging
from nyprod_kit.errors import NotFound

from .. import domain
from ..db.uow import BuyersUnitOfWork
from .schemas import BuyerLinkOut, BuyerOut

router = APIRouter(prefix="/api/v1")

PageParams = Annotated[Paging, Depends(paging)]


async def get_uow(request: Request) -> BuyersUnitOfWork:
    return request.app.state.uow_factory()


Uow = Annotated[BuyersUnitOfWork, Depends(get_uow)]

_BUYER_FIELDS = ("id", "prospect_id", "first_name", "last_name", "email", "phone", "created_at", "updated_at")


def _buyer_out(row: dict[str, Any], units: list[dict[str, Any]]) -> BuyerOut:
    return BuyerOut(**{k: row[k] for k in _BUYER_FIELDS}, units=units)


@router.get("/buyers", response_model=Page[BuyerOut], tags=["buyers"])
async def list_buyers(
    uow: Uow,
    page: PageParams,
    q: Annotated[
        str | None, Query(max_length=100, description="part of the name, e-mail or phone; case-insensitive")
    ] = None,
    unit_id: Annotated[UUID | None, Query(description="only buyers with a confirmed booking of this unit")] = None,
) -> Any:
    async with uow:
        rows, total = await uow.buyers.page(
            terms=domain.search_terms(q), unit_id=unit_id, limit=page.limit, offset=page.offset
        )
        units = await uow.buyers.confirmed_units_of([r["id"] for r in rows])
    return {"items": [_buyer_out(r, units[r["id"]]) for r in rows], "total": total}


@router.get("/buyers/{buyer_id}", response_model=BuyerOut, tags=["buyers"])
async def get_buyer(buyer_id: UUID, uow: Uow) -> Any:
    async with uow:
        row = await uow.buyers.get(buyer_id)
        if row is None:
            raise NotFound("buyer", buyer_id)
        units = await uow.buyers.confirmed_units_of([buyer_id])
    return _buyer_out(row, units[buyer_id])


@router.get(
    "/buyer-links",
    response_model=Page[BuyerLinkOut],
    tags=["internal"],
    summary="Internal: every buyer↔unit link, pending ones included",
    description=(
        "For the invariant checker and operators, not for the web client: lists the links the "
        "booking saga made, with their state (`pending` while the booking runs, `confirmed` after)."
    ),
)
async def list_buyer_links(
    uow: Uow,
    page: PageParams,
    booking_id: UUID | None = None,
    unit_id: UUID | None = None,
    buyer_id: UUID | None = None,
    prospect_id: UUID | None = None,
) -> Any:
    async with uow:
        rows, total = await uow.links.page(
            booking_id=booking_id,
            unit_id=unit_id,
            buyer_id=buyer_id,
            prospect_id=prospect_id,
            limit=page.limit,
            offset=page.offset,
        )
    return {"items": rows, "total": total}
