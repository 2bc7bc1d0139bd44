"""Composition root of ingest: the only place that reads settings and builds clients."""

import gc
import logging

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from hanout_shared.contracts import topics
from hanout_shared.platform.consuming import Consumers
from hanout_shared.platform.kafka import LONG_RETENTION_MS, CorrelationMiddleware
from hanout_shared.platform.logs import configure_logging
from hanout_shared.platform.service import build_service
from ingest import kafka
from ingest.channels import api as channels_api
from ingest.channels.directory import ChannelDirectory
from ingest.channels.store import TokenCipher
from ingest.deps import IngestDeps, WebhookConfig
from ingest.graph import GraphClient
from ingest.media import api as media_api
from ingest.metrics import IngestMetrics
from ingest.sending import handlers as sending_handlers
from ingest.sending.send import Sender
from ingest.settings import IngestSettings
from ingest.store import IngestStore, connect
from ingest.templates import api as templates_api
from ingest.templates.sync import TemplateSync
from ingest.webhooks import api as webhooks_api
from ingest.webhooks.endpoint import serve_webhooks_first
from ingest.webhooks.records import BrokerSink, KafkaSink, Sink

RECORD_OVERHEAD = 64 * 1024


def make_broker(settings: IngestSettings, registry: CollectorRegistry) -> KafkaBroker:
    """Like the platform's broker (acks=all, not idempotent), with short timeouts so a Kafka outage
    answers Meta 503 quickly, and records as large as the biggest webhook body."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id="ingest",
        acks="all",
        enable_idempotence=False,
        request_timeout_ms=settings.kafka_request_timeout_ms,
        linger_ms=settings.kafka_linger_ms,
        max_request_size=settings.max_body_bytes + RECORD_OVERHEAD,
        middlewares=[
            CorrelationMiddleware,
            KafkaPrometheusMiddleware(registry=registry, app_name="ingest"),
        ],
        logger=logging.getLogger("hanout.ingest.broker"),
    )


async def allow_large_raw_records(bootstrap_servers: str, max_bytes: int) -> None:
    """The raw topic must take a whole 3 MB body; Kafka's default record limit is 1 MB."""
    admin_client = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="ingest")
    await admin_client.start()
    try:
        configs = {"retention.ms": LONG_RETENTION_MS, "max.message.bytes": str(max_bytes)}
        resource = ConfigResource(ConfigResourceType.TOPIC, topics.WEBHOOKS_RAW, configs)
        await admin_client.alter_configs([resource])
    finally:
        await admin_client.close()


async def freeze_startup_objects() -> None:
    """Keep what start-up built (about 110k objects: the app, schemas, phone metadata) out of
    the garbage collector's full passes, which otherwise stopped every webhook in flight for
    80-300 ms every few seconds under load. They live as long as the process anyway."""
    gc.collect()
    gc.freeze()


def make_sink(settings: IngestSettings, broker: KafkaBroker | None) -> KafkaSink | BrokerSink:
    """The webhook path's producer; an injected broker (in-memory in tests) takes its records."""
    if broker is not None:
        return BrokerSink(broker)
    return KafkaSink(
        settings.kafka_bootstrap_servers,
        request_timeout_ms=settings.kafka_request_timeout_ms,
        linger_ms=settings.kafka_linger_ms,
        max_request_size=settings.max_body_bytes + RECORD_OVERHEAD,
    )


def compose(
    settings: IngestSettings,
    metrics: IngestMetrics,
    store: IngestStore,
    sink: Sink,
    graph_transport: httpx.AsyncBaseTransport | None,
) -> IngestDeps:
    graph = GraphClient(
        settings.graph_api_url,
        settings.graph_api_version,
        timeout_s=settings.graph_timeout_s,
        transport=graph_transport,
    )
    directory = ChannelDirectory(store.channels, ttl_s=settings.channel_cache_ttl_s)
    templates = TemplateSync(graph, directory, metrics, pause_s=settings.send_backoff_s)
    sender = Sender(
        graph=graph,
        ledger=store.sends,
        directory=directory,
        metrics=metrics,
        rate_per_second=settings.rate_limit_per_second,
        max_attempts=settings.send_max_attempts,
        backoff_base_s=settings.send_backoff_s,
        backoff_max_s=settings.send_backoff_max_s,
    )
    webhook = WebhookConfig(
        app_secrets=settings.app_secrets(),
        verify_tokens=settings.verify_tokens(),
        max_body_bytes=settings.max_body_bytes,
        ack_timeout_s=settings.kafka_ack_timeout_s,
    )
    return IngestDeps(
        store=store,
        directory=directory,
        graph=graph,
        templates=templates,
        sender=sender,
        metrics=metrics,
        webhook=webhook,
        sink=sink,
        meta_app_ids=frozenset(settings.meta_apps),
        media_max_bytes=settings.media_max_bytes,
    )


def create_app(
    settings: IngestSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: IngestStore | None = None,
    graph_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or IngestSettings()
    configure_logging("ingest", settings.log_level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Graph call is noise
    registry = CollectorRegistry()
    sink = make_sink(settings, broker)
    broker = broker or make_broker(settings, registry)
    client = connect(settings.mongodb_url)
    store = store or IngestStore(
        client[settings.mongodb_database], TokenCipher(settings.token_secrets())
    )
    deps = compose(settings, IngestMetrics(registry), store, sink, graph_transport)
    consumers: Consumers[IngestDeps] = Consumers(
        service="ingest",
        group=settings.outbound_group,
        deadletter_topic=topics.INGEST_DEADLETTER,
        registry=registry,
    )
    sending_handlers.subscribe(consumers)
    starts, stops = ([sink.start], [sink.stop]) if isinstance(sink, KafkaSink) else ([], [])

    async def prepare_raw_topic() -> None:
        max_bytes = settings.max_body_bytes + RECORD_OVERHEAD
        await allow_large_raw_records(settings.kafka_bootstrap_servers, max_bytes)

    app = build_service(
        name="ingest",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=client,
        routers=[webhooks_api.router, channels_api.router, templates_api.router, media_api.router],
        kafka_routers=[kafka.router, consumers.router],
        deps=deps,
        on_startup=[
            store.ensure_indexes,
            prepare_raw_topic,
            deps.directory.refresh,
            *starts,
            freeze_startup_objects,
        ],
        on_shutdown=[deps.graph.close, *stops],
        description="The WhatsApp boundary: Meta webhooks in, Graph API calls out.",
    )
    serve_webhooks_first(app)
    return app
