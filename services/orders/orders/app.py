"""Composition root of orders: the only place that reads settings and builds clients."""

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from hanout_shared.contracts import topics
from hanout_shared.platform.consuming import Consumers
from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.outbox import OutboxRelay
from hanout_shared.platform.service import build_service
from orders import api, handlers
from orders.deps import OrdersDeps
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
    registry = CollectorRegistry()
    broker = broker or make_broker(
        settings.kafka_bootstrap_servers, client_id="orders", registry=registry
    )
    client = connect(settings.mongodb_url)
    store = store or Store(client[settings.mongodb_database])
    relay = OutboxRelay(
        [store.orders.outbox],
        {topics.ORDERS_EVENTS: handlers.order_events},
        broker,
        interval_s=settings.outbox_sweep_interval_s,
        timeout_s=settings.publish_timeout_s,
        registry=registry,
    )
    consumers: Consumers[OrdersDeps] = Consumers(
        service="orders",
        group=settings.consumer_group,
        deadletter_topic=topics.ORDERS_DEADLETTER,
        registry=registry,
    )
    handlers.subscribe(consumers)
    deps = OrdersDeps(
        store=store,
        relay=relay,
        first_order_number=settings.first_order_number,
        customer_wait_s=settings.customer_wait_s,
    )
    return build_service(
        name="orders",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        routers=[api.router],
        kafka_routers=[handlers.router, consumers.router],
        deps=deps,
        on_startup=[store.ensure_indexes, relay.start],
        on_shutdown=[relay.stop],
        description="Orders, order numbers, the pipeline of stages, history and audit.",
    )
