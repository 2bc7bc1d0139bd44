"""Prometheus metrics of ingest, registered on the service's own registry."""

from prometheus_client import CollectorRegistry, Counter, Histogram


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.webhooks = Counter(
            "ingest_webhooks_total",
            "Webhook POSTs by outcome (accepted, bad_signature, invalid_json, ...)",
            ["outcome"],
            registry=registry,
        )
        self.signature_failures = Counter(
            "ingest_webhook_signature_failures_total",
            "Webhooks refused for a missing or wrong X-Hub-Signature-256",
            ["reason"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "ingest_dead_letters_total",
            "Items put on whatsapp.deadletter.v1, by reason (webhook items, template syncs)",
            ["reason"],
            registry=registry,
        )
        self.events = Counter(
            "ingest_events_published_total",
            "Events derived from webhooks and published, by topic",
            ["topic"],
            registry=registry,
        )
        self.ignored_fields = Counter(
            "ingest_webhook_ignored_fields_total",
            "Webhook changes of a field ingest does not translate (kept on the raw topic)",
            ["field"],
            registry=registry,
        )
        self.ack_seconds = Histogram(
            "ingest_webhook_ack_seconds",
            "Time from a webhook's body being read to Kafka acknowledging all its records",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=registry,
        )
        self.sends = Counter(
            "ingest_sends_total",
            "Outbound commands by outcome (accepted, failed, duplicate, ...)",
            ["outcome"],
            registry=registry,
        )
        self.graph_retries = Counter(
            "ingest_graph_retries_total",
            "Graph API calls retried after a throughput or transient error, by Meta code",
            ["code"],
            registry=registry,
        )
