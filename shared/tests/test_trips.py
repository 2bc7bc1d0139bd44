"""Shared store round trips: each call answered by a trip sent after it; failures reach all."""

import asyncio

import pytest

from hanout_shared.platform.trips import Trips


class Recorder:
    """A trip that records the batches it is sent and waits until released."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.fail = False

    async def trip(self, key: str, items: list[int]) -> list[str]:
        self.batches.append(items)
        await self.release.wait()
        if self.fail:
            raise ConnectionError("store away")
        return [f"{key}:{item}" for item in items]


async def settled() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_calls_during_a_trip_share_the_next_one_and_never_join_it() -> None:
    recorder = Recorder()
    trips = Trips(recorder.trip)
    first = asyncio.ensure_future(trips.run("ws", 1))
    await settled()
    later = [asyncio.ensure_future(trips.run("ws", n)) for n in (2, 3)]
    await settled()
    assert recorder.batches == [[1]]
    recorder.release.set()
    assert [await first, *await asyncio.gather(*later)] == ["ws:1", "ws:2", "ws:3"]
    assert recorder.batches == [[1], [2, 3]]


async def test_keys_travel_apart() -> None:
    recorder = Recorder()
    recorder.release.set()
    trips = Trips(recorder.trip)
    assert await asyncio.gather(trips.run("a", 1), trips.run("b", 1)) == ["a:1", "b:1"]
    assert recorder.batches == [[1], [1]]


async def test_a_failed_trip_fails_each_of_its_callers_and_the_next_trip_still_goes() -> None:
    recorder = Recorder()
    recorder.fail = True
    recorder.release.set()
    trips = Trips(recorder.trip)
    results = await asyncio.gather(trips.run("ws", 1), trips.run("ws", 2), return_exceptions=True)
    assert all(isinstance(result, ConnectionError) for result in results)
    recorder.fail = False
    assert await trips.run("ws", 3) == "ws:3"


async def test_a_caller_that_left_does_not_stop_the_others() -> None:
    recorder = Recorder()
    trips = Trips(recorder.trip)
    gone = asyncio.ensure_future(trips.run("ws", 1))
    kept = asyncio.ensure_future(trips.run("ws", 2))
    await settled()
    gone.cancel()
    recorder.release.set()
    assert await kept == "ws:2"
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_at_shutdown_every_waiting_caller_is_cancelled_not_left_hanging() -> None:
    recorder = Recorder()
    trips = Trips(recorder.trip)
    sent = asyncio.ensure_future(trips.run("ws", 1))
    await settled()
    queued = asyncio.ensure_future(trips.run("ws", 2))
    await settled()
    trips._drivers["ws"].cancel()
    for caller in (sent, queued):
        with pytest.raises(asyncio.CancelledError):
            await caller
