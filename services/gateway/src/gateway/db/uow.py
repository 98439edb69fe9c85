"""One database transaction over the users table; leaving without commit rolls back."""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .repo import UserRepo


class GatewayUnitOfWork:
    users: UserRepo

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self.session: AsyncSession

    async def __aenter__(self) -> Self:
        self.session = self._sessionmaker()
        self.users = UserRepo(self.session)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.session.rollback()
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()
