"""The units service's tables (its own database)."""

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
    UniqueConstraint,
    Uuid,
)

from nyprod_kit.tables import BigId, inbox_table, outbox_table

MIGRATIONS = Path(__file__).parent / "migrations"

metadata = MetaData()

projects = Table(
    "projects",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

units = Table(
    "units",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("project_id", Uuid, ForeignKey("projects.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("rooms", Float),
    Column("living_area_sqm", Float),
    Column("floor", Integer),
    Column("price_sek", BigInteger),
    Column("monthly_fee_sek", BigInteger),
    Column("description", Text),
    Column("status", String(20), nullable=False),
    # the booking that holds the unit while it is booked, reserved or sold
    Column("booking_id", Uuid),
    # grows with every change; copies in other services keep the highest
    Column("revision", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project_id", "name", name="uq_units_project_name"),
    Index("ix_units_status", "status"),
)

unit_status_history = Table(
    "unit_status_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("unit_id", Uuid, ForeignKey("units.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("booking_id", Uuid),
    Column("by", String(100)),
    Column("reason", Text),
    Index("ix_unit_status_history_unit", "unit_id", "id"),
)

# copy of the buyers service's confirmed buyers per unit, fed by UnitBuyersChanged
unit_buyers = Table(
    "unit_buyers",
    metadata,
    Column("unit_id", Uuid, primary_key=True),
    Column("buyer_id", Uuid, primary_key=True),
    Column("prospect_id", Uuid, nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("booking_id", Uuid, nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
