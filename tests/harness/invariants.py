"""The invariant checker: reads the three services' databases and reports every violation of
the system's invariants, naming the rows. Run it when the system is quiet (no booking in
flight), e.g. after a test scenario or a benchmark:

    python -m harness.invariants [--units URL --prospects URL --buyers URL]
    (make check; the URLs default to the local run's databases)

Invariants (architecture.md):
- a booked/reserved/sold unit has exactly one confirmed booking, the one it records, and every
  buyer of that booking has a confirmed buyer link to it;
- an available unit has no confirmed booking and no confirmed buyer link;
- a prospect is `buyer` exactly when it is a buyer of a confirmed booking;
- no booking is pending; no outbox row is left unsent;
- no event was applied twice: each unit's history is one unbroken chain ending in its status;
- the copies of a unit's status (prospects) and of its buyers (units) agree with the owners.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[2]
TAKEN = {"booked", "reserved", "sold"}


@dataclass
class Databases:
    units: str
    prospects: str
    buyers: str

    @classmethod
    def local(cls) -> Databases:
        run = Path(os.environ.get("NYPROD_RUN_DIR", ROOT / ".run"))
        return cls(
            **{
                name: os.environ.get(f"{name.upper()}_DATABASE_URL", f"sqlite+aiosqlite:///{run}/{name}.db")
                for name in ("units", "prospects", "buyers")
            }
        )


async def _rows(url: str, sql: str) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql))).all())
    finally:
        await engine.dispose()


def _id(value) -> str:  # noqa: ANN001 - UUIDs come back as UUID (Postgres) or str (SQLite)
    return str(value).replace("-", "") if value is not None else ""


async def check(dbs: Databases) -> list[str]:
    units, history, unit_buyers, units_unsent = await asyncio.gather(
        _rows(dbs.units, "SELECT id, status, booking_id, name FROM units"),
        _rows(dbs.units, "SELECT unit_id, from_status, to_status, id FROM unit_status_history ORDER BY unit_id, id"),
        _rows(dbs.units, "SELECT unit_id, buyer_id, booking_id FROM unit_buyers"),
        _rows(dbs.units, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"),
    )
    bookings, booking_buyers, prospects, unit_copies, prospects_unsent = await asyncio.gather(
        _rows(dbs.prospects, "SELECT id, unit_id, status, prospect_id FROM bookings"),
        _rows(dbs.prospects, "SELECT booking_id, prospect_id FROM booking_buyers"),
        _rows(dbs.prospects, "SELECT id, status FROM prospects"),
        _rows(dbs.prospects, "SELECT id, status FROM units"),
        _rows(dbs.prospects, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"),
    )
    buyers, links, buyers_unsent = await asyncio.gather(
        _rows(dbs.buyers, "SELECT id, prospect_id FROM buyers"),
        _rows(dbs.buyers, "SELECT buyer_id, booking_id, unit_id, state FROM buyer_links"),
        _rows(dbs.buyers, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"),
    )

    problems: list[str] = []
    confirmed_by_unit: dict[str, list[str]] = defaultdict(list)
    status_of_booking = {_id(b.id): b.status for b in bookings}
    for b in bookings:
        if b.status == "confirmed":
            confirmed_by_unit[_id(b.unit_id)].append(_id(b.id))
        if b.status == "pending":
            problems.append(f"booking {b.id} is still pending (unit {b.unit_id})")
    buyers_of_booking: dict[str, set[str]] = defaultdict(set)
    for bb in booking_buyers:
        buyers_of_booking[_id(bb.booking_id)].add(_id(bb.prospect_id))
    prospect_of_buyer = {_id(b.id): _id(b.prospect_id) for b in buyers}
    confirmed_links: dict[str, set[tuple[str, str]]] = defaultdict(set)  # unit → {(booking, prospect)}
    for link in links:
        if link.state == "confirmed":
            confirmed_links[_id(link.unit_id)].add((_id(link.booking_id), prospect_of_buyer.get(_id(link.buyer_id), "?")))
            if status_of_booking.get(_id(link.booking_id)) != "confirmed":
                problems.append(
                    f"buyer {link.buyer_id} has a confirmed link to unit {link.unit_id} for booking {link.booking_id}, "
                    f"which is {status_of_booking.get(_id(link.booking_id), 'unknown')}"
                )
        elif status_of_booking.get(_id(link.booking_id)) in ("rejected", "cancelled", "confirmed"):
            problems.append(f"buyer {link.buyer_id} keeps a {link.state} link for booking {link.booking_id}, which is {status_of_booking[_id(link.booking_id)]}")

    for u in units:
        uid = _id(u.id)
        confirmed = confirmed_by_unit.get(uid, [])
        if u.status in TAKEN:
            if len(confirmed) != 1:
                problems.append(f"unit {u.name} ({u.id}) is {u.status} but has {len(confirmed)} confirmed bookings {confirmed}")
            elif confirmed[0] != _id(u.booking_id):
                problems.append(f"unit {u.name} ({u.id}) is held by booking {u.booking_id} but the confirmed booking is {confirmed[0]}")
            else:
                expected = {(confirmed[0], p) for p in buyers_of_booking.get(confirmed[0], set())}
                if confirmed_links.get(uid, set()) != expected:
                    problems.append(f"unit {u.name} ({u.id}): buyer links {sorted(confirmed_links.get(uid, set()))} differ from the booking's buyers {sorted(expected)}")
        else:
            if confirmed:
                problems.append(f"unit {u.name} ({u.id}) is {u.status} but has confirmed bookings {confirmed}")
            if confirmed_links.get(uid):
                problems.append(f"unit {u.name} ({u.id}) is {u.status} but has buyer links {sorted(confirmed_links[uid])}")

    buyer_prospects = {p for b, ps in buyers_of_booking.items() if status_of_booking.get(b) == "confirmed" for p in ps}
    for p in prospects:
        should = "buyer" if _id(p.id) in buyer_prospects else "prospect"
        if p.status != should:
            problems.append(f"prospect {p.id} has status {p.status} but should be {should}")

    status_of_unit = {_id(u.id): (u.status, u.name) for u in units}
    chains: dict[str, list] = defaultdict(list)
    for h in history:
        chains[_id(h.unit_id)].append(h)
    for uid, (status, name) in status_of_unit.items():
        chain = chains.get(uid, [])
        for prev, nxt in zip(chain, chain[1:], strict=False):
            if prev.to_status != nxt.from_status:
                problems.append(f"unit {name}: history entry {nxt.id} goes {nxt.from_status}→{nxt.to_status} after {prev.to_status} (applied twice?)")
        if chain and chain[-1].to_status != status:
            problems.append(f"unit {name}: history ends in {chain[-1].to_status} but the unit is {status}")

    for copy in unit_copies:
        owner = status_of_unit.get(_id(copy.id))
        if owner and owner[0] != copy.status:
            problems.append(f"prospects' copy of unit {owner[1]} says {copy.status}, units says {owner[0]}")
    copy_buyers: dict[str, set[str]] = defaultdict(set)
    for ub in unit_buyers:
        copy_buyers[_id(ub.unit_id)].add(_id(ub.booking_id))
    for uid in status_of_unit:
        owner_bookings = {b for b, _ in confirmed_links.get(uid, set())}
        if copy_buyers.get(uid, set()) != owner_bookings:
            problems.append(f"units' copy of unit {status_of_unit[uid][1]}'s buyers is for bookings {sorted(copy_buyers.get(uid, set()))}, buyers says {sorted(owner_bookings)}")

    for service, unsent in (("units", units_unsent), ("prospects", prospects_unsent), ("buyers", buyers_unsent)):
        if unsent[0][0]:
            problems.append(f"{service} has {unsent[0][0]} unsent outbox rows")
    return problems


def main() -> None:
    local = Databases.local()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", default=local.units)
    parser.add_argument("--prospects", default=local.prospects)
    parser.add_argument("--buyers", default=local.buyers)
    args = parser.parse_args()
    problems = asyncio.run(check(Databases(args.units, args.prospects, args.buyers)))
    for p in problems:
        print(p)
    print(f"invariants: {len(problems)} violation(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
