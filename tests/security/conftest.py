"""The services as processes for the bad-input checks, and the tenants they probe."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.e2e.clients import Simulator
from tests.e2e.shops import Shop, open_shop
from tests.e2e.stack import Stack, running_services

from .seed import Tenant, seed_tenant


@pytest.fixture(scope="package")
def stack(kafka_bootstrap_servers: str, mongodb_url: str, tmp_path_factory: Any) -> Iterator[Stack]:
    log_dir = tmp_path_factory.mktemp("security-logs")
    with running_services(kafka_bootstrap_servers, mongodb_url, log_dir) as running:
        yield running


@pytest.fixture(scope="package")
async def simulator(stack: Stack) -> AsyncIterator[Simulator]:
    sim = Simulator(stack.simulator_url)
    yield sim
    await sim.close()


@pytest.fixture(scope="package")
async def owner(stack: Stack, simulator: Simulator) -> AsyncIterator[Tenant]:
    """Workspace A: one of everything, which nobody else may see."""
    tenant = await seed_tenant(stack, simulator, "owner")
    yield tenant
    await tenant.shop.close()


@pytest.fixture(scope="package")
async def neighbour(stack: Stack, simulator: Simulator) -> AsyncIterator[Tenant]:
    """Another seeded workspace, whose rows an injected filter must never reach."""
    tenant = await seed_tenant(stack, simulator, "voisin")
    yield tenant
    await tenant.shop.close()


@pytest.fixture(scope="package")
async def intruder(stack: Stack) -> AsyncIterator[Shop]:
    """Workspace B: an admin of another shop, with its own number and no data."""
    shop = await open_shop(stack, "intrus")
    yield shop
    await shop.close()
