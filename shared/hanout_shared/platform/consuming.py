"""The one consumer pipeline: each record decoded into its topic's typed event and handed to a
typed handler; what cannot be decoded or validated goes to the service's dead-letter topic."""

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaRouter
from faststream.kafka.publisher.usecase import DefaultPublisher
from faststream.kafka.subscriber.usecase import DefaultSubscriber
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from prometheus_client import CollectorRegistry, Counter
from pydantic import TypeAdapter, ValidationError

from hanout_shared.contracts.deadletters import DeadLettersEvent, EventDeadLettered
from hanout_shared.contracts.deadletters import EventDeadLetteredEvent as DeadLetter
from hanout_shared.contracts.envelope import CloudEvent
from hanout_shared.contracts.ids import deterministic_id
from hanout_shared.platform.kafka import Context, KafkaMessage, publish_event

logger = logging.getLogger("hanout.consuming")

E = TypeVar("E", bound=CloudEvent)
D = TypeVar("D")
MAX_DETAIL = 2000


@dataclass(frozen=True)
class Rejection:
    reason: str
    detail: str


async def _records(message: StreamMessage[Any]) -> Any:
    """The records as they came: the pipeline decodes each one itself, so that one bad record
    is dead-lettered instead of failing (and endlessly redelivering) its batch."""
    return message.body


class Consumers(Generic[D]):
    """A service's subscribers, built with their consumer groups.

    Each subscriber decodes its topic's CloudEvents into the topic's discriminated union, hands
    the handler the kinds it asked for (others on the topic are skipped) with the service's
    dependencies object (`deps` in FastStream's context), and publishes what cannot be decoded
    or validated to the service's dead-letter topic, with the reason, the topic, partition and
    offset, and counts it. Retrying cannot fix such a record, so the partition moves on; if the
    dead-letter topic cannot be written either, the handler fails and the record is read again.
    """

    def __init__(
        self, *, service: str, group: str, deadletter_topic: str, registry: CollectorRegistry
    ) -> None:
        self.service, self.group = service, group
        self.router = KafkaRouter()
        self.deadletters: DefaultPublisher = self.router.publisher(
            deadletter_topic,
            title=deadletter_topic,
            description=f"hanout.event.dead_lettered: records {service} could not read",
            schema=DeadLettersEvent,
        )
        self._rejected = Counter(
            "hanout_dead_lettered_events",
            "Consumed records sent to the dead-letter topic, by topic and reason",
            ["topic", "reason"],
            registry=registry,
        )

    def subscribe(
        self,
        topic: str,
        events: Any,
        kinds: Sequence[type[CloudEvent]],
        handler: Callable[[E, D], Awaitable[None]],
        *,
        group_suffix: str = "",
        only_if_named: bool = False,
    ) -> DefaultSubscriber:
        """One record at a time, at least once, from the first offset for a new group.

        `events` is the topic's union; `kinds` are the members this handler takes. With
        `only_if_named`, a record whose bytes do not name one of the kinds is skipped unread:
        a cheap filter for a busy topic this consumer mostly ignores.
        """
        adapter: TypeAdapter[CloudEvent] = TypeAdapter(events)
        group = self.group + group_suffix
        named = [kind.event_type().encode() for kind in kinds] if only_if_named else []

        async def consume(message: KafkaMessage, deps: Annotated[Any, Context("deps")]) -> None:
            record = _one(message)
            if named and not any(name in record.value for name in named):
                return
            event = await self._read(adapter, record, group)
            if isinstance(event, tuple(kinds)):
                await handler(event, deps)  # type: ignore[arg-type]

        consume.__name__ = handler.__name__
        subscriber = self._subscriber(topic, group)
        subscriber(consume)
        return subscriber

    def subscribe_batch(
        self,
        topic: str,
        events: Any,
        kinds: Sequence[type[CloudEvent]],
        handler: Callable[[list[E], D], Awaitable[None]],
        *,
        group_suffix: str = "",
        max_records: int = 200,
    ) -> DefaultSubscriber:
        """Batches of up to `max_records`: under a burst one store round trip serves many."""
        adapter: TypeAdapter[CloudEvent] = TypeAdapter(events)
        group = self.group + group_suffix

        async def consume(message: KafkaMessage, deps: Annotated[Any, Context("deps")]) -> None:
            read = [await self._read(adapter, record, group) for record in _batch(message)]
            wanted = [event for event in read if isinstance(event, tuple(kinds))]
            if wanted:
                await handler(wanted, deps)  # type: ignore[arg-type]

        consume.__name__ = handler.__name__
        subscriber = self._subscriber(topic, group, batch=True, max_records=max_records)
        subscriber(consume)
        return subscriber

    def _subscriber(self, topic: str, group: str, **batching: Any) -> DefaultSubscriber:
        subscriber: DefaultSubscriber = self.router.subscriber(
            topic,
            group_id=group,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            decoder=_records,
            **batching,
        )
        return subscriber

    async def _read(
        self, adapter: TypeAdapter[CloudEvent], record: ConsumerRecord[Any, Any], group: str
    ) -> CloudEvent | None:
        body: Any = None
        try:
            body = json.loads(record.value)
            return adapter.validate_python(body)
        except (ValueError, UnicodeDecodeError) as exc:
            rejection = _rejection(exc)
        await self._dead_letter(record, group, rejection, _workspace(body))
        return None

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], group: str, rejection: Rejection, workspace: str
    ) -> None:
        where = f"{record.topic}/{record.partition}/{record.offset}"
        letter = DeadLetter.create(
            source=f"hanout/{self.service}",
            workspaceid=workspace,
            subject=where,
            id=deterministic_id(group, where),
            data=EventDeadLettered(
                reason=rejection.reason,
                detail=rejection.detail,
                service=self.service,
                group=group,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=_text(record.key) if record.key is not None else None,
                raw_text=_text(record.value),
                received_at=datetime.now(UTC),
            ),
        )
        await publish_event(self.deadletters, letter)
        self._rejected.labels(topic=record.topic, reason=rejection.reason).inc()
        logger.error(
            "dead-lettered an unreadable record",
            extra={"where": where, "reason": rejection.reason, "group": group},
        )


def _rejection(exc: Exception) -> Rejection:
    if isinstance(exc, ValidationError):
        return Rejection("invalid_event", str(exc)[:MAX_DETAIL])
    return Rejection("undecodable", f"not a JSON CloudEvent: {exc}"[:MAX_DETAIL])


def _workspace(body: Any) -> str:
    """The tenant the record names, when it names one: the letter is routed like the record."""
    found = body.get("workspaceid") if isinstance(body, dict) else None
    return found if isinstance(found, str) and found else "unknown"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _one(message: KafkaMessage) -> ConsumerRecord[Any, Any]:
    record = message.raw_message
    assert not isinstance(record, tuple | list)  # a single-record subscriber
    return record


def _batch(message: KafkaMessage) -> Sequence[ConsumerRecord[Any, Any]]:
    records = message.raw_message
    return records if isinstance(records, tuple | list) else (records,)
