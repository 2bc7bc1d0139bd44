"""What ingest's routes and handlers work with: one object built by app.py, the error answers."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path

from hanout_shared.platform.errors import ErrorBody
from hanout_shared.platform.service import dependencies
from ingest.channels.directory import ChannelDirectory
from ingest.graph import GraphClient
from ingest.metrics import IngestMetrics
from ingest.sending.send import Sender
from ingest.store import IngestStore
from ingest.templates.sync import TemplateSync
from ingest.webhooks.records import Sink


@dataclass(frozen=True)
class WebhookConfig:
    app_secrets: list[tuple[str, bytes]]
    verify_tokens: list[bytes]
    max_body_bytes: int
    ack_timeout_s: float


@dataclass(frozen=True)
class IngestDeps:
    store: IngestStore
    directory: ChannelDirectory
    graph: GraphClient
    templates: TemplateSync
    sender: Sender
    metrics: IngestMetrics
    webhook: WebhookConfig
    sink: Sink  # the webhook path's own producer (ingest.webhooks.records), not the broker
    meta_app_ids: frozenset[str]
    media_max_bytes: int


IngestDep = Annotated[IngestDeps, Depends(dependencies)]
# Checked at the boundary: these values go into Graph API URLs (ingest.graph.node checks again).
GRAPH_ID_PATTERN = r"^[0-9]{1,32}$"
PhoneNumberId = Annotated[
    str, Path(pattern=GRAPH_ID_PATTERN, description="Meta's id of the business number (digits)")
]
MediaId = Annotated[str, Path(pattern=GRAPH_ID_PATTERN, description="Meta's media id (digits)")]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody} for status in statuses}
