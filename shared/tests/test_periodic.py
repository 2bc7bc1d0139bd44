"""A background sweep runs at start-up and then on time; a failing round does not end it."""

import asyncio

from hanout_shared.platform.periodic import Periodic


async def test_a_failed_round_is_followed_by_the_next_and_stop_ends_the_sweep() -> None:
    rounds: list[int] = []
    third = asyncio.Event()

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 3:
            third.set()
        if len(rounds) == 1:
            raise ConnectionError("store away")

    sweeps = Periodic("test sweep", 0.01, work)
    await sweeps.start()
    await asyncio.wait_for(third.wait(), timeout=5)
    await sweeps.stop()
    assert rounds[:3] == [0, 1, 2]


async def test_the_first_round_waits_until_ready() -> None:
    ready, ran, asked_thrice = asyncio.Event(), asyncio.Event(), asyncio.Event()
    asked: list[bool] = []

    async def is_ready() -> bool:
        asked.append(ready.is_set())
        if len(asked) == 3:
            asked_thrice.set()
        return ready.is_set()

    async def work() -> None:
        ran.set()

    sweeps = Periodic("test sweep", 60, work, ready=is_ready)
    await sweeps.start()
    await asyncio.wait_for(asked_thrice.wait(), timeout=5)
    assert not ran.is_set()
    ready.set()
    await asyncio.wait_for(ran.wait(), timeout=5)
    await sweeps.stop()
