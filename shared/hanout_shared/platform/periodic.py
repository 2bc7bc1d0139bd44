"""A background sweep: run at start-up, then every `interval_s`, until the service stops."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger("hanout.periodic")


class Periodic:
    """`work` run in a task of its own; a round that fails (a store or broker outage) is logged
    and the next one runs on time, so the sweep resumes by itself once the outage is over."""

    def __init__(
        self,
        name: str,
        interval_s: float,
        work: Callable[[], Awaitable[object]],
        *,
        ready: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._name, self._interval_s, self._work, self._ready = name, interval_s, work, ready
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while self._ready is not None and not await self._ready():
            await asyncio.sleep(0.2)
        while True:
            try:
                await self._work()
            except Exception:
                logger.warning("%s failed; retrying next round", self._name, exc_info=True)
            await asyncio.sleep(self._interval_s)
