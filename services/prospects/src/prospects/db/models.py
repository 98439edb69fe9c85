"""The prospects service's tables (its own database).

On PostgreSQL the first migration also adds trigram (pg_trgm) GIN indexes on the three search
columns, so a partial, case-insensitive search stays fast with many prospects. They are not
declared here because SQLite has no such index: an autogenerate compared with a PostgreSQL
database proposes dropping them — keep them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    text,
)

from nyprod_kit.tables import BigId, inbox_table, outbox_table

MIGRATIONS = Path(__file__).parent / "migrations"

metadata = MetaData()

prospects = Table(
    "prospects",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email", String(254)),
    Column("phone", String(40)),  # as typed
    Column("note", Text),
    Column("status", String(20), nullable=False),
    # Search columns, written in Python next to the data they come from: SQLite's lower() only
    # folds ASCII, and å/ä/ö must match whatever case they were typed in.
    Column("name_search", String(201), nullable=False),  # "first last", folded
    Column("email_search", String(254)),  # folded
    Column("phone_search", String(40)),  # normalised: digits only, +46 as a leading 0
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_prospects_list_order", "last_name", "first_name", "id"),
    Index("ix_prospects_status", "status"),
)

interests = Table(
    "interests",
    metadata,
    Column("prospect_id", Uuid, ForeignKey("prospects.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", Uuid, primary_key=True),
    Column("position", Integer, nullable=False),
    Index("ix_interests_unit", "unit_id"),
)

# copy of every unit, fed by the units service's UnitChanged events (only a higher revision wins)
units = Table(
    "units",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, nullable=False),
    Column("name", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("rooms", Float),
    Column("living_area_sqm", Float),
    Column("floor", Integer),
    Column("price_sek", BigInteger),
    Column("monthly_fee_sek", BigInteger),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The saga's state. prospect_id has no foreign key: an erased prospect's bookings keep only ids.
bookings = Table(
    "bookings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("prospect_id", Uuid, nullable=False),
    Column("unit_id", Uuid, nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", Text),
    Column("unit_answer", String(10)),
    Column("buyer_answer", String(10)),
    Column("buyer_id", Uuid),
    Column("requested_by", String(100)),
    Column("deadline_at", DateTime(timezone=True), nullable=False),
    # grows with every change: a save that finds another version lost a race and is retried
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_bookings_prospect", "prospect_id"),
    Index("ix_bookings_unit", "unit_id"),
    Index(
        "ix_bookings_pending_deadline",
        "deadline_at",
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
)

# who buys the booked unit: the holder and any co-buyers
booking_buyers = Table(
    "booking_buyers",
    metadata,
    Column("booking_id", Uuid, ForeignKey("bookings.id"), primary_key=True),
    Column("prospect_id", Uuid, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Index("ix_booking_buyers_prospect", "prospect_id"),
)

# every step of every booking: who, when and why
booking_steps = Table(
    "booking_steps",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("booking_id", Uuid, ForeignKey("bookings.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("step", String(50), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", Text),
    Column("by", String(100)),
    Column("prospect_id", Uuid),  # the co-buyer added or removed
    Index("ix_booking_steps_booking", "booking_id", "id"),
)

# a retried POST with the same Idempotency-Key gets the booking the first one made
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("booking_id", Uuid, nullable=False),
    # hash of the request the key was first used with: the same key with another request is refused
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
