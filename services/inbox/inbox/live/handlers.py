"""Kafka side of live updates: every inbox event into this replica's hub."""

import asyncio
import uuid
from typing import Annotated

from faststream.kafka import KafkaRouter
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.middlewares import AckPolicy

from hanout_shared.contracts import topics
from hanout_shared.platform.kafka import Context, KafkaMessage
from inbox.deps import InboxDeps
from inbox.kafka import LIVE_SUFFIX
from inbox.live.hub import Positions

LIVE_BATCH = 500


def fan_out(router: KafkaRouter, group: str) -> BatchSubscriber:
    """This replica's live subscriber on inbox.events.v1, in a group of its own
    (`<group>-live-<random>`), from the end of the topic: its clients want what happens from now
    on (a resume older than that is read back, or reloads).

    The one subscriber not built by the platform's `Consumers`, on purpose: it decodes nothing
    (the hub forwards each record's bytes with its partition and offset, the stream's position)
    so it has nothing to dead-letter, and it never commits: a restarted process is a new group,
    and a commit per event would cap the fan-out.
    """
    subscriber: BatchSubscriber = router.subscriber(
        topics.INBOX_EVENTS,
        group_id=f"{group}{LIVE_SUFFIX}-{uuid.uuid4().hex[:12]}",
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="latest",
        batch=True,
        max_records=LIVE_BATCH,
    )
    subscriber(on_live_events)
    return subscriber


async def on_live_events(
    message: KafkaMessage, deps: Annotated[InboxDeps, Context("deps")]
) -> None:
    """A burst reaches the hub whole: every stream then wakes once for all of it."""
    records = message.raw_message
    for record in records if isinstance(records, tuple | list) else (records,):
        deps.hub.receive(record.partition, record.offset, record.value)


async def assigned(live: BatchSubscriber) -> Positions:
    """Once this replica's live consumer holds its partitions, where it stands on each: every
    event published from then on reaches its clients."""
    while (consumer := live.consumer) is None or not consumer.assignment():
        await asyncio.sleep(0.05)
    return {tp.partition: await consumer.position(tp) for tp in consumer.assignment()}
