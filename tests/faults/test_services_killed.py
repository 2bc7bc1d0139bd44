"""A service killed with SIGKILL mid-stream and restarted: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from devtools.services import ServiceProcess
from tests.e2e.clients import Simulator
from tests.e2e.shops import Shop

from .play import Play, stream
from .reconcile import reconcile
from .stack import Faulty

pytestmark = pytest.mark.integration
log = logging.getLogger("tests.faults")


async def _killed_and_restarted(
    service: ServiceProcess, shop: Shop, simulator: Simulator, record: Callable[[str, Any], None]
) -> Play:
    play = Play(shop, simulator)
    await play.open()
    timings: dict[str, float] = {}

    async def kill() -> None:
        service.kill()
        assert not service.running

    async def restart() -> None:
        timings["restart_s"] = await asyncio.to_thread(service.restart)

    await stream(play, kill, restart)
    timings["reconcile_s"] = await reconcile(play)
    for name, seconds in timings.items():
        record(f"{service.name}_{name}", round(seconds, 2))
    log.info("%s killed: %s", service.name, timings)
    return play


@pytest.mark.parametrize("name", ["inbox", "customers"])
async def test_a_consumer_killed_mid_stream_and_restarted_loses_and_doubles_nothing(
    name: str,
    faulty: Faulty,
    shop: Shop,
    simulator: Simulator,
    record_property: Callable[[str, Any], None],
) -> None:
    await _killed_and_restarted(faulty.services[name], shop, simulator, record_property)


async def test_ingest_killed_mid_stream_is_retried_like_meta_and_loses_and_doubles_nothing(
    faulty: Faulty,
    shop: Shop,
    simulator: Simulator,
    record_property: Callable[[str, Any], None],
) -> None:
    play = await _killed_and_restarted(faulty.services["ingest"], shop, simulator, record_property)
    ours = set(play.inbound)
    attempts = [
        code
        for record in await simulator.deliveries()
        if ours & set(record["wamids"])
        for code in record["statuses"]
    ]
    assert 0 in attempts, "no delivery met the dead ingest: the fault struck no webhook"
    assert set(attempts) <= {0, 200, 503}, f"ingest answered {sorted(set(attempts))}"
