"""Composition root of orders: the only place that reads settings and builds clients."""

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.service import build_service
from orders import api, handlers
from orders.settings import OrdersSettings
from orders.store import OrderStore, connect


def create_app(
    settings: OrdersSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: OrderStore | None = None,
) -> FastAPI:
    settings = settings or OrdersSettings()
    configure_logging("orders", settings.log_level)
    registry = CollectorRegistry()
    broker = broker or make_broker(
        settings.kafka_bootstrap_servers, client_id="orders", registry=registry
    )
    client = connect(settings.mongodb_url)
    store = store or OrderStore(client[settings.mongodb_database])
    return build_service(
        name="orders",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        routers=[api.router],
        kafka_routers=[handlers.router],
        state={"store": store},
        on_startup=[store.ensure_indexes],
        description="Orders, order numbers, the pipeline of stages, history and audit.",
    )
