"""The fault tests' stack: every service as a process that a test may kill, and a shop per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from devtools.stack import Stack as Infra
from tests.e2e.clients import Simulator
from tests.e2e.shops import Shop, open_shop

from .stack import Faulty, running_faulty


@pytest.fixture(scope="module")
def faulty(
    kafka_bootstrap_servers: str, mongodb_url: str, tmp_path_factory: Any
) -> Iterator[Faulty]:
    log_dir = tmp_path_factory.mktemp("faults-logs")
    with running_faulty(kafka_bootstrap_servers, mongodb_url, log_dir) as running:
        yield running


@pytest.fixture
async def shop(faulty: Faulty) -> AsyncIterator[Shop]:
    faulty.heal()
    opened = await open_shop(faulty.stack, "faults")
    yield opened
    await opened.close()


@pytest.fixture(scope="module")
async def simulator(faulty: Faulty) -> AsyncIterator[Simulator]:
    sim = Simulator(faulty.stack.simulator_url)
    yield sim
    await sim.close()


@pytest.fixture(scope="module")
def owned_infra(infra: Infra) -> Infra:
    """The broker and store of this run, only when this run started them as local processes."""
    if infra.kafka is None or infra.store is None:
        pytest.skip(
            "the broker and store were given from outside (KAFKA_BOOTSTRAP_SERVERS / MONGODB_URL) "
            "or run in containers: not ours to stop; unset both to let the run own them"
        )
    return infra
