"""A sales launch's prospect list: 100,000 prospects on PostgreSQL, searched through trigram
indexes in well under 100 ms."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nyprod_kit.testing import fresh_database
from prospects.db.repo import ProspectRepo
from prospects.domain import fold, name_search_text, normalise_phone, search_terms

API = "/api/v1"
COUNT = 100_000
FIRST = ["Anna", "Erik", "Maria", "Lars", "Karin", "Per", "Åsa", "Örjan", "Elin", "Johan", "Sofia", "Björn", "Ingrid", "Mats", "Emma"]
LAST = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson", "Gustafsson", "Öberg", "Åkesson", "Lindström", "Ängström", "Berg"]


def _row(i: int, now: datetime) -> dict:
    first = FIRST[i % len(FIRST)]
    last = f"{LAST[(i // len(FIRST)) % len(LAST)]}{'' if i % 7 else '-' + LAST[i % 5]}"
    email = f"{fold(first)}.{fold(last)}.{i}@example.se"
    phone = f"070-{i // 10_000 % 1000:03d} {i % 10_000:04d}"
    return {
        "id": uuid.uuid4(),
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
        "note": None,
        "status": "prospect",
        "name_search": name_search_text(first, last),
        "email_search": email,
        "phone_search": normalise_phone(phone),
        "created_at": now,
        "updated_at": now,
    }


@pytest.fixture(scope="module")
async def crowded(make_service, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator:  # noqa: ANN001
    async with fresh_database("postgres", tmp_path_factory.mktemp("crowded"), prefix="prospects_scale") as url:
        async with make_service(url) as svc:
            now = datetime.now(UTC)
            rows = [_row(i, now) for i in range(COUNT)]
            rows.append(
                {
                    **_row(COUNT, now),
                    "first_name": "Zäta",
                    "last_name": "Qvarnström",
                    "name_search": "zäta qvarnström",
                    "email": "zata.qvarnstrom@firma.se",
                    "email_search": "zata.qvarnstrom@firma.se",
                    "phone": "+46 73 999 12 34",
                    "phone_search": "0739991234",
                }
            )
            columns = list(rows[0])
            started = time.monotonic()
            async with svc.app.state.engine.begin() as conn:
                # COPY, with new trigram entries parked in the indexes' pending lists; VACUUM below
                # merges them in bulk, which is much cheaper than one by one
                await conn.execute(text("SET LOCAL gin_pending_list_limit = '256MB'"))
                raw = await conn.get_raw_connection()
                await raw.driver_connection.copy_records_to_table(
                    "prospects", records=[tuple(r[c] for c in columns) for r in rows], columns=columns
                )
            async with svc.app.state.engine.connect() as conn:
                autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("VACUUM ANALYZE prospects"))
            print(f"\nloaded {len(rows):,} prospects in {time.monotonic() - started:.1f} s")
            yield svc


async def _plan(svc, q: str) -> str:  # noqa: ANN001
    """PostgreSQL's plan for the list's search query, with q bound and the transaction set up as
    the service does it."""
    stmt = ProspectRepo.search_statement(search_terms(q), None).limit(50)
    compiled = stmt.compile(dialect=svc.app.state.engine.dialect)
    params = tuple(compiled.params[name] for name in compiled.positiontup)
    async with AsyncSession(svc.app.state.engine) as session:
        await ProspectRepo(session).prefer_search_indexes()
        rows = await (await session.connection()).exec_driver_sql(f"EXPLAIN {compiled}", params)
        return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize(
    ("q", "index"),
    [
        ("qvarnström", "ix_prospects_name_search_trgm"),
        ("ZÄTA QVARN", "ix_prospects_name_search_trgm"),
        ("qvarnstrom@firma", "ix_prospects_email_search_trgm"),
        ("+46 73 999 12", "ix_prospects_phone_search_trgm"),
        ("ängström-karlsson", "ix_prospects_name_search_trgm"),
    ],
)
async def test_search_uses_the_trigram_index_when_there_are_100k_prospects(crowded, q: str, index: str) -> None:  # noqa: ANN001
    plan = await _plan(crowded, q)
    assert index in plan, plan


@pytest.mark.parametrize("q", ["qvarnström", "+46 73 999 12 34", "ängström-karlsson", "maria.berg.1", "070-123", "sson", "a"])
async def test_search_answers_well_under_100_ms_when_there_are_100k_prospects(crowded, q: str) -> None:  # noqa: ANN001
    timings = []
    for _ in range(7):
        started = time.perf_counter()
        response = await crowded.client.get(f"{API}/prospects", params={"q": q})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    page = response.json()
    assert page["total"] >= 1
    median = statistics.median(timings)
    print(f"\nq={q!r}: {page['total']} of {COUNT + 1:,} found, median {median:.1f} ms over HTTP (min {min(timings):.1f})")
    # the best of seven, so that a busy shared machine does not decide the outcome
    assert min(timings) < 100


async def test_whole_list_pages_quickly_when_there_are_100k_prospects(crowded) -> None:  # noqa: ANN001
    started = time.perf_counter()
    response = await crowded.client.get(f"{API}/prospects", params={"limit": 50, "offset": 5_000})
    elapsed = (time.perf_counter() - started) * 1000
    assert response.json()["total"] == COUNT + 1
    print(f"\nunfiltered page at offset 5,000: {elapsed:.1f} ms")
    assert elapsed < 1000
