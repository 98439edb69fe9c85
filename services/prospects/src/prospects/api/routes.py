"""Thin HTTP layer: validate, call a handler, shape the answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

from contracts.types import BookingStatus
from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response, status

from nyprod_kit.api import Page, Paging, acting_user, paging
from nyprod_kit.errors import NotFound

from .. import handlers
from ..db.uow import ProspectsUnitOfWork
from ..domain import ProspectStatus, search_terms
from .schemas import (
    BookingAccepted,
    BookingCancel,
    BookingCreate,
    BookingOut,
    BookingStepOut,
    BuyerAccepted,
    BuyerCreate,
    CoBuyerAdd,
    CustomerCardOut,
    InterestsPut,
    ProspectCreate,
    ProspectOut,
    ProspectPatch,
)

router = APIRouter(prefix="/api/v1")

User = Annotated[str | None, Depends(acting_user)]
PageParams = Annotated[Paging, Depends(paging)]
IdempotencyKey = Annotated[
    str | None,
    Header(min_length=1, max_length=200, description="a retried request with the same key gets the same booking"),
]


async def get_uow(request: Request) -> ProspectsUnitOfWork:
    return request.app.state.uow_factory()


async def booking_deadline(request: Request) -> timedelta:
    return timedelta(seconds=request.app.state.settings.booking_deadline_seconds)


Uow = Annotated[ProspectsUnitOfWork, Depends(get_uow)]
Deadline = Annotated[timedelta, Depends(booking_deadline)]


def _booking_out(row: dict[str, Any]) -> BookingOut:
    return BookingOut(booking_id=row["id"], **{k: row[k] for k in BookingOut.model_fields if k != "booking_id"})


# ---- prospects ------------------------------------------------------------------------------


@router.post("/prospects", status_code=status.HTTP_201_CREATED, response_model=CustomerCardOut, tags=["prospects"])
async def create_prospect(body: ProspectCreate, uow: Uow) -> Any:
    prospect_id = await handlers.create_prospect(uow, body.model_dump())
    return await handlers.customer_card(uow, prospect_id)


@router.get("/prospects", response_model=Page[ProspectOut], tags=["prospects"])
async def list_prospects(
    uow: Uow,
    page: PageParams,
    q: Annotated[str | None, Query(max_length=200, description="part of the name, e-mail or phone number")] = None,
    status: ProspectStatus | None = None,
) -> Any:
    async with uow:
        rows, total = await uow.prospects.page(search_terms(q), status.value if status else None, page.limit, page.offset)
    return {"items": rows, "total": total}


@router.get("/prospects/{prospect_id}", response_model=CustomerCardOut, tags=["prospects"], summary="Kundkort")
async def get_prospect(prospect_id: UUID, uow: Uow) -> Any:
    return await handlers.customer_card(uow, prospect_id)


@router.patch("/prospects/{prospect_id}", response_model=CustomerCardOut, tags=["prospects"])
async def patch_prospect(prospect_id: UUID, body: ProspectPatch, uow: Uow) -> Any:
    await handlers.edit_prospect(uow, prospect_id, body.model_dump(exclude_unset=True))
    return await handlers.customer_card(uow, prospect_id)


@router.put("/prospects/{prospect_id}/interests", response_model=CustomerCardOut, tags=["prospects"])
async def put_interests(prospect_id: UUID, body: InterestsPut, uow: Uow) -> Any:
    await handlers.replace_interests(uow, prospect_id, body.unit_ids)
    return await handlers.customer_card(uow, prospect_id)


@router.delete(
    "/prospects/{prospect_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    tags=["prospects"],
    summary="Erase the prospect's personal data (GDPR)",
)
async def erase_prospect(prospect_id: UUID, uow: Uow) -> Response:
    await handlers.erase_prospect(uow, prospect_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- bookings -------------------------------------------------------------------------------


@router.post(
    "/bookings",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BookingOut | BookingAccepted,
    tags=["bookings"],
    summary="BOKA: start booking a unit for a prospect",
    description="With `wait=S` the answer comes once the booking is final (200, the whole booking) or after S "
    "seconds (202, the whole booking, still pending): the request and the wait for its outcome in one call.",
    responses={200: {"model": BookingOut | BookingAccepted, "description": "final within `wait`, or a retry with the same Idempotency-Key"}},
)
async def create_booking(
    body: BookingCreate,
    uow: Uow,
    user: User,
    deadline: Deadline,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    wait: Annotated[float, Query(ge=0, le=30, description="seconds to wait for the booking's outcome")] = 0,
) -> Any:
    idempotency = handlers.Idempotency.of(idempotency_key, "POST /bookings", body.model_dump(mode="json"))
    if wait > 0:
        accepted, booking = await handlers.request_booking_and_wait(
            uow, body.prospect_id, body.unit_id, user, deadline, idempotency, request.app.state.waiters, wait
        )
        if not accepted.created or booking["status"] != BookingStatus.PENDING.value:
            response.status_code = status.HTTP_200_OK
        return _booking_out(booking)
    accepted = await handlers.request_booking(uow, body.prospect_id, body.unit_id, user, deadline, idempotency)
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    return {"booking_id": accepted.booking_id, "status": accepted.status}


@router.get("/bookings", response_model=Page[BookingOut], tags=["bookings"])
async def list_bookings(
    uow: Uow,
    page: PageParams,
    prospect_id: Annotated[UUID | None, Query(description="bookings made for or bought by this prospect")] = None,
    unit_id: UUID | None = None,
    status: BookingStatus | None = None,
) -> Any:
    async with uow:
        rows, total = await uow.bookings.page(
            prospect_id=prospect_id, unit_id=unit_id, status=status.value if status else None, limit=page.limit, offset=page.offset
        )
    return {"items": [_booking_out(r) for r in rows], "total": total}


@router.get("/bookings/{booking_id}", response_model=BookingOut, tags=["bookings"])
async def get_booking(
    booking_id: UUID,
    uow: Uow,
    request: Request,
    wait: Annotated[float, Query(ge=0, le=30, description="seconds to wait for the booking to stop being pending")] = 0,
) -> Any:
    return _booking_out(await handlers.booking(uow, booking_id, request.app.state.waiters, wait))


@router.get("/bookings/{booking_id}/history", response_model=Page[BookingStepOut], tags=["bookings"])
async def booking_history(booking_id: UUID, uow: Uow, page: PageParams) -> Any:
    async with uow:
        if await uow.bookings.get(booking_id) is None:
            raise NotFound("booking", booking_id)
        rows, total = await uow.bookings.steps(booking_id, page.limit, page.offset)
    return {"items": rows, "total": total}


@router.post("/bookings/{booking_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=BookingOut, tags=["bookings"])
async def cancel_booking(booking_id: UUID, uow: Uow, user: User, body: Annotated[BookingCancel | None, Body()] = None) -> Any:
    return _booking_out(await handlers.cancel_booking(uow, booking_id, body.reason if body else None, user))


@router.post(
    "/bookings/{booking_id}/buyers",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BookingOut,
    tags=["bookings"],
    summary="Add a co-buyer to a confirmed booking",
)
async def add_co_buyer(booking_id: UUID, body: CoBuyerAdd, uow: Uow, user: User) -> Any:
    return _booking_out(await handlers.add_co_buyer(uow, booking_id, body.prospect_id, user))


@router.delete(
    "/bookings/{booking_id}/buyers/{prospect_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BookingOut,
    tags=["bookings"],
    summary="Remove a buyer; removing the last one cancels the booking",
)
async def remove_buyer(booking_id: UUID, prospect_id: UUID, uow: Uow, user: User) -> Any:
    return _booking_out(await handlers.remove_buyer(uow, booking_id, prospect_id, user))


# ---- buyers ---------------------------------------------------------------------------------


def _buyer_is(body: BuyerCreate) -> tuple[UUID | None, dict[str, Any] | None]:
    """(prospect_id, None), or (None, the new prospect's contact data)."""
    if body.prospect_id is not None:
        return body.prospect_id, None
    return None, body.model_dump(include={"first_name", "last_name", "email", "phone"})


@router.post(
    "/buyers",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BuyerAccepted,
    tags=["buyers"],
    summary="Add a buyer to a unit: books it for an existing or a new prospect",
    responses={200: {"model": BuyerAccepted, "description": "a retry: the booking the same Idempotency-Key made"}},
)
async def add_buyer(
    body: BuyerCreate, uow: Uow, user: User, deadline: Deadline, response: Response, idempotency_key: IdempotencyKey = None
) -> Any:
    prospect_id, contact = _buyer_is(body)
    accepted = await handlers.add_buyer(
        uow,
        body.unit_id,
        prospect_id,
        contact,
        user,
        deadline,
        handlers.Idempotency.of(idempotency_key, "POST /buyers", body.model_dump(mode="json")),
    )
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
    return {"booking_id": accepted.booking_id, "status": accepted.status, "prospect_id": accepted.prospect_id}
