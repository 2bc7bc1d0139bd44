"""Meta's own faults: one webhook in ten delivered twice, and statuses arriving shuffled."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.e2e.clients import Simulator
from tests.e2e.shops import Shop

from .play import ROUNDS, Play
from .reconcile import inbox_of, reconcile

pytestmark = pytest.mark.integration
log = logging.getLogger("tests.faults")
EVERY = 10  # one webhook in ten delivered twice


@pytest.fixture
async def shuffling(simulator: Simulator) -> AsyncIterator[Simulator]:
    """The simulator delivering each send's statuses in random order, for this test only."""
    await simulator.http.put("/_sim/config", json={"shuffle_statuses": True})
    yield simulator
    await simulator.http.put("/_sim/config", json={"shuffle_statuses": False})


async def test_webhooks_delivered_twice_and_statuses_shuffled_change_nothing(
    shop: Shop, shuffling: Simulator, record_property: Callable[[str, Any], None]
) -> None:
    play = Play(shop, shuffling, duplicate_every=EVERY)
    await play.open()
    for number in range(ROUNDS):
        await play.round(number)
    first = await reconcile(play)

    # Statuses of one reply in ten delivered again, newest first: none may move a tick back.
    inbox = await inbox_of(play)
    wamids = sorted(m["wamid"] for m in inbox.outbound.values())
    again = random.sample(wamids, max(1, len(wamids) // EVERY))
    for wamid in again:
        body = {"wamid": wamid, "statuses": ["read", "delivered", "sent"]}
        answer = await shuffling.http.post("/_sim/statuses", json=body)
        assert answer.json()["delivery_id"] is not None, answer.text
    second = await reconcile(play)
    assert play.writes >= EVERY, "too few writes for one in ten to be doubled"
    record_property("duplicates_reconcile_s", round(first, 2))
    record_property("late_statuses_reconcile_s", round(second, 2))
    log.info("doubled and shuffled: reconciled in %.1f s, then %.1f s", first, second)
