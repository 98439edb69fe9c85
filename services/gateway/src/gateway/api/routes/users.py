"""User management, for admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response, status

from nyprod_kit.api import Page, Paging, paging
from nyprod_kit.errors import NotFound

from ... import handlers
from ...domain import USERNAME_PATTERN
from ..deps import Admin, CachedUsers, Uow
from ..schemas import UserCreate, UserOut, UserPatch

router = APIRouter(prefix="/api/v1/users", tags=["users"])


PageParams = Annotated[Paging, Depends(paging)]
UsernameInPath = Annotated[str, Path(min_length=1, max_length=100, pattern=USERNAME_PATTERN)]


@router.get("", response_model=Page[UserOut])
async def list_users(_: Admin, uow: Uow, page: PageParams) -> Any:
    async with uow:
        items, total = await uow.users.page(page.limit, page.offset)
    return {"items": items, "total": total}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserOut)
async def create_user(body: UserCreate, _: Admin, uow: Uow, users: CachedUsers) -> Any:
    return await handlers.create_user(uow, body.username, body.password, body.role, users)


@router.get("/{username}", response_model=UserOut)
async def get_user(username: UsernameInPath, _: Admin, uow: Uow) -> Any:
    async with uow:
        row = await uow.users.get(username.lower())
    if row is None:
        raise NotFound("user", username)
    return row


@router.patch("/{username}", response_model=UserOut)
async def change_user(username: UsernameInPath, body: UserPatch, _: Admin, uow: Uow, users: CachedUsers) -> Any:
    return await handlers.change_user(uow, username.lower(), password=body.password, role=body.role, cache=users)


@router.delete("/{username}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_user(username: UsernameInPath, _: Admin, uow: Uow, users: CachedUsers) -> Response:
    await handlers.delete_user(uow, username.lower(), users)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
