"""Kafka side of team work: the activity trail, one line per assignment or order event."""

from hanout_shared.contracts import CloudEvent, deterministic_id, topics
from hanout_shared.contracts.inbox import (
    ActivityRecorded,
    ActivityRecordedEvent,
    ConversationAssignedEvent,
    InboxEvent,
)
from hanout_shared.contracts.orders import (
    OrderCancelledEvent,
    OrderCreatedEvent,
    OrdersEvent,
    OrderStageChangedEvent,
)
from hanout_shared.platform.consuming import Consumers
from hanout_shared.platform.kafka import publish_event
from inbox.deps import InboxDeps
from inbox.kafka import GROUP_SUFFIXES, inbox_events
from inbox.store import Store
from inbox.team.model import Activity, activity_state, assignment_activity, order_activity
from inbox.values import SOURCE

OrderFact = OrderCreatedEvent | OrderStageChangedEvent | OrderCancelledEvent


def subscribe(consumers: Consumers[InboxDeps]) -> None:
    consumers.subscribe(
        topics.ORDERS_EVENTS,
        OrdersEvent,
        [OrderCreatedEvent, OrderStageChangedEvent, OrderCancelledEvent],
        on_order_event,
        group_suffix=GROUP_SUFFIXES[topics.ORDERS_EVENTS],
    )
    # The trail wants assignments only: the rest of the busy topic is skipped unparsed.
    consumers.subscribe(
        topics.INBOX_EVENTS,
        InboxEvent,
        [ConversationAssignedEvent],
        on_conversation_assigned,
        group_suffix=GROUP_SUFFIXES[topics.INBOX_EVENTS],
        only_if_named=True,
    )


async def _record(store: Store, cause: CloudEvent, entry: Activity) -> None:
    """Keep the line once, and announce it every time (same id): a redelivery is harmless."""
    await store.activity.record(cause.workspaceid, entry)
    recorded = ActivityRecordedEvent.create(
        source=SOURCE,
        workspaceid=cause.workspaceid,
        subject=entry.conversation_id,
        data=ActivityRecorded(activity=activity_state(entry)),
        id=deterministic_id(entry.id, "recorded"),
        time=entry.at,
        actorid=entry.by.id if entry.by else None,
        actorname=entry.by.name if entry.by else None,
        correlationid=cause.correlationid or cause.id,
    )
    await publish_event(inbox_events, recorded)


async def on_order_event(event: OrderFact, deps: InboxDeps) -> None:
    if (entry := order_activity(event)) is not None:
        await _record(deps.store, event, entry)


async def on_conversation_assigned(event: ConversationAssignedEvent, deps: InboxDeps) -> None:
    await _record(deps.store, event, assignment_activity(event))
