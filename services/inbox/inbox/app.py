"""Composition root of the inbox: the only place that reads settings and builds clients."""

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter

from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.service import build_service
from inbox import api, channels, handlers, sending
from inbox.handlers import OutboxRelay
from inbox.settings import InboxSettings
from inbox.store import Store, connect


def create_app(
    settings: InboxSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: Store | None = None,
) -> FastAPI:
    settings = settings or InboxSettings()
    configure_logging("inbox", settings.log_level)
    registry = CollectorRegistry()
    broker = broker or make_broker(
        settings.kafka_bootstrap_servers, client_id="inbox", registry=registry
    )
    client = connect(settings.mongodb_url)
    store = store or Store(client[settings.mongodb_database])
    handlers.name_consumer_groups(settings.consumer_group)
    relay = OutboxRelay(
        [store.messages.outbox, store.conversations.outbox],
        broker,
        interval_s=settings.outbox_sweep_interval_s,
        timeout_s=settings.publish_timeout_s,
    )
    poison = Counter(
        "inbox_poison_messages",
        "Consumed messages skipped because they can never be processed",
        ["topic", "reason"],
        registry=registry,
    )
    return build_service(
        name="inbox",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        routers=[api.router, sending.router, channels.router],
        kafka_routers=[handlers.router],
        state={"store": store, "relay": relay, "poison_messages": poison},
        on_startup=[store.ensure_indexes, relay.start],
        on_shutdown=[relay.stop],
        description="Conversations, messages, the 24-hour window and sending.",
    )
