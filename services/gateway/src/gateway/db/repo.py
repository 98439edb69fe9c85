"""All SQL of the gateway."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain import Role
from .models import users


def _now() -> datetime:
    return datetime.now(UTC)


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def get(self, username: str) -> dict[str, Any] | None:
        row = (await self.s.execute(select(users).where(users.c.username == username))).mappings().first()
        return dict(row) if row else None

    async def usernames(self) -> set[str]:
        return set((await self.s.execute(select(users.c.username))).scalars())

    async def page(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        total = await self.s.scalar(select(func.count()).select_from(users))
        rows = (await self.s.execute(select(users).order_by(users.c.username).limit(limit).offset(offset))).mappings()
        return [dict(r) for r in rows], int(total or 0)

    async def add(self, username: str, password_hash: str, role: Role) -> dict[str, Any]:
        now = _now()
        row = {
            "username": username,
            "password_hash": password_hash,
            "role": role.value,
            "token_version": 1,
            "created_at": now,
            "updated_at": now,
        }
        await self.s.execute(insert(users).values(row))
        return row

    async def change(self, username: str, changes: dict[str, Any]) -> None:
        """Apply changes and end the user's earlier tokens."""
        await self.s.execute(
            update(users)
            .where(users.c.username == username)
            .values(**changes, token_version=users.c.token_version + 1, updated_at=_now())
        )

    async def delete(self, username: str) -> None:
        await self.s.execute(delete(users).where(users.c.username == username))

    async def admin_count(self, *, lock: bool = False) -> int:
        """How many admins exist. ``lock`` holds their rows (PostgreSQL) so two admins cannot
        demote or delete each other at once and leave none; SQLite serialises writers anyway."""
        stmt = select(users.c.username).where(users.c.role == Role.ADMIN.value)
        if lock and self.s.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return len((await self.s.execute(stmt)).all())
