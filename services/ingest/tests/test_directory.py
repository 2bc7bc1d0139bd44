"""The in-memory channel directory: one store query however many webhooks ask at once, and an
expired copy refreshed behind the webhooks rather than in front of them."""

import asyncio
import time

from ingest.channels.directory import ChannelDirectory
from ingest.channels.model import ChannelRecord

from .ingest_builders import PNID, PNID_2, a_channel, random_ref


class CountingChannels:
    def __init__(self, *records: ChannelRecord) -> None:
        self.records = list(records)
        self.queries = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def all_channels(self) -> list[ChannelRecord]:
        self.queries += 1
        await self.gate.wait()
        return list(self.records)


async def test_webhooks_asking_at_once_share_one_store_query() -> None:
    store = CountingChannels(a_channel(random_ref("ws")))
    directory = ChannelDirectory(store, ttl_s=60)
    found = await asyncio.gather(*[directory.lookup({PNID}) for _ in range(20)])
    assert store.queries == 1
    assert all(PNID in channels for channels in found)


async def test_an_expired_copy_answers_at_once_and_is_refreshed_in_the_background() -> None:
    workspace = random_ref("ws")
    store = CountingChannels(a_channel(workspace))
    directory = ChannelDirectory(store, ttl_s=0.0, miss_refresh_s=60)
    await directory.lookup({PNID})
    store.records.append(a_channel(workspace, PNID_2))
    store.gate.clear()  # the store is slow: the webhook must not wait for it
    channels = await asyncio.wait_for(directory.lookup({PNID}), 1.0)
    assert PNID_2 not in channels
    store.gate.set()
    deadline = time.monotonic() + 2.0
    while PNID_2 not in await directory.lookup({PNID}):
        assert time.monotonic() < deadline, "the background refresh never landed"
        await asyncio.sleep(0.01)
