"""Every channel in memory for the hot paths, refreshed from the registry behind them."""

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from ingest.channels.model import ChannelRecord

logger = logging.getLogger("hanout.ingest.store")  # a failed refresh is a failed store read


class ChannelDirectory:
    """Every channel in memory, so a webhook never waits on the store.

    Refreshed in the background once older than `ttl_s` (webhooks meanwhile use the copy they
    have), and at once, waited for, when never loaded or when a webhook names a number we do not
    know (at most every `miss_refresh_s`): a channel added on another replica is found before being
    dead-lettered. Concurrent webhooks share one refresh.
    """

    def __init__(self, channels: Any, ttl_s: float, miss_refresh_s: float = 1.0) -> None:
        self._store = channels
        self._ttl_s = ttl_s
        self._miss_refresh_s = miss_refresh_s
        self._by_id: dict[str, ChannelRecord] = {}
        self._loaded_at = float("-inf")
        self._refreshing: asyncio.Task[None] | None = None

    async def lookup(self, phone_number_ids: set[str]) -> Mapping[str, ChannelRecord]:
        age = time.monotonic() - self._loaded_at
        missing = not phone_number_ids <= self._by_id.keys()
        if age == float("inf") or (missing and age > self._miss_refresh_s):
            await asyncio.shield(self._refresh_task())
        elif age > self._ttl_s:
            self._refresh_task().add_done_callback(_log_failure)
        return self._by_id

    def _refresh_task(self) -> "asyncio.Task[None]":
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self.refresh())
        return self._refreshing

    async def refresh(self) -> None:
        records = await self._store.all_channels()
        self._by_id = {record.phone_number_id: record for record in records}
        self._loaded_at = time.monotonic()

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")


def _log_failure(task: "asyncio.Task[None]") -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.warning("channel directory refresh failed", extra={"error": repr(error)})
