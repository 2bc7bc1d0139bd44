"""The real store and the FakeStore behave the same on what ingest relies on."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.fernet import Fernet

from devtools.scratch import scratch_database
from hanout_shared.contracts.whatsapp import MetaError
from ingest.channels.store import ChannelExists, TokenCipher
from ingest.store import IngestStore

from .ingest_builders import PNID, a_channel, random_ref
from .ingest_fakes import FakeStore

pytestmark = pytest.mark.integration


@pytest.fixture(params=["real", "fake"])
async def store(request: Any, mongodb_url: str) -> AsyncIterator[Any]:
    if request.param == "fake":
        yield FakeStore()
        return
    async with scratch_database(mongodb_url, "ingest_test") as db:
        real = IngestStore(db)
        await real.ensure_indexes()
        yield real


async def test_a_number_is_registered_once_across_workspaces(store: Any) -> None:
    mine, theirs = random_ref("ws"), random_ref("ws")
    await store.channels.add(a_channel(mine))
    with pytest.raises(ChannelExists):
        await store.channels.add(a_channel(theirs))
    assert [c.workspace_id for c in await store.channels.all_channels()] == [mine]


async def test_channels_are_read_and_changed_only_within_their_workspace(store: Any) -> None:
    mine, theirs = random_ref("ws"), random_ref("ws")
    await store.channels.add(a_channel(mine, token="EAAG-one"))
    assert await store.channels.get(theirs, PNID) is None
    assert await store.channels.update(theirs, PNID, {"enabled": False}) is None
    assert await store.channels.list_for_workspace(theirs) == []
    changed = await store.channels.update(mine, PNID, {"access_token": "EAAG-two", "name": "A"})
    assert changed and changed.name == "A" and changed.enabled
    found = await store.channels.get(mine, PNID)
    assert found and found.access_token.get_secret_value() == "EAAG-two"
    assert found.updated_at >= found.created_at


async def test_an_idempotency_key_is_claimed_once_and_remembers_its_outcome(store: Any) -> None:
    workspace, key = random_ref("ws"), random_ref("key")
    assert await store.sends.claim(workspace, key, "event-1") is None
    again = await store.sends.claim(workspace, key, "event-2")
    assert again and again.state == "claimed" and again.command_id == "event-1"
    await store.sends.record_accepted(workspace, key, "wamid.X")
    accepted = await store.sends.claim(workspace, key, "event-3")
    assert accepted and accepted.state == "accepted" and accepted.wamid == "wamid.X"
    assert await store.sends.claim(random_ref("ws"), key, "event-4") is None
    other = random_ref("key")
    await store.sends.claim(workspace, other, "event-5")
    error = MetaError(code=131047, title="Re-engagement")
    await store.sends.record_failed(workspace, other, error, "meta_error", False)
    failed = await store.sends.claim(workspace, other, "event-6")
    assert failed and failed.state == "failed" and failed.error and failed.error.code == 131047
    assert failed.reason == "meta_error" and failed.retryable is False


async def test_with_a_key_the_stored_document_does_not_contain_the_access_token(
    mongodb_url: str,
) -> None:
    mine = random_ref("ws")
    async with scratch_database(mongodb_url, "ingest_test") as db:
        store = IngestStore(db, TokenCipher([Fernet.generate_key().decode()]))
        await store.channels.add(a_channel(mine, token="EAAG-first-secret"))
        await store.channels.update(mine, PNID, {"access_token": "EAAG-second-secret"})
        raw = await db["channels"].find_one({"_id": PNID})
        assert raw is not None and "EAAG" not in str(raw)
        found = await store.channels.get(mine, PNID)
        assert found and found.access_token.get_secret_value() == "EAAG-second-secret"
