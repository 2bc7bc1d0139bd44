"""A database of its own on the real store, for one test: named uniquely, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase


@asynccontextmanager
async def scratch_database(mongodb_url: str, prefix: str) -> AsyncIterator[AsyncDatabase[Any]]:
    """`<prefix>_<random>` on a client configured as the services' (tz-aware datetimes)."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, tz_aware=True)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()
