"""The buyers service's tables (its own database)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

from nyprod_kit.tables import inbox_table, outbox_table

MIGRATIONS = Path(__file__).parent / "migrations"

metadata = MetaData()

# the buyer copy of a prospect: at most one per prospect, collecting all of its units
buyers = Table(
    "buyers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("prospect_id", Uuid, nullable=False, unique=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email", String(254)),
    Column("phone", String(100)),
    # lowercased in Python (SQLite's lower() knows only ASCII, so å/ä/ö would not match)
    Column("search_text", Text, nullable=False),
    # when the contact data above was true at the prospects service: an older snapshot
    # arriving late (booking and prospect events travel on different partitions) loses
    Column("contact_as_of", DateTime(timezone=True), nullable=False),
    # once a link was confirmed the buyer is a real buyer and outlives rejected bookings
    Column("ever_confirmed", Boolean, nullable=False),
    # the booking whose request made this row: if that booking is rejected before the buyer
    # ever had a confirmed unit, the row goes with it
    Column("created_for_booking_id", Uuid),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_buyers_name", "last_name", "first_name"),
)

# a buyer's part in a booking of a unit: pending while the saga runs, then confirmed
buyer_links = Table(
    "buyer_links",
    metadata,
    Column("buyer_id", Uuid, ForeignKey("buyers.id", ondelete="CASCADE"), primary_key=True),
    Column("booking_id", Uuid, primary_key=True),
    Column("unit_id", Uuid, nullable=False),
    Column("state", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_buyer_links_booking", "booking_id"),
    Index("ix_buyer_links_unit", "unit_id", "state"),
)

# copy of the units service's unit names, fed by UnitChanged; only a higher revision wins
unit_names = Table(
    "unit_names",
    metadata,
    Column("unit_id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("revision", Integer, nullable=False),
)

# prospects erased under GDPR: a later booking request for one of them cannot make a buyer
erased_prospects = Table(
    "erased_prospects",
    metadata,
    Column("prospect_id", Uuid, primary_key=True),
    Column("erased_at", DateTime(timezone=True), nullable=False),
)

# which came first for a booking: its UnitReserved (the buyer copy is made) or its end (rejected
# or cancelled; a UnitReserved arriving later makes nothing). The two travel on different topics
# and may be handled at once by different consumers: the primary key lets only one claim win.
booking_claims = Table(
    "booking_claims",
    metadata,
    Column("booking_id", Uuid, primary_key=True),
    Column("claimed_by", String(20), nullable=False),  # unit_reserved | booking_ended
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
