"""Which prospects were erased, as a consumer batch asks it: once for the whole batch, and still
right after the batch itself records an erasure."""

from __future__ import annotations

import uuid

import pytest

from buyers.db.models import MIGRATIONS
from buyers.db.repo import ErasedProspectRepo
from nyprod_kit.testing import migrated_database


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def sessions(request, tmp_path_factory):
    async with migrated_database(request.param, tmp_path_factory.mktemp("buyers-erased"), "buyerserased", MIGRATIONS) as sessions:
        yield sessions


async def test_a_batch_asks_once_and_sees_an_erasure_it_made_itself(sessions):
    erased_before, erased_in_batch, kept = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with sessions() as session:
        await ErasedProspectRepo(session).add(erased_before)
        await session.commit()
    async with sessions() as session:
        repo = ErasedProspectRepo(session)
        await repo.read([erased_before, erased_in_batch, kept])
        assert await repo.contains(erased_before)
        assert not await repo.contains(erased_in_batch)
        await repo.add(erased_in_batch)  # a ProspectErased earlier in the same batch
        assert await repo.contains(erased_in_batch)
        assert not await repo.contains(kept)
        await session.commit()
    async with sessions() as session:
        assert await ErasedProspectRepo(session).contains(erased_in_batch)
