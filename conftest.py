"""Session fixtures for the real broker and store, started on first use and stopped at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devtools.stack import Stack, running_stack


@pytest.fixture(scope="session")
def infra() -> Iterator[Stack]:
    """The broker and store of this run: from the env vars, else Docker, else local processes.

    `infra.kafka` / `infra.store` let a fault test stop and restart a local server; they are None
    when the server is external.
    """
    with running_stack() as stack:
        yield stack


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(infra: Stack) -> str:
    return infra.kafka_bootstrap_servers


@pytest.fixture(scope="session")
def mongodb_url(infra: Stack) -> str:
    return infra.mongodb_url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """FerretDB's own tests run only when FerretDB is the store of the run (make test-ferretdb)."""
    if os.environ.get("HANOUT_STORE") == "ferretdb":
        return
    kept = [item for item in items if item.get_closest_marker("ferretdb") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
