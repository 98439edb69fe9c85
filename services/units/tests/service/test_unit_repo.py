"""The units repository's guarded updates, straight against both databases."""

from __future__ import annotations

import uuid

import pytest
from contracts.types import UnitStatus
from sqlalchemy import update

from nyprod_kit.testing import migrated_database
from units.db.models import MIGRATIONS, units
from units.db.repo import ProjectRepo, UnitRepo
from units.domain import UnitState


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def sessions(request, tmp_path_factory):
    async with migrated_database(request.param, tmp_path_factory.mktemp("units-repo"), "unitsrepo", MIGRATIONS) as sessions:
        yield sessions


async def new_unit(session) -> uuid.UUID:
    project_id = uuid.uuid4()
    await ProjectRepo(session).add(project_id, f"Kv. Linden {project_id.hex[:4]}")
    unit = await UnitRepo(session).add({"id": uuid.uuid4(), "project_id": project_id, "name": "B-0201"})
    return unit["id"]


async def test_release_frees_a_taken_unit_only_for_the_booking_holding_it(sessions):
    async with sessions() as session:
        repo = UnitRepo(session)
        unit_id, booking_id = await new_unit(session), uuid.uuid4()
        assert await repo.book_if_available(unit_id, booking_id)
        assert not await repo.book_if_available(unit_id, uuid.uuid4())
        assert await repo.release_if_held_by(unit_id, uuid.uuid4()) is None
        assert await repo.release_if_held_by(unit_id, booking_id) == UnitStatus.BOOKED.value
        row = await repo.get(unit_id, for_update=True)
        assert row is not None and row["status"] == UnitStatus.AVAILABLE.value and row["booking_id"] is None and row["revision"] == 3
        await session.commit()


async def test_release_frees_a_taken_unit_held_by_no_booking(sessions):
    async with sessions() as session:
        repo = UnitRepo(session)
        unit_id = await new_unit(session)
        await session.execute(update(units).where(units.c.id == unit_id).values(status=UnitStatus.RESERVED.value))
        assert await repo.release_if_held_by(unit_id, None) == UnitStatus.RESERVED.value
        state = await repo.state(unit_id)
        assert state is not None and state.status is UnitStatus.AVAILABLE and state.booking_id is None
        await session.commit()


async def test_buyers_of_groups_each_units_buyers_sorted_by_name(sessions):
    async with sessions() as session:
        repo = UnitRepo(session)
        first, second, empty = await new_unit(session), await new_unit(session), uuid.uuid4()

        def buyer(last: str) -> dict:
            ids = {"buyer_id": uuid.uuid4(), "prospect_id": uuid.uuid4(), "booking_id": uuid.uuid4()}
            return {**ids, "first_name": "Åsa", "last_name": last}

        await repo.replace_buyers(first, [buyer("Öberg"), buyer("Andersson")])
        await repo.replace_buyers(second, [buyer("Berg")])
        await repo.replace_buyers(second, [buyer("Lind")])
        got = await repo.buyers_of([first, second, empty])
        assert [b["last_name"] for b in got[first]] == ["Andersson", "Öberg"]
        assert [b["last_name"] for b in got[second]] == ["Lind"]
        assert got[empty] == [] and await repo.buyers_of([]) == {}
        await session.commit()


async def test_states_read_for_a_batch_follow_the_changes_made_in_it(sessions):
    """A consumer batch reads its units' states in one query; what the batch then does to a unit
    must show in the next event's view of it, or a freed unit would stay "booked" for the rest
    of the batch."""
    async with sessions() as session:
        repo = UnitRepo(session)
        unit_id, unknown, first, second = await new_unit(session), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await repo.read_states([unit_id, unknown])
        assert await repo.state(unknown) is None
        assert await repo.state(unit_id) == UnitState(unit_id, UnitStatus.AVAILABLE, None)
        assert await repo.book_if_available(unit_id, first)
        assert await repo.state(unit_id) == UnitState(unit_id, UnitStatus.BOOKED, first)
        assert not await repo.book_if_available(unit_id, second)
        assert await repo.release_if_held_by(unit_id, second) is None
        assert await repo.release_if_held_by(unit_id, first) == UnitStatus.BOOKED.value
        assert await repo.state(unit_id) == UnitState(unit_id, UnitStatus.AVAILABLE, None)
        assert await repo.book_if_available(unit_id, second)
        await session.commit()


async def test_a_state_read_for_a_batch_that_another_transaction_changed_is_read_again(tmp_path):
    # PostgreSQL only: SQLite has one writer at a time, so the other transaction could not
    # commit in between
    async with migrated_database("postgres", tmp_path, "unitsstale", MIGRATIONS) as sessions:
        async with sessions() as setup:
            unit_id = await new_unit(setup)
            await setup.commit()
        async with sessions() as session, sessions() as other:
            repo = UnitRepo(session)
            await repo.read_states([unit_id])
            winner = uuid.uuid4()
            assert await UnitRepo(other).book_if_available(unit_id, winner)
            await other.commit()
            # the guard still decides, and the stale view is dropped
            assert not await repo.book_if_available(unit_id, uuid.uuid4())
            assert await repo.state(unit_id) == UnitState(unit_id, UnitStatus.BOOKED, winner)
            await session.commit()
