"""The outbox's clears: those asked during a write share the next one; a failure reaches each."""

import asyncio

import pytest

from hanout_shared.platform.outbox import Cleared, _Clears


class Writes:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.fail = False

    async def write(self, cleared: list[Cleared]) -> None:
        self.batches.append([doc_id for doc_id, _ in cleared])
        await self.release.wait()
        if self.fail:
            raise ConnectionError("store away")


async def settled() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_clears_asked_during_a_write_share_the_next_one() -> None:
    writes = Writes()
    clears = _Clears(writes.write)
    first = asyncio.ensure_future(clears.add(("a", [])))
    await settled()
    later = [asyncio.ensure_future(clears.add((doc_id, []))) for doc_id in "bc"]
    await settled()
    assert writes.batches == [["a"]]
    writes.release.set()
    await asyncio.gather(first, *later)
    assert writes.batches == [["a"], ["b", "c"]]


async def test_a_failed_write_fails_each_of_its_callers_and_the_next_still_goes() -> None:
    writes = Writes()
    writes.release.set()
    writes.fail = True
    clears = _Clears(writes.write)
    results = await asyncio.gather(
        clears.add(("a", [])), clears.add(("b", [])), return_exceptions=True
    )
    assert all(isinstance(result, ConnectionError) for result in results)
    writes.fail = False
    await clears.add(("c", []))
    assert writes.batches == [["a", "b"], ["c"]]


async def test_a_caller_that_left_does_not_stop_the_others() -> None:
    writes = Writes()
    clears = _Clears(writes.write)
    gone = asyncio.ensure_future(clears.add(("a", [])))
    kept = asyncio.ensure_future(clears.add(("b", [])))
    await settled()
    gone.cancel()
    writes.release.set()
    await kept
    with pytest.raises(asyncio.CancelledError):
        await gone
