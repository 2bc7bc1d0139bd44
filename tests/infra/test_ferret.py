"""FerretDB on SQLite as the second store: the operations the services rely on, restarts, choice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from devtools.ferret import FerretServer, ensure_binary
from devtools.procs import ServerError
from devtools.stack import KAFKA_ENV, MONGO_ENV, STORE_ENV, chosen_store, local_store, running_stack
from devtools.store import SecantusServer

Doc = dict[str, Any]

# Building FerretDB takes minutes on 2 cores: these run with `make test-ferretdb` (see conftest.py).
pytestmark = pytest.mark.ferretdb


@pytest.fixture(scope="module")
def ferret() -> Iterator[FerretServer]:
    with FerretServer() as server:
        yield server


@pytest.fixture
async def things(ferret: FerretServer) -> AsyncIterator[AsyncCollection[Doc]]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(ferret.url)
    try:
        yield client["ferret_test"][f"things_{uuid.uuid4().hex[:12]}"]
    finally:
        await client.close()


@pytest.mark.integration
async def test_it_finds_what_was_inserted(things: AsyncCollection[Doc]) -> None:
    await things.insert_many([{"_id": "a", "n": 1}, {"_id": "b", "n": 2}, {"_id": "c", "n": 3}])
    found = [doc async for doc in things.find({"n": {"$gte": 2}}).sort("n", -1)]
    assert found == [{"_id": "c", "n": 3}, {"_id": "b", "n": 2}]


@pytest.mark.integration
async def test_a_unique_index_refuses_a_second_document_with_the_same_key(
    things: AsyncCollection[Doc],
) -> None:
    await things.create_index([("workspace", 1), ("phone", 1)], unique=True)
    await things.insert_one({"workspace": "w1", "phone": "+212600000001"})
    await things.insert_one({"workspace": "w2", "phone": "+212600000001"})
    with pytest.raises(DuplicateKeyError):
        await things.insert_one({"workspace": "w1", "phone": "+212600000001"})
    assert await things.count_documents({}) == 2


@pytest.mark.integration
async def test_an_upsert_inserts_once_then_updates(things: AsyncCollection[Doc]) -> None:
    for seen in (1, 2):
        await things.update_one(
            {"_id": "wamid.1"},
            {"$set": {"status": f"seen-{seen}"}, "$setOnInsert": {"first": seen}},
            upsert=True,
        )
    assert await things.find_one({"_id": "wamid.1"}) == {
        "_id": "wamid.1",
        "status": "seen-2",
        "first": 1,
    }


@pytest.mark.integration
async def test_find_one_and_update_returns_the_document_after_the_change(
    things: AsyncCollection[Doc],
) -> None:
    await things.insert_one({"_id": "order-1", "stage": "new", "version": 1})
    after = await things.find_one_and_update(
        {"_id": "order-1", "version": 1},
        {"$set": {"stage": "confirmed"}, "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER,
    )
    assert after == {"_id": "order-1", "stage": "confirmed", "version": 2}
    stale = await things.find_one_and_update(
        {"_id": "order-1", "version": 1}, {"$set": {"stage": "cancelled"}}
    )
    assert stale is None


@pytest.mark.integration
async def test_concurrent_increments_of_one_document_are_all_applied(
    things: AsyncCollection[Doc],
) -> None:
    await things.insert_one({"_id": "counter", "seq": 0})
    bumps = [
        things.find_one_and_update(
            {"_id": "counter"}, {"$inc": {"seq": 1}}, return_document=ReturnDocument.AFTER
        )
        for _ in range(30)
    ]
    seen = [doc["seq"] for doc in await asyncio.gather(*bumps)]
    assert sorted(seen) == list(range(1, 31))
    await asyncio.gather(
        *[things.update_one({"_id": "counter"}, {"$inc": {"seq": 1}}) for _ in range(30)]
    )
    assert await things.find_one({"_id": "counter"}) == {"_id": "counter", "seq": 60}


@pytest.mark.integration
async def test_of_concurrent_updates_on_the_same_version_one_wins(
    things: AsyncCollection[Doc],
) -> None:
    await things.insert_one({"_id": "order-1", "version": 1})
    moves = [
        things.update_one({"_id": "order-1", "version": 1}, {"$set": {"version": 2, "by": n}})
        for n in range(20)
    ]
    assert sum(result.modified_count for result in await asyncio.gather(*moves)) == 1


@pytest.mark.integration
@pytest.mark.parametrize("grace", [10.0, 0.0], ids=["sigterm", "sigkill"])
async def test_a_restart_on_the_same_data_dir_keeps_the_data(tmp_path: Path, grace: float) -> None:
    server = FerretServer(tmp_path / "ferret")
    await asyncio.to_thread(server.start)
    try:
        client: AsyncMongoClient[Doc] = AsyncMongoClient(server.url)
        await client["ferret_test"]["kept"].insert_one({"_id": "k", "v": grace})
        await client.close()
        await asyncio.to_thread(server.stop, grace=grace)
        await asyncio.to_thread(server.start)
        client = AsyncMongoClient(server.url)
        kept = await client["ferret_test"]["kept"].find_one({"_id": "k"})
        assert kept == {"_id": "k", "v": grace}
        await client.close()
    finally:
        server.close()
    assert (tmp_path / "ferret").is_dir(), "a data dir given by the caller is never removed"


def test_building_without_go_fails_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServerError, match="Go"):
        ensure_binary(tmp_path)


def kind_of_local_store(kind: str | None = None) -> type[SecantusServer | FerretServer]:
    server = local_store(chosen_store(kind))
    server.close()
    return type(server)


def test_the_store_is_chosen_by_one_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STORE_ENV, raising=False)
    assert kind_of_local_store() is SecantusServer
    monkeypatch.setenv(STORE_ENV, "ferretdb")
    assert kind_of_local_store() is FerretServer
    assert kind_of_local_store("secantus") is SecantusServer


def test_an_unknown_store_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STORE_ENV, "mongo-java-server")
    with pytest.raises(ServerError, match="HANOUT_STORE='mongo-java-server'"):
        chosen_store()


def test_a_store_url_in_the_environment_wins_over_the_chosen_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KAFKA_ENV, "kafka.example:9092")
    monkeypatch.setenv(MONGO_ENV, "mongodb://store.example:27017")
    monkeypatch.setenv(STORE_ENV, "ferretdb")
    with running_stack() as stack:
        assert (stack.mongodb_url, stack.store) == ("mongodb://store.example:27017", None)
