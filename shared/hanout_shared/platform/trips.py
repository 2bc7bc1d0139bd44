"""Shared round trips: calls made while a store round trip is under way wait and go together in
the next one, so a burst of requests costs a few round trips instead of one each."""

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Item = TypeVar("Item")
Result = TypeVar("Result")


class Trips(Generic[Key, Item, Result]):
    """Calls for one key made while a store round trip for it is under way share the next one
    (`trip(key, items)` answers one result per item, in order). A call never joins a trip already
    sent, so what it reads or allocates comes after every write that finished before it."""

    def __init__(self, trip: Callable[[Key, list[Item]], Awaitable[list[Result]]]) -> None:
        self._trip = trip
        self._waiting: dict[Key, list[tuple[Item, asyncio.Future[Result]]]] = {}
        self._drivers: dict[Key, asyncio.Task[None]] = {}

    async def run(self, key: Key, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append((item, future))
        if key not in self._drivers:
            self._drivers[key] = asyncio.create_task(self._drive(key))
        return await future

    async def _drive(self, key: Key) -> None:
        try:
            while waiting := self._waiting.pop(key, None):
                await self._answer(key, waiting)
        finally:  # nothing waits unless cancelled (shutting down): then no caller waits forever
            del self._drivers[key]
            for _, future in self._waiting.pop(key, []):
                future.cancel()

    async def _answer(self, key: Key, waiting: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        futures = [future for _, future in waiting]
        try:
            results = await self._trip(key, [item for item, _ in waiting])
        except asyncio.CancelledError:  # shutting down: no caller is left waiting forever
            for future in futures:
                future.cancel()
            raise
        except Exception as error:
            for future in futures:
                if not future.done():
                    future.set_exception(error)
            return
        for future, result in zip(futures, results, strict=True):
            if not future.done():  # its caller may have gone (a dropped request)
                future.set_result(result)
