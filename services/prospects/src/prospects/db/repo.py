"""All SQL of the prospects service."""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from contracts.types import BookingStatus, UnitStatus
from sqlalchemy import ColumnElement, Integer, Select, bindparam, delete, exists, func, insert, or_, select, text, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Insert

from nyprod_kit.db import insert_ignoring_duplicates

from ..booking_saga import Answer, Booking
from ..domain import ProspectStatus, SearchTerms
from .models import booking_buyers, booking_steps, bookings, idempotency_keys, interests, outbox, prospects, units


# a trigram index can only narrow a search down with a term of at least three characters
TRIGRAM = 3


def _now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; every stored timestamp is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


_PLAN_FOR_THE_PARAMETERS = text("SET LOCAL plan_cache_mode = force_custom_plan")


def _is_postgres(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"


# The statements of the booking path are built once: constructing a statement (and its cache key)
# costs about as much as executing it. Values come in as parameters; UPDATE parameters are named
# apart from the columns they set, which SQLAlchemy reserves for the SET clause.

_GET_PROSPECT = select(prospects).where(prospects.c.id == bindparam("id"))
_GET_PROSPECT_FOR_UPDATE = _GET_PROSPECT.with_for_update()

_BUYS_CONFIRMED = exists(
    select(booking_buyers.c.booking_id)
    .join(bookings, bookings.c.id == booking_buyers.c.booking_id)
    .where(booking_buyers.c.prospect_id == prospects.c.id, bookings.c.status == BookingStatus.CONFIRMED.value)
)
_MAKE_BUYERS = (
    update(prospects)
    .where(
        prospects.c.id.in_(bindparam("b_ids", expanding=True)),
        _BUYS_CONFIRMED,
        prospects.c.status != ProspectStatus.BUYER.value,
    )
    .values(status=ProspectStatus.BUYER.value, updated_at=bindparam("b_now"))
)
_UNMAKE_BUYERS = (
    update(prospects)
    .where(
        prospects.c.id.in_(bindparam("b_ids", expanding=True)),
        ~_BUYS_CONFIRMED,
        prospects.c.status != ProspectStatus.PROSPECT.value,
    )
    .values(status=ProspectStatus.PROSPECT.value, updated_at=bindparam("b_now"))
)

_INSERT_BOOKING = insert(bookings)
_INSERT_BUYERS = insert(booking_buyers)
_INSERT_STEP = insert(booking_steps)

# a booking with its buyers: a row per buyer (see _with_its_buyers)
_BOOKING_AND_BUYERS = select(bookings, booking_buyers.c.prospect_id.label("buyer")).outerjoin(
    booking_buyers, booking_buyers.c.booking_id == bookings.c.id
)
_GET_BOOKING = _BOOKING_AND_BUYERS.where(bookings.c.id == bindparam("id")).order_by(booking_buyers.c.position)
# several, in id order: the order every transaction takes their locks in
_LOCK_BOOKINGS = _BOOKING_AND_BUYERS.where(bookings.c.id.in_(bindparam("ids", expanding=True))).order_by(
    bookings.c.id, booking_buyers.c.position
)
_LOCK_BOOKINGS_FOR_UPDATE = _LOCK_BOOKINGS.with_for_update(of=bookings)

_SAVE_BOOKING = (
    update(bookings)
    .where(
        bookings.c.id == bindparam("b_id"),
        bookings.c.status == bindparam("b_was_status"),
        bookings.c.version == bindparam("b_was_version"),
    )
    .values(
        status=bindparam("b_status"),
        reason=bindparam("b_reason"),
        unit_answer=bindparam("b_unit_answer"),
        buyer_answer=bindparam("b_buyer_answer"),
        buyer_id=bindparam("b_buyer_id"),
        version=bindparam("b_version"),
        updated_at=bindparam("b_updated_at"),
    )
)
# every save of a transaction in one statement (PostgreSQL), each row still only if its booking
# is as it was read; the count of rows changed tells whether all were
# (its parameters are _SAVE_BOOKING's, each an array of one value per booking)
_SAVE_BOOKINGS = text(
    "UPDATE bookings AS b SET status = v.status, reason = v.reason, unit_answer = v.unit_answer,"
    " buyer_answer = v.buyer_answer, buyer_id = v.buyer_id, version = v.version, updated_at = v.updated_at"
    " FROM unnest(CAST(:b_id AS uuid[]), CAST(:b_was_status AS text[]), CAST(:b_was_version AS int[]),"
    " CAST(:b_status AS text[]), CAST(:b_reason AS text[]), CAST(:b_unit_answer AS text[]),"
    " CAST(:b_buyer_answer AS text[]), CAST(:b_buyer_id AS uuid[]), CAST(:b_version AS int[]),"
    " CAST(:b_updated_at AS timestamptz[]))"
    " AS v(id, was_status, was_version, status, reason, unit_answer, buyer_answer, buyer_id, version, updated_at)"
    " WHERE b.id = v.id AND b.status = v.was_status AND b.version = v.was_version"
)
_REMOVE_BUYERS = delete(booking_buyers).where(
    booking_buyers.c.booking_id == bindparam("booking_id"),
    booking_buyers.c.prospect_id.in_(bindparam("prospect_ids", expanding=True)),
)
_LAST_BUYER_POSITION = select(func.max(booking_buyers.c.position)).where(
    booking_buyers.c.booking_id == bindparam("booking_id")
)

_OVERDUE = (
    select(bookings.c.id)
    .where(bookings.c.status == BookingStatus.PENDING.value, bookings.c.deadline_at <= bindparam("now"))
    .order_by(bookings.c.deadline_at)
    .limit(bindparam("limit", type_=Integer))
)

_BUYERS_OF = (
    select(booking_buyers.c.booking_id, booking_buyers.c.prospect_id)
    .where(booking_buyers.c.booking_id.in_(bindparam("ids", expanding=True)))
    .order_by(booking_buyers.c.booking_id, booking_buyers.c.position)
)

_GET_IDEMPOTENCY_KEY = select(idempotency_keys).where(idempotency_keys.c.key == bindparam("key"))

@functools.cache
def _upsert_unit_statement(dialect_name: str, columns: tuple[str, ...]) -> Insert:
    """ON CONFLICT is spelled per dialect, so this is built on first use for each."""
    ins = postgresql.insert(units) if dialect_name == "postgresql" else sqlite.insert(units)
    return ins.on_conflict_do_update(
        index_elements=[units.c.id],
        set_={k: ins.excluded[k] for k in columns if k != "id"},
        where=units.c.revision < ins.excluded.revision,
    )


class ProspectRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, row: dict[str, Any]) -> None:
        await self.s.execute(insert(prospects).values(row))

    async def get(self, prospect_id: UUID, *, for_update: bool = False) -> dict[str, Any] | None:
        stmt = _GET_PROSPECT_FOR_UPDATE if for_update and _is_postgres(self.s) else _GET_PROSPECT
        row = (await self.s.execute(stmt, {"id": prospect_id})).mappings().first()
        return dict(row) if row else None

    async def edit(self, prospect_id: UUID, changes: dict[str, Any]) -> None:
        await self.s.execute(update(prospects).where(prospects.c.id == prospect_id).values(**changes))

    async def erase(self, prospect_id: UUID) -> None:
        """Delete the person and their interests, and the already published events that still
        carry their data (bookings keep the prospect's id only)."""
        await self.s.execute(delete(interests).where(interests.c.prospect_id == prospect_id))
        await self.s.execute(delete(prospects).where(prospects.c.id == prospect_id))
        await self.s.execute(
            delete(outbox).where(outbox.c.sent_at.is_not(None), outbox.c.body.contains(str(prospect_id), autoescape=True))
        )

    async def page(
        self, terms: SearchTerms | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        if terms and _is_postgres(self.s):
            await self.plan_for_the_term()
        if terms and len(terms.text) >= TRIGRAM:
            await self.prefer_search_indexes()
        where = self.filters(terms, status)
        total = await self.s.scalar(select(func.count()).select_from(prospects).where(*where))
        rows = (await self.s.execute(self.search_statement(terms, status).limit(limit).offset(offset))).mappings()
        return [dict(r) for r in rows], int(total or 0)

    async def plan_for_the_term(self) -> None:
        """For the rest of this transaction, on PostgreSQL: plan each statement for its actual
        parameters. A search's best plan depends on the term (a rare name: the trigram index),
        and the generic plan PostgreSQL switches to after five executions of a prepared statement
        cannot see the term and may walk the whole list. Only searches ask for it: planning every
        statement anew would cost the booking path's many small statements their cached plans."""
        await self.s.execute(_PLAN_FOR_THE_PARAMETERS)

    async def prefer_search_indexes(self) -> None:
        """For the rest of this transaction, on PostgreSQL: no walking the list in its order.

        How often a "%…%" term occurs is guessed from a small sample, and for a rare name the guess
        is often far too high; the planner then walks the list-order index filtering each row
        until a page is full, which for a name sorting late reads the whole list. Without plain
        index scans it uses the trigram indexes, or for a very common term reads the table once —
        both fast."""
        if _is_postgres(self.s):
            await self.s.execute(text("SET LOCAL enable_indexscan = off"))

    @staticmethod
    def filters(terms: SearchTerms | None, status: str | None) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if status:
            where.append(prospects.c.status == status)
        if terms:
            # LIKE '%…%' on the folded columns; on PostgreSQL each is served by a trigram index
            matches = [
                prospects.c.name_search.contains(terms.text, autoescape=True),
                prospects.c.email_search.contains(terms.text, autoescape=True),
            ]
            if terms.phone:
                matches.append(prospects.c.phone_search.contains(terms.phone, autoescape=True))
            where.append(or_(*matches))
        return where

    @classmethod
    def search_statement(cls, terms: SearchTerms | None, status: str | None) -> Select:
        return (
            select(prospects)
            .where(*cls.filters(terms, status))
            .order_by(prospects.c.last_name, prospects.c.first_name, prospects.c.id)
        )

    async def refresh_status(self, prospect_ids: set[UUID]) -> None:
        """A prospect is a buyer exactly while it buys (holds or co-buys) a confirmed booking."""
        if not prospect_ids:
            return
        params = {"b_ids": list(prospect_ids), "b_now": _now()}
        await self.s.execute(_MAKE_BUYERS, params)
        await self.s.execute(_UNMAKE_BUYERS, params)

    # ---- interests -------------------------------------------------------------------------

    async def replace_interests(self, prospect_id: UUID, unit_ids: list[UUID]) -> None:
        await self.s.execute(delete(interests).where(interests.c.prospect_id == prospect_id))
        if unit_ids:
            await self.s.execute(
                insert(interests), [{"prospect_id": prospect_id, "unit_id": u, "position": i} for i, u in enumerate(unit_ids)]
            )

    async def interests_of(self, prospect_id: UUID) -> list[dict[str, Any]]:
        rows = await self.s.execute(
            select(interests.c.unit_id, units.c.name.label("unit_name"), units.c.status.label("unit_status"))
            .select_from(interests.outerjoin(units, units.c.id == interests.c.unit_id))
            .where(interests.c.prospect_id == prospect_id)
            .order_by(interests.c.position)
        )
        return [
            {**r, "bookable": r["unit_status"] == UnitStatus.AVAILABLE.value}
            for r in (dict(m) for m in rows.mappings())
        ]


class UnitCopyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def upsert_if_newer(self, row: dict[str, Any]) -> bool:
        """Insert the unit, or overwrite the copy when ``row`` has a higher revision."""
        stmt = _upsert_unit_statement(self.s.bind.dialect.name, tuple(row))
        result = await self.s.execute(stmt, row)
        return result.rowcount == 1

    async def get(self, unit_id: UUID) -> dict[str, Any] | None:
        row = (await self.s.execute(select(units).where(units.c.id == unit_id))).mappings().first()
        return dict(row) if row else None

    async def unknown(self, unit_ids: list[UUID]) -> list[UUID]:
        """Those of ``unit_ids`` that are not in the copy, in the given order."""
        if not unit_ids:
            return []
        known = set((await self.s.execute(select(units.c.id).where(units.c.id.in_(unit_ids)))).scalars())
        return [u for u in unit_ids if u not in known]


class LoadedBooking(NamedTuple):
    booking: Booking
    version: int
    row: dict[str, Any]  # as get() returns it


def _with_its_buyers(rows: Sequence[RowMapping]) -> dict[str, Any]:
    """The booking's row from the rows of the booking-and-buyers join (one per buyer, in order)."""
    booking = dict(rows[0])
    del booking["buyer"]
    booking["buyers"] = [r["buyer"] for r in rows if r["buyer"] is not None]
    return booking


def _loaded(row: dict[str, Any]) -> LoadedBooking:
    booking = Booking(
        booking_id=row["id"],
        unit_id=row["unit_id"],
        prospect_id=row["prospect_id"],
        status=BookingStatus(row["status"]),
        buyers=tuple(row["buyers"]),
        deadline_at=aware(row["deadline_at"]),
        reason=row["reason"],
        unit_answer=Answer(row["unit_answer"]) if row["unit_answer"] else None,
        buyer_answer=Answer(row["buyer_answer"]) if row["buyer_answer"] else None,
        buyer_id=row["buyer_id"],
    )
    return LoadedBooking(booking, row["version"], row)


class BookingChangedMeanwhile(Exception):
    """Another transaction changed a booking between our read and our write."""


class BookingRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session
        self._steps: list[dict[str, Any]] = []  # recorded, written by write_steps()
        self._locked: dict[UUID, LoadedBooking] = {}  # read by lock_all(), kept up to date by save()
        self._saves: dict[UUID, dict[str, Any]] = {}  # by save(), written by flush()

    async def add(self, booking: Booking, requested_by: str | None, now: datetime) -> None:
        await self.s.execute(
            _INSERT_BOOKING,
            {
                "id": booking.booking_id,
                "prospect_id": booking.prospect_id,
                "unit_id": booking.unit_id,
                "status": booking.status.value,
                "reason": booking.reason,
                "unit_answer": None,
                "buyer_answer": None,
                "buyer_id": None,
                "requested_by": requested_by,
                "deadline_at": booking.deadline_at,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            },
        )
        await self._add_buyers(booking.booking_id, list(booking.buyers), 0, now)

    async def lock_all(self, booking_ids: Iterable[UUID]) -> None:
        """Lock and read bookings for this transaction, in one query and in id order: those a
        batch of events is about, or the one ``load`` is asked for."""
        ids = sorted(set(booking_ids) - self._locked.keys())
        if not ids:
            return
        stmt = _LOCK_BOOKINGS_FOR_UPDATE if _is_postgres(self.s) else _LOCK_BOOKINGS
        rows = (await self.s.execute(stmt, {"ids": ids})).mappings().all()
        for _, of_one in itertools.groupby(rows, key=lambda r: r["id"]):
            loaded = _loaded(_with_its_buyers(list(of_one)))
            self._locked[loaded.booking.booking_id] = loaded

    async def load(self, booking_id: UUID) -> LoadedBooking | None:
        """The booking locked for this transaction: its saga state, its version (for the
        conditional save) and its row; what ``lock_all`` read already, as later saved."""
        await self.lock_all([booking_id])
        return self._locked.get(booking_id)

    async def save(self, loaded: LoadedBooking, after: Booking, now: datetime) -> dict[str, Any]:
        """Store ``after``, on condition that the booking is still as it was read (status and
        version): of two racing writers (a late answer and the deadline sweeper, say) exactly
        one wins. The row is written by ``flush`` (at commit, or before this repository reads)
        together with the transaction's other saves; a lost race raises BookingChangedMeanwhile
        there. Returns the row as ``get`` will read it after commit."""
        before, version = loaded.booking, loaded.version
        values = {
            "status": after.status.value,
            "reason": after.reason,
            "unit_answer": after.unit_answer.value if after.unit_answer else None,
            "buyer_answer": after.buyer_answer.value if after.buyer_answer else None,
            "buyer_id": after.buyer_id,
            "version": version + 1,
            "updated_at": now,
        }
        # saved twice in one transaction: one write, conditional on the state first read
        first = self._saves.get(before.booking_id, {"b_was_status": before.status.value, "b_was_version": version})
        self._saves[before.booking_id] = {
            "b_id": before.booking_id,
            "b_was_status": first["b_was_status"],
            "b_was_version": first["b_was_version"],
            **{f"b_{column}": value for column, value in values.items()},
        }
        if before.buyers != after.buyers:
            gone = [p for p in before.buyers if p not in after.buyers]
            if gone:
                await self.s.execute(_REMOVE_BUYERS, {"booking_id": before.booking_id, "prospect_ids": gone})
            added = [p for p in after.buyers if p not in before.buyers]
            if added:
                last = await self.s.scalar(_LAST_BUYER_POSITION, {"booking_id": before.booking_id})
                await self._add_buyers(before.booking_id, added, (last if last is not None else -1) + 1, now)
        # in the order get() reads them: by position, the added ones last
        buyers = [p for p in before.buyers if p in after.buyers] + [p for p in after.buyers if p not in before.buyers]
        saved = {**loaded.row, **values, "buyers": buyers}
        self._locked[before.booking_id] = _loaded(saved)
        return saved

    async def flush(self) -> None:
        """Write the saves made so far; BookingChangedMeanwhile if any booking was no longer as
        read (the transaction must then be rolled back and tried again)."""
        if not self._saves:
            return
        saves, self._saves = list(self._saves.values()), {}
        if _is_postgres(self.s):
            arrays = {key: [save[key] for save in saves] for key in saves[0]}
            written = (await self.s.execute(_SAVE_BOOKINGS, arrays)).rowcount
        else:
            written = sum([(await self.s.execute(_SAVE_BOOKING, save)).rowcount for save in saves])
        if written != len(saves):
            self._locked.clear()
            raise BookingChangedMeanwhile(f"{len(saves) - written} of {len(saves)} bookings changed meanwhile")

    async def _add_buyers(self, booking_id: UUID, prospect_ids: list[UUID], first_position: int, now: datetime) -> None:
        await self.s.execute(
            _INSERT_BUYERS,
            [
                {"booking_id": booking_id, "prospect_id": p, "position": first_position + i, "added_at": now}
                for i, p in enumerate(prospect_ids)
            ],
        )

    def record_step(
        self, booking_id: UUID, step: str, status: BookingStatus, reason: str | None, by: str | None, prospect_id: UUID | None, now: datetime
    ) -> None:
        """A step for the booking's history, written with the transaction's other steps when it
        commits (see ``write_steps``): a consumer settling a batch of bookings writes them all in
        one statement."""
        self._steps.append(
            {"booking_id": booking_id, "at": now, "step": step, "status": status.value, "reason": reason, "by": by, "prospect_id": prospect_id}
        )

    async def write_steps(self) -> None:
        if self._steps:
            steps, self._steps = self._steps, []
            await self.s.execute(_INSERT_STEP, steps)

    async def steps(self, booking_id: UUID, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        await self.flush()  # reads see the saves made so far
        where = booking_steps.c.booking_id == booking_id
        total = await self.s.scalar(select(func.count()).select_from(booking_steps).where(where))
        rows = (
            await self.s.execute(select(booking_steps).where(where).order_by(booking_steps.c.id).limit(limit).offset(offset))
        ).mappings()
        return [dict(r) for r in rows], int(total or 0)

    async def overdue(self, now: datetime, limit: int) -> list[UUID]:
        """Pending bookings whose deadline has passed, oldest first."""
        await self.flush()  # reads see the saves made so far
        rows = await self.s.execute(_OVERDUE, {"now": now, "limit": limit})
        return list(rows.scalars())

    # ---- reading -------------------------------------------------------------------------

    async def get(self, booking_id: UUID) -> dict[str, Any] | None:
        """The booking with its buyers in order, in one query (a row per buyer)."""
        await self.flush()  # reads see the saves made so far
        rows = (await self.s.execute(_GET_BOOKING, {"id": booking_id})).mappings().all()
        return _with_its_buyers(rows) if rows else None

    async def page(
        self, *, prospect_id: UUID | None, unit_id: UUID | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        await self.flush()  # reads see the saves made so far
        where = []
        if prospect_id:
            where.append(bookings.c.id.in_(self._ids_of_prospect(prospect_id)))
        if unit_id:
            where.append(bookings.c.unit_id == unit_id)
        if status:
            where.append(bookings.c.status == status)
        total = await self.s.scalar(select(func.count()).select_from(bookings).where(*where))
        rows = (
            await self.s.execute(
                select(bookings).where(*where).order_by(bookings.c.created_at.desc(), bookings.c.id).limit(limit).offset(offset)
            )
        ).mappings()
        return await self._with_buyers([dict(r) for r in rows]), int(total or 0)

    async def of_prospect(self, prospect_id: UUID) -> list[dict[str, Any]]:
        """Every booking made for or bought by the prospect, newest first, with the unit's name."""
        await self.flush()  # reads see the saves made so far
        rows = await self.s.execute(
            select(bookings.c.id.label("booking_id"), bookings.c.unit_id, units.c.name.label("unit_name"), bookings.c.status)
            .select_from(bookings.outerjoin(units, units.c.id == bookings.c.unit_id))
            .where(bookings.c.id.in_(self._ids_of_prospect(prospect_id)))
            .order_by(bookings.c.created_at.desc(), bookings.c.id)
        )
        return [dict(r) for r in rows.mappings()]

    async def prospect_buys(self, prospect_id: UUID, status: BookingStatus) -> bool:
        """Whether the prospect is a buyer (holder or co-buyer) of a booking in ``status``."""
        await self.flush()  # reads see the saves made so far
        stmt = (
            select(booking_buyers.c.booking_id)
            .join(bookings, bookings.c.id == booking_buyers.c.booking_id)
            .where(booking_buyers.c.prospect_id == prospect_id, bookings.c.status == status.value)
            .limit(1)
        )
        return (await self.s.execute(stmt)).first() is not None

    @staticmethod
    def _ids_of_prospect(prospect_id: UUID):  # noqa: ANN205
        return union(
            select(bookings.c.id).where(bookings.c.prospect_id == prospect_id),
            select(booking_buyers.c.booking_id).where(booking_buyers.c.prospect_id == prospect_id),
        )

    async def _with_buyers(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        buyers: dict[UUID, list[UUID]] = defaultdict(list)
        if rows:
            result = await self.s.execute(_BUYERS_OF, {"ids": [r["id"] for r in rows]})
            for booking_id, prospect_id in result:
                buyers[booking_id].append(prospect_id)
        return [{**r, "buyers": buyers[r["id"]]} for r in rows]


class IdempotencyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def claim(self, key: str, booking_id: UUID, fingerprint: str) -> bool:
        """Take the key for this booking; False when another request already has it. On
        PostgreSQL a concurrent request with the same key waits here until the first commits."""
        stmt = insert_ignoring_duplicates(idempotency_keys, self.s.bind.dialect.name)
        params = {"key": key, "booking_id": booking_id, "fingerprint": fingerprint, "created_at": _now()}
        return (await self.s.execute(stmt, params)).rowcount == 1

    async def get(self, key: str) -> dict[str, Any] | None:
        row = (await self.s.execute(_GET_IDEMPOTENCY_KEY, {"key": key})).mappings().first()
        return dict(row) if row else None

