"""CPU per webhook of ingest's app in-process (no HTTP server), against a real Kafka and store.

`uv run python -m bench.ingest_cpu [--webhooks 3000] [--concurrency 32] [--profile]` drives the
ASGI app directly with signed webhooks and prints the process CPU spent per webhook (ingest's
code, FastAPI, and the producer's work; uvicorn's HTTP parsing excluded), optionally with the
functions that cost the most (cProfile, CPU clock). Its records go to `prof.`-prefixed topics, so
consumers of the real topics never see them. Needs KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import hmac
import pstats
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from bench.ingest_load import APP, PNID, SECRET, webhook
from hanout_shared.contracts import topics
from hanout_shared.platform.kafka import ensure_topics

PRIVATE = ("WEBHOOKS_RAW", "WHATSAPP_INBOUND", "WHATSAPP_STATUS", "WHATSAPP_DEADLETTER")
WARM_UP = 300


def use_private_topics() -> list[str]:
    """Before ingest is imported: its webhook records go to topics nobody consumes."""
    for name in PRIVATE:
        setattr(topics, name, "prof." + getattr(topics, name))
    return [getattr(topics, name) for name in PRIVATE]


def scope(body: bytes) -> dict[str, Any]:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)),
               (b"x-hub-signature-256", signature.encode())]  # fmt: skip
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/webhooks/whatsapp", "raw_path": b"/webhooks/whatsapp",
            "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}  # fmt: skip


async def drive(app: Any, bodies: list[bytes], concurrency: int, statuses: dict[int, int]) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(body: bytes) -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] = statuses.get(message["status"], 0) + 1

        async with gate:
            await app(scope(body), receive, send)

    await asyncio.gather(*(one(body) for body in bodies))


async def measure(args: argparse.Namespace) -> None:
    private = use_private_topics()
    from ingest.app import create_app
    from ingest.channels.model import ChannelRecord
    from ingest.settings import IngestSettings, MetaApp
    from ingest.store import connect

    apps = {APP: MetaApp(app_secrets=[SecretStr(SECRET)], verify_token=SecretStr("bench"))}
    settings = IngestSettings(environment="test", log_level="WARNING", meta_apps=apps,
                              mongodb_database=f"bench_cpu_{uuid.uuid4().hex[:8]}",
                              outbound_group=f"bench-cpu-{uuid.uuid4().hex[:8]}")  # fmt: skip
    await ensure_topics(settings.kafka_bootstrap_servers, partitions=1, replication=1,
                        topics=private)  # fmt: skip
    app = create_app(settings)
    async with LifespanManager(app):
        now = datetime.now(UTC)
        channel = ChannelRecord(phone_number_id=PNID, workspace_id="bench-cpu", meta_app_id=APP,
                                access_token=SecretStr("EAAG-bench"), enabled=True,
                                created_at=now, updated_at=now)  # fmt: skip
        await app.state.deps.store.channels.add(channel)
        app.state.deps.directory.invalidate()
        bodies = [webhook(i) for i in range(args.webhooks + WARM_UP)]
        statuses: dict[int, int] = {}
        await drive(app, bodies[:WARM_UP], args.concurrency, statuses)
        profile = cProfile.Profile(time.process_time) if args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        await drive(app, bodies[WARM_UP:], args.concurrency, statuses)
        if profile:
            profile.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    client = connect(settings.mongodb_url)
    await client.drop_database(settings.mongodb_database)
    await client.close()
    rate = args.webhooks / wall
    print(
        f"answers {statuses}; {cpu / args.webhooks * 1e3:.3f} ms CPU per webhook "
        f"({rate:,.0f} webhooks/s wall, concurrency {args.concurrency})"
    )
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--webhooks", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    args = parser.parse_args(argv)
    asyncio.run(measure(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
