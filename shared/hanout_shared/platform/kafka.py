"""The Kafka side of a service: broker, topic creation, and publishing CloudEvents safely."""

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from faststream import BaseMiddleware
from faststream._internal.context import Context as ContextField
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage as KafkaRecord
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.kafka.publisher.usecase import DefaultPublisher
from faststream.message import StreamMessage
from prometheus_client import CollectorRegistry

from hanout_shared.contracts.envelope import CONTENT_TYPE, CloudEvent
from hanout_shared.contracts.topics import ALL_TOPICS, COMPACTED_TOPICS
from hanout_shared.platform.logs import correlation_id

logger = logging.getLogger("hanout.kafka")

LONG_RETENTION_MS = str(90 * 24 * 3600 * 1000)


class Context(ContextField):
    """FastStream's `Context("name")`, resolved on the event loop. fast_depends runs a custom
    field's synchronous `use` in a worker thread: one thread hop per context parameter (the
    message itself is one) of every message consumed, most of a cheap handler's cost."""

    async def use(self, /, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        return super().use(**kwargs)


# faststream.kafka.KafkaMessage, resolved by the Context above.
KafkaMessage = Annotated[KafkaRecord, Context("message")]


class CorrelationMiddleware(BaseMiddleware):
    """Puts the consumed message's correlation id into the logging context."""

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        token = correlation_id.set(msg.correlation_id)
        try:
            return await call_next(msg)
        finally:
            correlation_id.reset(token)


async def cloudevents_decoder(
    msg: StreamMessage[Any], original: Callable[[StreamMessage[Any]], Awaitable[Any]]
) -> Any:
    """Structured-mode CloudEvents are JSON: decode them as such (FastStream only knows JSON)."""
    if isinstance(msg.body, list | tuple):  # a batch subscriber: one body per record
        return [_json_or_raw(body) for body in msg.body]
    if (msg.content_type or "").startswith(CONTENT_TYPE):
        return json.loads(msg.body)
    return await original(msg)


def _json_or_raw(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body


def make_broker(
    bootstrap_servers: str, *, client_id: str, registry: CollectorRegistry
) -> KafkaBroker:
    """Producers wait for every in-sync replica (acks=all): nothing acknowledged is lost.

    Not idempotent on purpose: aiokafka's idempotent producer dies for good on the
    OutOfOrderSequenceNumber a restarted broker can answer, and every publish fails after. Order
    within a partition still holds (aiokafka keeps one batch per partition in flight), and a
    retried batch that lands twice is absorbed by the consumers' deterministic event ids.
    """
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        request_timeout_ms=10_000,
        decoder=cloudevents_decoder,
        middlewares=[
            CorrelationMiddleware,
            KafkaPrometheusMiddleware(registry=registry, app_name=client_id),
        ],
        logger=logging.getLogger(f"hanout.{client_id}.broker"),
    )


def _topic_config(name: str) -> dict[str, str]:
    if name in COMPACTED_TOPICS:
        return {"cleanup.policy": "compact"}
    return {"retention.ms": LONG_RETENTION_MS}


async def ensure_topics(
    bootstrap_servers: str,
    *,
    partitions: int,
    replication: int,
    topics: Iterable[str] = ALL_TOPICS,
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="hanout-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, partitions, replication, topic_configs=_topic_config(name))
            for name in topics
            if name not in existing
        ]
        if missing:
            await _create(admin, missing)
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, topics: list[NewTopic]) -> None:
    try:
        response = await admin.create_topics(topics)
    except TopicAlreadyExistsError:
        return  # another replica won the race: the topics exist, which is all we need
    for name, code, *_ in getattr(response, "topic_errors", []):
        if code not in (0, TopicAlreadyExistsError.errno):
            raise KafkaError(f"could not create topic {name}: error {code}")
    logger.info("created topics", extra={"topics": [topic.name for topic in topics]})


async def wait_for_kafka(bootstrap_servers: str, timeout_s: float) -> None:
    """Retry until the broker answers and can coordinate consumer groups: services may start
    before Kafka is ready. A fresh broker creates its offsets topic on the first coordinator
    lookup and has no coordinator until then; a consumer started earlier logs each failed lookup
    at ERROR (aiokafka's GroupCoordinatorNotAvailableError)."""
    deadline = time.monotonic() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
        try:
            await admin.start()
            await admin.find_coordinator("hanout-readiness-probe")
            return
        except (KafkaError, OSError) as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(f"Kafka at {bootstrap_servers} is not ready") from exc
            logger.warning("waiting for Kafka", extra={"error": str(exc)})
        finally:
            await admin.close()
        await asyncio.sleep(1.0)


async def publish_event(publisher: DefaultPublisher, event: CloudEvent) -> None:
    """Publish in CloudEvents structured mode, keyed by the subject, and wait for the ack."""
    await publisher.publish(
        event.model_dump(mode="json", exclude_none=True),
        key=event.key(),
        correlation_id=event.correlationid or event.id,
        headers={"content-type": CONTENT_TYPE},
    )
