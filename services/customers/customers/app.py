"""Composition root of customers: the only place that reads settings and builds clients."""

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter

from customers import events
from customers.cards import api as cards_api
from customers.cards import handlers as cards_handlers
from customers.deps import CustomersDeps
from customers.imports import api as imports_api
from customers.matching import handlers as matching_handlers
from customers.merging import api as merging_api
from customers.settings import CustomersSettings
from customers.store import Store, connect
from hanout_shared.contracts import topics
from hanout_shared.platform.consuming import Consumers
from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.outbox import OutboxRelay
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
    relay = OutboxRelay(
        [store.customers.outbox],
        {topics.CUSTOMERS_EVENTS: events.customer_events},
        broker,
        interval_s=settings.outbox_sweep_interval_s,
        timeout_s=settings.publish_timeout_s,
        registry=registry,
    )
    consumers: Consumers[CustomersDeps] = Consumers(
        service="customers",
        group=settings.consumer_group,
        deadletter_topic=topics.CUSTOMERS_DEADLETTER,
        registry=registry,
    )
    for feature in (matching_handlers, cards_handlers):
        feature.subscribe(consumers)
    skipped = Counter(
        "customers_skipped_events",
        "Events read and valid but not acted on, by reason (invalid_amount: an order total "
        "finer than a centime, which the stats cannot count)",
        ["reason"],
        registry=registry,
    )
    deps = CustomersDeps(
        store=store,
        relay=relay,
        skipped=skipped,
        import_max_bytes=settings.import_max_bytes,
        import_batch_rows=settings.import_batch_rows,
        import_spool_dir=settings.import_spool_dir,
    )
    return build_service(
        name="customers",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        # Before the card's routes: `/customers/{customer_id}` would take `/customers/merges`.
        routers=[imports_api.router, imports_api.exports, merging_api.router, cards_api.router],
        kafka_routers=[events.router, consumers.router],
        deps=deps,
        on_startup=[store.ensure_indexes, relay.start],
        on_shutdown=[relay.stop],
        description="Who is writing: customer cards, phone matching, duplicates and merges, stats.",
    )
