"""Pure rules about buyers. No I/O: plain data in, a decision out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, StrEnum
from uuid import UUID


class LinkState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Contact:
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None


ERASED = Contact(first_name="", last_name="")


@dataclass(frozen=True)
class Link:
    booking_id: UUID
    unit_id: UUID
    state: LinkState


@dataclass(frozen=True)
class BuyerState:
    buyer_id: UUID
    created_for_booking_id: UUID | None
    ever_confirmed: bool
    links: tuple[Link, ...]


class BookingClaim(StrEnum):
    """What reached this service first for a booking; only the first one acts."""

    UNIT_RESERVED = "unit_reserved"  # the buyer copy is made
    BOOKING_ENDED = "booking_ended"  # rejected or cancelled first: nothing is made for it


# ---- making a buyer copy ---------------------------------------------------------------------

# a UnitReserved from a units service that does not pass the prospect snapshot on
SNAPSHOT_MISSING = "prospect_snapshot_missing"

# the column sizes of the buyers table; longer data is refused as a saga answer, not dead-lettered
_LIMITS = {"first_name": 100, "last_name": 100, "email": 254, "phone": 100}


def decide_buyer_creation(contact: Contact, *, prospect_erased: bool) -> str | None:
    """None when a buyer copy can be made from this contact data, else the failure reason."""
    if prospect_erased:
        return "prospect_erased"
    if not contact.first_name.strip() or not contact.last_name.strip():
        return "prospect_name_missing"
    for field, limit in _LIMITS.items():
        value = getattr(contact, field)
        if value is not None and len(value) > limit:
            return "prospect_data_invalid"
    return None


def as_utc(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were written in UTC
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def is_newer(current_as_of: datetime, incoming_as_of: datetime) -> bool:
    """Whether contact data from ``incoming_as_of`` may replace data from ``current_as_of``."""
    return as_utc(incoming_as_of) >= as_utc(current_as_of)


def names_differ(old: Contact, new: Contact) -> bool:
    """The unit card shows only names, so only a name change needs telling the units service."""
    return (old.first_name, old.last_name) != (new.first_name, new.last_name)


# ---- ending links ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    drop: tuple[Link, ...]
    delete_buyer: bool
    confirmed_changed: bool


def decide_rejection(buyer: BuyerState, booking_id: UUID) -> Rejection:
    """A rejected booking leaves no trace: its links go, and so does a buyer row that was made
    for this booking alone (never confirmed, nothing else linked). A buyer who was one before,
    or is waiting on another booking, stays."""
    drop = tuple(link for link in buyer.links if link.booking_id == booking_id)
    remaining = [link for link in buyer.links if link.booking_id != booking_id]
    delete = bool(drop) and not remaining and not buyer.ever_confirmed and buyer.created_for_booking_id == booking_id
    return Rejection(
        drop=drop,
        delete_buyer=delete,
        confirmed_changed=any(link.state is LinkState.CONFIRMED for link in drop),
    )


class Erasure(Enum):
    DELETE = "delete"
    ANONYMISE = "anonymise"


def decide_erasure(buyer: BuyerState) -> Erasure:
    """A buyer without links goes entirely. One still linked keeps its row (so the booking it
    belongs to still has its buyer) but loses every personal detail."""
    return Erasure.ANONYMISE if buyer.links else Erasure.DELETE


def confirmed_units(buyer: BuyerState) -> set[UUID]:
    return {link.unit_id for link in buyer.links if link.state is LinkState.CONFIRMED}


# ---- search ----------------------------------------------------------------------------------

_PHONE_NOISE = re.compile(r"[\s\-().]")
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-().]+$")
_MIN_PHONE_DIGITS = 3


def normalize_phone(raw: str | None) -> str | None:
    """``070-123 45 67`` and ``+46 70 123 45 67`` both become ``+46701234567``; None when the
    text is not a phone number."""
    if not raw or not _PHONE_CHARS.match(raw.strip()):
        return None
    digits = _PHONE_NOISE.sub("", raw.strip())
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+46" + digits[1:]
    return digits or None


def search_text(contact: Contact) -> str:
    """What ``q`` is matched against, lowercased: "first last", e-mail, phone as typed and
    normalised, one per line."""
    parts = [f"{contact.first_name} {contact.last_name}", contact.email or "", contact.phone or ""]
    normalized = normalize_phone(contact.phone)
    if normalized:
        parts.append(normalized)
    return "\n".join(parts).lower()


@dataclass(frozen=True)
class SearchTerms:
    # every word must occur (so "anna svensson" and "svensson anna" both find Anna Svensson) …
    words: tuple[str, ...]
    # … or the query, read as a phone number, occurs in a normalised phone
    phone: str | None


def search_terms(q: str | None) -> SearchTerms | None:
    if q is None or not q.strip():
        return None
    words = tuple(q.lower().split())
    phone = normalize_phone(q)
    digit_count = sum(ch.isdigit() for ch in q)
    return SearchTerms(words=words, phone=phone if digit_count >= _MIN_PHONE_DIGITS else None)
