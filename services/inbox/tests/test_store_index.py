"""The list's own indexes on the real store: the search box's (answered from it, and the same
rows without it) and the maintained counts (healed by a recount)."""

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from inbox.conversations.model import ContactMatch, CustomerLink, conversation_id
from inbox.conversations.search import ListQuery, Search
from inbox.conversations.store import finder as finder_module
from inbox.conversations.store.listing import counter_id
from inbox.values import to_ms

from .builders import key_of, now, random_ref, real_store
from .test_store import change

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(mongodb_url: str) -> AsyncIterator[Any]:
    async with real_store(mongodb_url, "inbox_search") as real:
        yield real


async def _seed(store: Any, ws: str, names: list[str]) -> list[str]:
    ids = []
    for i, name in enumerate(names):
        row = (
            await store.conversations.record_inbound(change(ws, f"2126123400{i:02d}", i, name=name))
        ).row
        ids.append(row.id)
    return ids


async def _ids(store: Any, ws: str, wanted: Search) -> list[str]:
    return [row.id for row in await store.conversations.page(ws, ListQuery(search=wanted))]


async def test_fragments_inside_words_and_numbers_are_found_through_the_index(store: Any) -> None:
    ws = random_ref("ws")
    fatima, zineb, _ = await _seed(store, ws, ["Fatima Zahra", "Zineb El Amrani", "Karim"])
    index = store.conversations.search
    assert await index.candidates(ws, Search(text="tim")) == [fatima]
    assert await _ids(store, ws, Search(text="ima zah")) == [fatima]
    assert await _ids(store, ws, Search(text="amra")) == [zineb]
    assert await _ids(store, ws, Search(text="zahra zineb")) == []  # both words, one name
    assert await _ids(store, ws, Search(digits="612340001")) == [zineb]
    assert await _ids(store, ws, Search(digits="0612340000")) == [fatima]
    assert await index.candidates(ws, Search(digits="212612340001")) == [zineb]  # whole number
    assert await index.candidates(random_ref("ws"), Search(text="tim")) == []  # workspace-scoped
    counts = await store.conversations.counts_of(ws, ListQuery(search=Search(text="za")))
    assert (counts.all, counts.unread, counts.no_reply) == (1, 1, 1)


async def test_a_name_learnt_from_the_customer_card_is_found_and_so_is_a_rename(
    store: Any,
) -> None:
    ws = random_ref("ws")
    key = key_of(ws, "212612349999")
    (only,) = await _seed(store, ws, ["Karim"])
    link = CustomerLink(outcome="known", customer_id="c1", name="Houda", matched_at=to_ms(now()))
    first = change(ws, "212612349999")
    await store.conversations.record_inbound(first)
    match = ContactMatch(
        workspace_id=ws,
        conversation_id=conversation_id(key),
        conversation_key=key,
        phone_number_id=key.split(":")[1],
        customer=link,
        customer_phone_e164="+212612349999",
        names=["houda"],
    )
    await store.conversations.apply_match(match)
    assert await _ids(store, ws, Search(text="houd")) == [conversation_id(key)]
    await store.conversations.rename_customer(ws, "c1", "Houda Bennani", 2)
    assert await _ids(store, ws, Search(text="benna")) == [conversation_id(key)]
    assert only not in await _ids(store, ws, Search(text="benna"))


async def test_a_fragment_too_common_for_the_index_reads_the_list_with_the_same_rows(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = random_ref("ws")
    ids = await _seed(store, ws, ["Client 1", "Client 2", "Client 3", "Client 12"])
    selective = await _ids(store, ws, Search(text="client 1"))
    monkeypatch.setattr(finder_module, "MOST_CANDIDATES", 2)
    assert await store.conversations.search.candidates(ws, Search(text="client")) is None
    assert await store.conversations.search._common.count_documents({}) == 4  # read once
    assert await _ids(store, ws, Search(text="client")) == ids  # newest first
    assert await _ids(store, ws, Search(text="client 1")) == selective == [ids[0], ids[3]]


async def test_conversations_from_before_the_index_enter_it_once(store: Any) -> None:
    ws = random_ref("ws")
    (karim,) = await _seed(store, ws, ["Karim Alaoui"])
    search = store.conversations.search._col
    await search.delete_many({})  # as a database from before the index looks
    assert await _ids(store, ws, Search(text="alao")) == []
    await store.ensure_indexes()
    assert await _ids(store, ws, Search(text="alao")) == [karim]
    await search.delete_many({"_id": karim})
    await store.ensure_indexes()  # done once: not read again at every start
    assert await _ids(store, ws, Search(text="alao")) == []


async def test_a_recount_heals_counts_a_crash_left_off(store: Any) -> None:
    ws = random_ref("ws")
    await _seed(store, ws, ["Amal", "Badr", "Chama"])
    truth = await store.conversations.counts_of(ws, ListQuery())
    off = Counter({counter_id(ws, "unread", None): 2, counter_id(ws, "gone", None): 1})
    await store.conversations.counts.add(ws, off)
    assert await store.conversations.counts_of(ws, ListQuery()) != truth
    other = random_ref("ws")
    await _seed(store, other, ["Driss"])
    await store.conversations.recount(ws)
    assert await store.conversations.counts_of(ws, ListQuery()) == truth
    assert (await store.conversations.counts_of(other, ListQuery())).all == 1
