"""The baseline the sales-launch benchmark compares the saga with: what a team would otherwise
build — one PostgreSQL database holding units and bookings, and a booking that is ONE local
transaction behind an HTTP endpoint as thin as a service's. Not part of the product.

    BASELINE_DATABASE_URL=postgresql+asyncpg://… python tests/bench/baseline_app.py --port 8090

Endpoints (no auth, like a service behind the gateway):
- ``POST /units`` ``{name}`` → 201 ``{id, name, status}``
- ``POST /bookings`` ``{prospect_id, unit_id}`` → 201 ``{booking_id, status, reason}``, the final
  status at once: ``UPDATE units SET status='booked' … WHERE status='available'`` and the
  booking row (confirmed or rejected ``unit_not_available``) commit together; an unknown unit
  → 404 (the booking's foreign key).
- ``GET /bookings/{id}`` → the booking; ``GET /healthz``.
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from nyprod_kit.db import make_engine

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS units (
        id uuid PRIMARY KEY,
        name varchar(100) NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'available',
        booking_id uuid,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE IF NOT EXISTS bookings (
        id uuid PRIMARY KEY,
        prospect_id uuid NOT NULL,
        unit_id uuid NOT NULL REFERENCES units (id),
        status varchar(16) NOT NULL,
        reason varchar(64),
        created_at timestamptz NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX IF NOT EXISTS bookings_unit_id ON bookings (unit_id)",
)


class UnitIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class BookingIn(BaseModel):
    prospect_id: uuid.UUID
    unit_id: uuid.UUID


def build_app(database_url: str) -> FastAPI:
    # the same engine and pool settings as the services (nyprod_kit.db.make_engine)
    engine = make_engine(database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            for statement in SCHEMA:
                await conn.execute(text(statement))
        yield
        await engine.dispose()

    app = FastAPI(title="booking baseline (one database, one transaction)", lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.post("/units", status_code=201)
    async def create_unit(body: UnitIn) -> dict:
        unit_id = uuid.uuid4()
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO units (id, name) VALUES (:id, :name)"), {"id": unit_id, "name": body.name})
        return {"id": str(unit_id), "name": body.name, "status": "available"}

    @app.post("/bookings", status_code=201)
    async def book(body: BookingIn) -> dict:
        booking_id = uuid.uuid4()
        try:
            async with engine.begin() as conn:
                taken = await conn.execute(
                    text(
                        "UPDATE units SET status = 'booked', booking_id = :b, updated_at = now() "
                        "WHERE id = :u AND status = 'available'"
                    ),
                    {"b": booking_id, "u": body.unit_id},
                )
                status, reason = ("confirmed", None) if taken.rowcount == 1 else ("rejected", "unit_not_available")
                await conn.execute(
                    text("INSERT INTO bookings (id, prospect_id, unit_id, status, reason) VALUES (:id, :p, :u, :s, :r)"),
                    {"id": booking_id, "p": body.prospect_id, "u": body.unit_id, "s": status, "r": reason},
                )
        except IntegrityError:
            raise HTTPException(404, "unknown unit") from None
        return {"booking_id": str(booking_id), "status": status, "reason": reason}

    @app.get("/bookings/{booking_id}")
    async def get_booking(booking_id: uuid.UUID, request: Request) -> dict:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT id, prospect_id, unit_id, status, reason FROM bookings WHERE id = :id"), {"id": booking_id}
                )
            ).first()
        if row is None:
            raise HTTPException(404, "unknown booking")
        return {"booking_id": str(row.id), "prospect_id": str(row.prospect_id), "unit_id": str(row.unit_id), "status": row.status, "reason": row.reason}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="booking baseline: one database, one local transaction")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--database-url", default=os.environ.get("BASELINE_DATABASE_URL"))
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url or BASELINE_DATABASE_URL is required")
    # a single worker and no access log, like each of the services (nyprod_kit.runtime.serve)
    uvicorn.run(build_app(args.database_url), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
