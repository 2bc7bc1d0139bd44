"""Composition root of orders: the only place that reads settings and builds clients."""

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter

from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.service import build_service
from orders import api, handlers
from orders.handlers import OutboxRelay
from orders.settings import OrdersSettings
from orders.store import Store, connect


def create_app(
    settings: OrdersSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: Store | None = None,
) -> FastAPI:
    settings = settings or OrdersSettings()
    configure_logging("orders", settings.log_level)
    handlers.name_consumer_group(settings.consumer_group)
    registry = CollectorRegistry()
    broker = broker or make_broker(
        settings.kafka_bootstrap_servers, client_id="orders", registry=registry
    )
    client = connect(settings.mongodb_url)
    store = store or Store(client[settings.mongodb_database])
    relay = OutboxRelay(
        store.orders,
        broker,
        interval_s=settings.outbox_sweep_interval_s,
        timeout_s=settings.publish_timeout_s,
    )
    poison = Counter(
        "orders_poison_messages",
        "Consumed messages skipped because they can never be processed",
        ["topic", "reason"],
        registry=registry,
    )
    return build_service(
        name="orders",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        routers=[api.router],
        kafka_routers=[handlers.router],
        state={"store": store, "relay": relay, "poison_messages": poison, "settings": settings},
        on_startup=[store.ensure_indexes, relay.start],
        on_shutdown=[relay.stop],
        description="Orders, order numbers, the pipeline of stages, history and audit.",
    )
