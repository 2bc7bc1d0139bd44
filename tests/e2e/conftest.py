"""The journeys' stack: every service as a process, and two shops, each with its own number."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from hanout_shared.contracts import topics

from .clients import Simulator
from .shops import Shop, open_shop
from .stack import Stack, running_services
from .tap import Tap


@pytest.fixture(scope="module")
def stack(kafka_bootstrap_servers: str, mongodb_url: str, tmp_path_factory: Any) -> Iterator[Stack]:
    log_dir = tmp_path_factory.mktemp("e2e-logs")
    with running_services(kafka_bootstrap_servers, mongodb_url, log_dir) as running:
        yield running


@pytest.fixture(scope="module")
async def shops(stack: Stack) -> AsyncIterator[list[Shop]]:
    opened = [await open_shop(stack, "souk"), await open_shop(stack, "bazar")]
    yield opened
    for shop in opened:
        await shop.close()


@pytest.fixture(scope="module")
async def simulator(stack: Stack) -> AsyncIterator[Simulator]:
    sim = Simulator(stack.simulator_url)
    yield sim
    await sim.close()


@pytest.fixture(scope="module")
async def customer_events(stack: Stack, kafka_bootstrap_servers: str) -> AsyncIterator[Tap]:
    tap = Tap(kafka_bootstrap_servers, topics.CUSTOMERS_EVENTS)
    await tap.start()
    yield tap
    await tap.stop()
