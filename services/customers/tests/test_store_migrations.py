"""A store written by an earlier version is brought up to date by the first start that can."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from customers.store import Store

from .builders import random_ref, real_store
from .test_store import card

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(mongodb_url: str) -> AsyncIterator[Store]:
    async with real_store(mongodb_url, "customers_migrate") as real:
        yield real


async def test_cards_searched_by_ranges_before_are_searched_by_equality_after(
    store: Store,
) -> None:
    ws = random_ref("ws")
    old, merged = card(ws, name="Hélène Alaoui", phones=["0612345678"]), card(ws, name="Gone")
    await store.add(ws, [old, merged])
    cards: Any = store.customers._c
    await cards.update_one({"_id": merged.customer_id}, {"$set": {"merged_into": old.customer_id}})
    earlier = {"fragments": ["612345678"], "name_tokens": ["helene", "alaoui"]}
    await cards.update_many({}, {"$unset": {"digit_grams": "", "name_starts": ""}, "$set": earlier})
    await cards.create_index([("workspace_id", 1), ("fragments", 1)])
    await store._migrations.delete_many({})
    assert await store.customers.search_digits(ws, "345678", 10, 0) == []

    await store.ensure_indexes()
    [found] = await store.customers.search_digits(ws, "345678", 10, 0)
    assert found.customer_id == old.customer_id
    assert [c.customer_id for c in await store.customers.search_names(ws, ["ala"], 10, 0)] == [
        old.customer_id
    ]
    assert await store.customers.search_names(ws, ["gone"], 10, 0) == []  # merged away
    assert "workspace_id_1_fragments_1" not in await cards.index_information()
    assert await cards.count_documents({"fragments": {"$exists": True}}) == 0
