"""All SQL of the buyers service."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Insert

from nyprod_kit.db import insert_ignoring_duplicates

from ..domain import BookingClaim, BuyerState, Contact, Link, LinkState, SearchTerms, search_text
from .models import booking_claims, buyer_links, buyers, erased_prospects, unit_names


def _now() -> datetime:
    return datetime.now(UTC)


def _contact_values(contact: Contact) -> dict[str, Any]:
    return {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "search_text": search_text(contact),
    }


def contact_of(row: dict[str, Any]) -> Contact:
    return Contact(row["first_name"], row["last_name"], row["email"], row["phone"])


# The statements of the booking path are built once: constructing a statement and its cache
# key costs about as much as executing it. UPDATE parameters are named b_* because a key that
# equals a column name would be taken as a SET value.

_BUYER_BY_ID = select(buyers).where(buyers.c.id == bindparam("id"))
_BUYER_BY_PROSPECT = select(buyers).where(buyers.c.prospect_id == bindparam("prospect_id"))
_BUYER_BY_PROSPECT_FOR_UPDATE = _BUYER_BY_PROSPECT.with_for_update()
_SET_CONTACT = (
    update(buyers)
    .where(buyers.c.id == bindparam("b_id"))
    .values(
        first_name=bindparam("b_first_name"),
        last_name=bindparam("b_last_name"),
        email=bindparam("b_email"),
        phone=bindparam("b_phone"),
        search_text=bindparam("b_search_text"),
        contact_as_of=bindparam("b_contact_as_of"),
        updated_at=bindparam("b_updated_at"),
    )
)
_CONFIRM_CONTACT_AS_OF = (
    update(buyers).where(buyers.c.id == bindparam("b_id")).values(contact_as_of=bindparam("b_contact_as_of"))
)
_TOUCH = (
    update(buyers)
    .where(buyers.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(updated_at=bindparam("b_updated_at"))
)
_TOUCH_CONFIRMED = _TOUCH.values(ever_confirmed=True)
_DELETE_BUYER = delete(buyers).where(buyers.c.id == bindparam("buyer_id"))
_LINKS_OF_BUYER = (
    select(buyer_links.c.booking_id, buyer_links.c.unit_id, buyer_links.c.state)
    .where(buyer_links.c.buyer_id == bindparam("buyer_id"))
    .order_by(buyer_links.c.created_at, buyer_links.c.booking_id)
)

# every link of every buyer of one booking, with the buyer: a row per link
_BUYERS_OF_BOOKING_WITH_LINKS = (
    select(
        buyers,
        buyer_links.c.booking_id.label("link_booking_id"),
        buyer_links.c.unit_id.label("link_unit_id"),
        buyer_links.c.state.label("link_state"),
    )
    .select_from(buyers.join(buyer_links, buyer_links.c.buyer_id == buyers.c.id))
    .where(buyers.c.id.in_(select(buyer_links.c.buyer_id).where(buyer_links.c.booking_id == bindparam("booking_id"))))
    .order_by(buyers.c.created_at, buyers.c.id, buyer_links.c.created_at, buyer_links.c.booking_id)
)

_LINKS_OF_BOOKING = (
    select(buyer_links).where(buyer_links.c.booking_id == bindparam("booking_id")).order_by(buyer_links.c.created_at)
)
_CONFIRM_LINKS = (
    update(buyer_links)
    .where(buyer_links.c.booking_id == bindparam("b_booking_id"), buyer_links.c.state == LinkState.PENDING.value)
    .values(state=LinkState.CONFIRMED.value)
)
_CONFIRM_LINK_OF_BUYER = _CONFIRM_LINKS.where(buyer_links.c.buyer_id == bindparam("b_buyer_id"))
_REMOVE_LINKS = delete(buyer_links).where(buyer_links.c.booking_id == bindparam("booking_id"))
_REMOVE_LINK_OF_BUYER = _REMOVE_LINKS.where(buyer_links.c.buyer_id == bindparam("buyer_id"))
_CONFIRMED_BUYERS_OF_UNIT = (
    select(
        buyers.c.id.label("buyer_id"),
        buyers.c.prospect_id,
        buyers.c.first_name,
        buyers.c.last_name,
        buyer_links.c.booking_id,
    )
    .select_from(buyer_links.join(buyers, buyers.c.id == buyer_links.c.buyer_id))
    .where(buyer_links.c.unit_id == bindparam("unit_id"), buyer_links.c.state == LinkState.CONFIRMED.value)
    .order_by(buyer_links.c.created_at, buyers.c.id)
)

_B_REVISION = bindparam("b_revision")
_UPDATE_UNIT_NAME = (
    update(unit_names)
    .where(unit_names.c.unit_id == bindparam("b_unit_id"), unit_names.c.revision < _B_REVISION)
    .values(name=bindparam("b_name"), revision=_B_REVISION)
)

_ERASED_PROSPECT = select(erased_prospects.c.prospect_id).where(erased_prospects.c.prospect_id == bindparam("prospect_id"))
_ERASED_AMONG = select(erased_prospects.c.prospect_id).where(erased_prospects.c.prospect_id.in_(bindparam("ids", expanding=True)))

def _state(buyer: dict[str, Any], links: list[Link]) -> BuyerState:
    return BuyerState(
        buyer_id=buyer["id"],
        created_for_booking_id=buyer["created_for_booking_id"],
        ever_confirmed=bool(buyer["ever_confirmed"]),
        links=tuple(links),
    )


@functools.cache
def _insert_buyer(dialect_name: str) -> Insert:
    return insert_ignoring_duplicates(buyers, dialect_name).returning(*buyers.c)


class BuyerRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    @property
    def _dialect(self) -> str:
        return self.s.bind.dialect.name

    async def get(self, buyer_id: UUID) -> dict[str, Any] | None:
        row = (await self.s.execute(_BUYER_BY_ID, {"id": buyer_id})).mappings().first()
        return dict(row) if row else None

    async def by_prospect(self, prospect_id: UUID) -> dict[str, Any] | None:
        stmt = _BUYER_BY_PROSPECT_FOR_UPDATE if self._dialect == "postgresql" else _BUYER_BY_PROSPECT
        row = (await self.s.execute(stmt, {"prospect_id": prospect_id})).mappings().first()
        return dict(row) if row else None

    async def add_if_absent(
        self, buyer_id: UUID, prospect_id: UUID, contact: Contact, *, as_of: datetime, for_booking_id: UUID | None
    ) -> dict[str, Any] | None:
        """Insert the prospect's buyer copy unless it exists (a replica may have just made it);
        the new row, or None when it existed."""
        now = _now()
        result = await self.s.execute(
            _insert_buyer(self._dialect),
            {
                "id": buyer_id,
                "prospect_id": prospect_id,
                **_contact_values(contact),
                "contact_as_of": as_of,
                "ever_confirmed": False,
                "created_for_booking_id": for_booking_id,
                "created_at": now,
                "updated_at": now,
            },
        )
        row = result.mappings().first()
        return dict(row) if row else None

    async def set_contact(self, buyer_id: UUID, contact: Contact, *, as_of: datetime) -> None:
        await self.s.execute(
            _SET_CONTACT,
            {
                "b_id": buyer_id,
                **{f"b_{column}": value for column, value in _contact_values(contact).items()},
                "b_contact_as_of": as_of,
                "b_updated_at": _now(),
            },
        )

    async def confirm_contact_as_of(self, buyer_id: UUID, as_of: datetime) -> None:
        await self.s.execute(_CONFIRM_CONTACT_AS_OF, {"b_id": buyer_id, "b_contact_as_of": as_of})

    async def touch(self, buyer_ids: Iterable[UUID], *, confirmed: bool = False) -> None:
        ids = list(set(buyer_ids))
        if not ids:
            return
        await self.s.execute(_TOUCH_CONFIRMED if confirmed else _TOUCH, {"b_ids": ids, "b_updated_at": _now()})

    async def delete(self, buyer_id: UUID) -> None:
        """The buyer and (ON DELETE CASCADE) its links."""
        await self.s.execute(_DELETE_BUYER, {"buyer_id": buyer_id})

    async def of_booking_with_state(self, booking_id: UUID) -> list[tuple[dict[str, Any], BuyerState]]:
        """Each buyer linked to the booking, with its state (all its links), in one query."""
        rows = (await self.s.execute(_BUYERS_OF_BOOKING_WITH_LINKS, {"booking_id": booking_id})).mappings().all()
        links: dict[UUID, list[Link]] = {}
        found: dict[UUID, dict[str, Any]] = {}
        for r in rows:
            if r["id"] not in found:
                found[r["id"]] = {c.name: r[c.name] for c in buyers.c}
                links[r["id"]] = []
            links[r["id"]].append(Link(r["link_booking_id"], r["link_unit_id"], LinkState(r["link_state"])))
        return [(buyer, _state(buyer, links[buyer_id])) for buyer_id, buyer in found.items()]

    async def state(self, buyer: dict[str, Any]) -> BuyerState:
        rows = (await self.s.execute(_LINKS_OF_BUYER, {"buyer_id": buyer["id"]})).all()
        return _state(buyer, [Link(r.booking_id, r.unit_id, LinkState(r.state)) for r in rows])

    async def page(
        self, *, terms: SearchTerms | None, unit_id: UUID | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        where = []
        if terms is not None:
            words = and_(*(buyers.c.search_text.contains(w, autoescape=True) for w in terms.words))
            where.append(or_(words, buyers.c.search_text.contains(terms.phone, autoescape=True)) if terms.phone else words)
        if unit_id is not None:
            where.append(
                exists().where(
                    buyer_links.c.buyer_id == buyers.c.id,
                    buyer_links.c.unit_id == unit_id,
                    buyer_links.c.state == LinkState.CONFIRMED.value,
                )
            )
        total = await self.s.scalar(select(func.count()).select_from(buyers).where(*where))
        rows = (
            await self.s.execute(
                select(buyers)
                .where(*where)
                .order_by(buyers.c.last_name, buyers.c.first_name, buyers.c.id)
                .limit(limit)
                .offset(offset)
            )
        ).mappings()
        return [dict(r) for r in rows], int(total or 0)

    async def confirmed_units_of(self, buyer_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
        """Each buyer's confirmed units with their names (None while the name is not known)."""
        out: dict[UUID, list[dict[str, Any]]] = {b: [] for b in buyer_ids}
        if not buyer_ids:
            return out
        rows = (
            await self.s.execute(
                select(buyer_links.c.buyer_id, buyer_links.c.unit_id, buyer_links.c.booking_id, unit_names.c.name.label("unit_name"))
                .select_from(buyer_links.outerjoin(unit_names, unit_names.c.unit_id == buyer_links.c.unit_id))
                .where(buyer_links.c.buyer_id.in_(buyer_ids), buyer_links.c.state == LinkState.CONFIRMED.value)
                .order_by(buyer_links.c.created_at, buyer_links.c.booking_id)
            )
        ).mappings()
        for r in rows:
            out[r["buyer_id"]].append({"unit_id": r["unit_id"], "unit_name": r["unit_name"], "booking_id": r["booking_id"]})
        return out


class LinkRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add_if_absent(self, buyer_id: UUID, unit_id: UUID, booking_id: UUID, state: LinkState) -> bool:
        result = await self.s.execute(
            insert_ignoring_duplicates(buyer_links, self.s.bind.dialect.name),
            {"buyer_id": buyer_id, "booking_id": booking_id, "unit_id": unit_id, "state": state.value, "created_at": _now()},
        )
        return result.rowcount == 1

    async def of_booking(self, booking_id: UUID) -> list[dict[str, Any]]:
        rows = (await self.s.execute(_LINKS_OF_BOOKING, {"booking_id": booking_id})).mappings()
        return [dict(r) for r in rows]

    async def confirm(self, booking_id: UUID, buyer_id: UUID | None = None) -> None:
        if buyer_id is None:
            await self.s.execute(_CONFIRM_LINKS, {"b_booking_id": booking_id})
        else:
            await self.s.execute(_CONFIRM_LINK_OF_BUYER, {"b_booking_id": booking_id, "b_buyer_id": buyer_id})

    async def remove(self, booking_id: UUID, buyer_id: UUID | None = None) -> int:
        if buyer_id is None:
            result = await self.s.execute(_REMOVE_LINKS, {"booking_id": booking_id})
        else:
            result = await self.s.execute(_REMOVE_LINK_OF_BUYER, {"booking_id": booking_id, "buyer_id": buyer_id})
        return result.rowcount

    async def confirmed_buyers_of_unit(self, unit_id: UUID) -> list[dict[str, Any]]:
        rows = (await self.s.execute(_CONFIRMED_BUYERS_OF_UNIT, {"unit_id": unit_id})).mappings()
        return [dict(r) for r in rows]

    async def page(
        self,
        *,
        booking_id: UUID | None,
        unit_id: UUID | None,
        buyer_id: UUID | None,
        prospect_id: UUID | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        where = []
        if booking_id is not None:
            where.append(buyer_links.c.booking_id == booking_id)
        if unit_id is not None:
            where.append(buyer_links.c.unit_id == unit_id)
        if buyer_id is not None:
            where.append(buyer_links.c.buyer_id == buyer_id)
        if prospect_id is not None:
            where.append(buyers.c.prospect_id == prospect_id)
        joined = buyer_links.join(buyers, buyers.c.id == buyer_links.c.buyer_id)
        total = await self.s.scalar(select(func.count()).select_from(joined).where(*where))
        rows = (
            await self.s.execute(
                select(*buyer_links.c, buyers.c.prospect_id)
                .select_from(joined)
                .where(*where)
                .order_by(buyer_links.c.created_at, buyer_links.c.booking_id, buyer_links.c.buyer_id)
                .limit(limit)
                .offset(offset)
            )
        ).mappings()
        return [dict(r) for r in rows], int(total or 0)


class UnitNameRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def remember(self, unit_id: UUID, name: str, revision: int) -> None:
        """Keep the name of the highest revision seen: an older event arriving late changes nothing."""
        inserted = await self.s.execute(
            insert_ignoring_duplicates(unit_names, self.s.bind.dialect.name),
            {"unit_id": unit_id, "name": name, "revision": revision},
        )
        if inserted.rowcount == 0:
            await self.s.execute(_UPDATE_UNIT_NAME, {"b_unit_id": unit_id, "b_name": name, "b_revision": revision})


class ErasedProspectRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session
        self._known: dict[UUID, bool] = {}  # by read(), for a batch of events

    async def read(self, prospect_ids: Iterable[UUID]) -> None:
        """Which of these prospects were erased, in one query (for a batch of events)."""
        ids = sorted(set(prospect_ids) - self._known.keys())
        if not ids:
            return
        erased = set((await self.s.execute(_ERASED_AMONG, {"ids": ids})).scalars())
        self._known.update((prospect_id, prospect_id in erased) for prospect_id in ids)

    async def add(self, prospect_id: UUID) -> None:
        await self.s.execute(
            insert_ignoring_duplicates(erased_prospects, self.s.bind.dialect.name).values(prospect_id=prospect_id, erased_at=_now())
        )
        self._known[prospect_id] = True

    async def contains(self, prospect_id: UUID) -> bool:
        if prospect_id in self._known:
            return self._known[prospect_id]
        found = await self.s.scalar(_ERASED_PROSPECT, {"prospect_id": prospect_id})
        return found is not None


class BookingClaimRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def claim(self, booking_id: UUID, by: BookingClaim) -> bool:
        """True when this is the booking's first claim. A concurrent claim of the same booking
        waits for this transaction and then loses."""
        result = await self.s.execute(
            insert_ignoring_duplicates(booking_claims, self.s.bind.dialect.name),
            {"booking_id": booking_id, "claimed_by": by.value, "claimed_at": _now()},
        )
        return result.rowcount == 1
