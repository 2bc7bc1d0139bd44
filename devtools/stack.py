"""Picks the broker and store of a run (env vars, else Docker, else local processes), runs them."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools.jars import CACHE_DIR
from devtools.kafka import KafkaServer
from devtools.store import TEST, SecantusServer, StoreSettings

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
MONGO_ENV = "MONGODB_URL"
KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"
MONGO_IMAGE = "mongo:8"

log = logging.getLogger("devtools")


@dataclass(frozen=True)
class Stack:
    """Where the broker and store are; `kafka`/`store` are set only for local processes."""

    kafka_bootstrap_servers: str
    mongodb_url: str
    kafka: KafkaServer | None = None
    store: SecantusServer | None = None

    def env(self) -> dict[str, str]:
        return {KAFKA_ENV: self.kafka_bootstrap_servers, MONGO_ENV: self.mongodb_url}


def docker_available() -> bool:
    try:
        from testcontainers.core.docker_client import DockerClient

        return bool(DockerClient(timeout=3).client.ping())
    except Exception:
        return False


@contextmanager
def running_stack(
    *,
    data_dir: Path | None = None,
    kafka_port: int | None = None,
    mongo_port: int | None = None,
    cache_dir: Path = CACHE_DIR,
    store_settings: StoreSettings = TEST,
) -> Iterator[Stack]:
    """Run whatever of the broker and store the environment does not already provide: in Docker
    containers when Docker answers, else as local processes (the store: secantusd-rs).

    `data_dir` (persistent, else temporary), the ports and `store_settings` apply to local
    processes only.
    """
    kafka_url, mongo_url = os.environ.get(KAFKA_ENV), os.environ.get(MONGO_ENV)
    use_docker = not (kafka_url and mongo_url) and docker_available()
    with ExitStack() as exits:
        kafka = store = None
        if not kafka_url and not use_docker:
            kafka_dir = data_dir / "kafka" if data_dir else None
            kafka = KafkaServer(kafka_dir, port=kafka_port, cache_dir=cache_dir)
            exits.callback(kafka.close)
        if not mongo_url and not use_docker:
            store_dir = data_dir / "store" if data_dir else None
            store = SecantusServer(store_dir, port=mongo_port, settings=store_settings)
            exits.callback(store.close)
        _start_together(
            {"Kafka": kafka.start if kafka else None, "store": store.start if store else None}
        )
        if not kafka_url:
            kafka_url = kafka.bootstrap_servers if kafka else _kafka_container(exits)
        if not mongo_url:
            mongo_url = store.url if store else _mongo_container(exits)
        log.info("Kafka at %s, store at %s", kafka_url, mongo_url)
        yield Stack(kafka_url, mongo_url, kafka, store)


def _start_together(starts: dict[str, Callable[[], float] | None]) -> None:
    """Start the servers side by side: the store's start overlaps the broker's JVM warm-up."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(start) for name, start in starts.items() if start}
        for name, future in futures.items():
            log.info("local %s ready in %.1f s", name, future.result())


def _kafka_container(exits: ExitStack) -> str:
    from testcontainers.community.kafka import KafkaContainer

    container = KafkaContainer(KAFKA_IMAGE).with_kraft()
    exits.callback(container.stop)
    container.start(timeout=120)
    return container.get_bootstrap_server()


def _mongo_container(exits: ExitStack) -> str:
    from testcontainers.community.mongodb import MongoDbContainer

    container = MongoDbContainer(MONGO_IMAGE)
    exits.callback(container.stop)
    container.start()
    return container.get_connection_url()


if __name__ == "__main__":
    from devtools.cli import main

    raise SystemExit(main())
