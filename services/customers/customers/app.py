"""Composition root of customers: the only place that reads settings and builds clients."""

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from customers import api, handlers
from customers.settings import CustomersSettings
from customers.store import CustomerStore, connect
from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.service import build_service


def create_app(
    settings: CustomersSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: CustomerStore | None = None,
) -> FastAPI:
    settings = settings or CustomersSettings()
    configure_logging("customers", settings.log_level)
    registry = CollectorRegistry()
    broker = broker or make_broker(
        settings.kafka_bootstrap_servers, client_id="customers", registry=registry
    )
    client = connect(settings.mongodb_url)
    store = store or CustomerStore(client[settings.mongodb_database])
    return build_service(
        name="customers",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        routers=[api.router],
        kafka_routers=[handlers.router],
        state={"store": store},
        on_startup=[store.ensure_indexes],
        description="Who is writing: customer cards, phone matching, duplicates and merges, stats.",
    )
