"""The gateway's own tables: only its users (it keeps no booking data)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table

MIGRATIONS = Path(__file__).parent / "migrations"

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("password_hash", String(300), nullable=False),
    Column("role", String(20), nullable=False),
    # grows when the password or role changes, which ends the user's earlier tokens
    Column("token_version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_users_role", "role"),
)
