"""Composition root of ingest: the only place that reads settings and builds clients."""

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.service import build_service
from ingest import api, handlers
from ingest.settings import IngestSettings
from ingest.store import ChannelStore, connect


def create_app(
    settings: IngestSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: ChannelStore | None = None,
) -> FastAPI:
    settings = settings or IngestSettings()
    configure_logging("ingest", settings.log_level)
    registry = CollectorRegistry()
    broker = broker or make_broker(
        settings.kafka_bootstrap_servers, client_id="ingest", registry=registry
    )
    client = connect(settings.mongodb_url)
    store = store or ChannelStore(client[settings.mongodb_database])
    return build_service(
        name="ingest",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        routers=[api.router],
        kafka_routers=[handlers.router],
        state={"store": store},
        on_startup=[store.ensure_indexes],
        description="The WhatsApp boundary: Meta webhooks in, Graph API calls out.",
    )
