"""All SQL of the units service."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from contracts.types import UnitStatus
from sqlalchemy import ColumnElement, Row, Update, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nyprod_kit.db import is_postgres

from ..domain import TAKEN, UnitState, holds
from .models import projects, unit_buyers, unit_status_history, units


def _now() -> datetime:
    return datetime.now(UTC)


# The booking rush path's statements are built once: constructing a statement and its cache key
# costs about as much as executing it. UPDATE parameters are named b_* because a parameter named
# after a column is reserved for that column's SET value.
_GET_UNIT = select(units).where(units.c.id == bindparam("id"))
_GET_UNIT_FOR_UPDATE = _GET_UNIT.with_for_update()
_STATE_COLUMNS = select(units.c.id, units.c.status, units.c.booking_id)
_UNIT_STATE = _STATE_COLUMNS.where(units.c.id == bindparam("id"))
_UNIT_STATES = _STATE_COLUMNS.where(units.c.id.in_(bindparam("ids", expanding=True)))
_BOOK_IF_AVAILABLE = (
    update(units)
    .where(units.c.id == bindparam("b_id"), units.c.status == UnitStatus.AVAILABLE.value)
    .values(
        status=UnitStatus.BOOKED.value, booking_id=bindparam("b_booking_id"), revision=units.c.revision + 1, updated_at=bindparam("b_now")
    )
)


def _release_held(held_by: ColumnElement[bool]) -> Update:
    return (
        update(units)
        .where(units.c.id == bindparam("b_id"), held_by, units.c.status == bindparam("b_status"))
        .values(status=UnitStatus.AVAILABLE.value, booking_id=None, revision=units.c.revision + 1, updated_at=bindparam("b_now"))
    )


_RELEASE_HELD_BY = _release_held(units.c.booking_id == bindparam("b_booking_id"))
# `= NULL` never matches, so a unit held by no booking needs `IS NULL`
_RELEASE_HELD_BY_NONE = _release_held(units.c.booking_id.is_(None))
def _state(row: Row) -> UnitState:
    return UnitState(row.id, UnitStatus(row.status), row.booking_id)


_BUYERS_OF = (
    select(unit_buyers)
    .where(unit_buyers.c.unit_id.in_(bindparam("ids", expanding=True)))
    .order_by(unit_buyers.c.last_name, unit_buyers.c.first_name)
)
_DELETE_BUYERS = delete(unit_buyers).where(unit_buyers.c.unit_id == bindparam("unit_id"))
_INSERT_BUYERS = insert(unit_buyers)
_INSERT_HISTORY = insert(unit_status_history)


class ProjectRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, project_id: UUID, name: str) -> dict[str, Any]:
        row = {"id": project_id, "name": name, "created_at": _now()}
        await self.s.execute(insert(projects).values(row))
        return row

    async def get(self, project_id: UUID) -> dict[str, Any] | None:
        row = (await self.s.execute(select(projects).where(projects.c.id == project_id))).mappings().first()
        return dict(row) if row else None

    async def page(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        total = await self.s.scalar(select(func.count()).select_from(projects))
        rows = (
            await self.s.execute(select(projects).order_by(projects.c.created_at, projects.c.id).limit(limit).offset(offset))
        ).mappings()
        return [dict(r) for r in rows], int(total or 0)


class UnitRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session
        # read by read_states() for a batch of events; a unit this transaction changes is dropped
        # (and read again when needed)
        self._states: dict[UUID, UnitState | None] = {}

    async def read_states(self, unit_ids: Iterable[UUID]) -> None:
        """The state of the units a batch of events is about, in one query. Not locked: the
        conditional updates stay the guard, as for a single ``state()``."""
        ids = sorted(set(unit_ids) - self._states.keys())
        if not ids:
            return
        found = {r.id: _state(r) for r in await self.s.execute(_UNIT_STATES, {"ids": ids})}
        for unit_id in ids:
            self._states[unit_id] = found.get(unit_id)

    async def add(self, data: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        row = {**data, "status": UnitStatus.AVAILABLE.value, "booking_id": None, "revision": 1, "created_at": now, "updated_at": now}
        await self.s.execute(insert(units).values(row))
        return row

    async def get(self, unit_id: UUID, *, for_update: bool = False) -> dict[str, Any] | None:
        stmt = _GET_UNIT_FOR_UPDATE if for_update and is_postgres(self.s) else _GET_UNIT
        row = (await self.s.execute(stmt, {"id": unit_id})).mappings().first()
        return dict(row) if row else None

    async def state(self, unit_id: UUID) -> UnitState | None:
        if unit_id in self._states:
            return self._states[unit_id]
        row = (await self.s.execute(_UNIT_STATE, {"id": unit_id})).first()
        return _state(row) if row else None

    async def name_taken(self, project_id: UUID, name: str, except_id: UUID | None = None) -> bool:
        stmt = select(units.c.id).where(units.c.project_id == project_id, units.c.name == name)
        if except_id:
            stmt = stmt.where(units.c.id != except_id)
        return (await self.s.execute(stmt)).first() is not None

    async def page(
        self, *, project_id: UUID | None, status: str | None, q: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        where = []
        if project_id:
            where.append(units.c.project_id == project_id)
        if status:
            where.append(units.c.status == status)
        if q:
            where.append(func.lower(units.c.name).contains(q.lower(), autoescape=True))
        total = await self.s.scalar(select(func.count()).select_from(units).where(*where))
        rows = (
            await self.s.execute(select(units).where(*where).order_by(units.c.name, units.c.id).limit(limit).offset(offset))
        ).mappings()
        return [dict(r) for r in rows], int(total or 0)

    async def book_if_available(self, unit_id: UUID, booking_id: UUID) -> bool:
        """The concurrency guard: exactly one booking can move an available unit to booked."""
        result = await self.s.execute(_BOOK_IF_AVAILABLE, {"b_id": unit_id, "b_booking_id": booking_id, "b_now": _now()})
        booked = result.rowcount == 1
        if unit_id in self._states:
            if booked:
                self._states[unit_id] = UnitState(unit_id, UnitStatus.BOOKED, booking_id)
            else:
                del self._states[unit_id]  # not as read: read it again
        return booked

    async def release_if_held_by(self, unit_id: UUID, booking_id: UUID) -> str | None:
        """Make the unit available if this booking holds it; returns the status it had."""
        if unit_id in self._states and not holds(self._states[unit_id], booking_id):
            # only this booking's own request could have made it the holder, and that came first
            return None
        self._states.pop(unit_id, None)
        current = await self.get(unit_id, for_update=True)
        if current is None or current["booking_id"] != booking_id or current["status"] not in TAKEN:
            return None
        params = {"b_id": unit_id, "b_status": current["status"], "b_now": _now()}
        if booking_id is None:
            result = await self.s.execute(_RELEASE_HELD_BY_NONE, params)
        else:
            result = await self.s.execute(_RELEASE_HELD_BY, {**params, "b_booking_id": booking_id})
        return current["status"] if result.rowcount == 1 else None

    async def change_status_if(self, unit_id: UUID, expected: str, new: str) -> bool:
        self._states.pop(unit_id, None)
        result = await self.s.execute(
            update(units)
            .where(units.c.id == unit_id, units.c.status == expected)
            .values(status=new, revision=units.c.revision + 1, updated_at=_now())
        )
        return result.rowcount == 1

    async def edit(self, unit_id: UUID, changes: dict[str, Any]) -> None:
        self._states.pop(unit_id, None)
        await self.s.execute(
            update(units).where(units.c.id == unit_id).values(**changes, revision=units.c.revision + 1, updated_at=_now())
        )

    async def buyers_of(self, unit_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
        out: dict[UUID, list[dict[str, Any]]] = {u: [] for u in unit_ids}
        if not unit_ids:
            return out
        rows = (await self.s.execute(_BUYERS_OF, {"ids": unit_ids})).mappings()
        for r in rows:
            out[r["unit_id"]].append(dict(r))
        return out

    async def replace_buyers(self, unit_id: UUID, buyers: list[dict[str, Any]]) -> None:
        await self.s.execute(_DELETE_BUYERS, {"unit_id": unit_id})
        if buyers:
            await self.s.execute(_INSERT_BUYERS, [{**b, "unit_id": unit_id} for b in buyers])


class HistoryRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def record(
        self, unit_id: UUID, from_status: str | None, to_status: str, *, booking_id: UUID | None, by: str | None, reason: str | None = None
    ) -> None:
        row = {"unit_id": unit_id, "at": _now(), "from_status": from_status, "to_status": to_status, "booking_id": booking_id}
        await self.s.execute(_INSERT_HISTORY, {**row, "by": by, "reason": reason})

    async def page(self, unit_id: UUID, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        where = unit_status_history.c.unit_id == unit_id
        total = await self.s.scalar(select(func.count()).select_from(unit_status_history).where(where))
        rows = (
            await self.s.execute(
                select(unit_status_history).where(where).order_by(unit_status_history.c.id).limit(limit).offset(offset)
            )
        ).mappings()
        return [dict(r) for r in rows], int(total or 0)
