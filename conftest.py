"""Session fixtures for the real broker and store, started on first use and stopped at the end."""

from __future__ import annotations

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
