"""Composition root of customers: the only place that reads settings and builds clients."""

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter

from customers import api, handlers, imports, merging
from customers.outbox import OutboxRelay
from customers.settings import CustomersSettings
from customers.store import Store, connect
from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.service import build_service


def create_app(
    settings: CustomersSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: Store | None = None,
) -> FastAPI:
    settings = settings or CustomersSettings()
    configure_logging("customers", settings.log_level)
    registry = CollectorRegistry()
    broker = broker or make_broker(
        settings.kafka_bootstrap_servers, client_id="customers", registry=registry
    )
    client = connect(settings.mongodb_url)
    store = store or Store(client[settings.mongodb_database])
    handlers.name_consumer_groups(settings.consumer_group)
    relay = OutboxRelay(
        store.outbox,
        handlers.customer_events,
        broker,
        interval_s=settings.outbox_sweep_interval_s,
        timeout_s=settings.publish_timeout_s,
    )
    poison = Counter(
        "customers_poison_messages",
        "Consumed messages skipped because they can never be processed",
        ["topic", "reason"],
        registry=registry,
    )
    return build_service(
        name="customers",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        routers=[imports.router, merging.router, api.router],
        kafka_routers=[handlers.router],
        state={"store": store, "relay": relay, "poison_messages": poison, "settings": settings},
        on_startup=[store.ensure_indexes, relay.start],
        on_shutdown=[relay.stop],
        description="Who is writing: customer cards, phone matching, duplicates and merges, stats.",
    )
