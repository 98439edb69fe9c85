"""Small pieces every service's HTTP layer uses: pagination and the acting user."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Header, Query
from pydantic import AfterValidator, BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


class Paging(BaseModel):
    limit: int
    offset: int


# dependencies are async: FastAPI runs a plain def dependency in its thread pool, per request
async def paging(
    limit: Annotated[int, Query(ge=1, le=500, description="page size, at most 500")] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


async def acting_user(x_nyprod_user: Annotated[str | None, Header(max_length=100)] = None) -> str | None:
    """The logged-in user's name, passed on by the gateway, for history records."""
    return x_nyprod_user


def _assume_utc(value: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; everything is stored in UTC
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Timestamp = Annotated[datetime, AfterValidator(_assume_utc)]
