"""A channel's approved templates, read from the Graph API page by page and announced."""

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.whatsapp import (
    MetaError,
    Template,
    TemplatesSynced,
    TemplatesSyncedEvent,
    TemplatesSyncRequestedEvent,
)
from ingest.channels.directory import ChannelDirectory
from ingest.channels.model import ChannelRecord
from ingest.events import SOURCE, Outgoing, dead_letter
from ingest.graph import GraphClient, GraphUnreachable, graph_error, retryable
from ingest.metrics import IngestMetrics
from ingest.templates.model import approved_templates, next_cursor

MAX_PAGES = 100


class ChannelNotFound(Exception):
    """No enabled channel with that phone_number_id in that workspace."""


class TemplateSyncFailed(Exception):
    def __init__(self, error: MetaError, transient: bool) -> None:
        super().__init__(error.title or str(error.code))
        self.error, self.transient = error, transient


class TemplateSync:
    def __init__(
        self,
        graph: GraphClient,
        directory: ChannelDirectory,
        metrics: IngestMetrics,
        *,
        pause_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._graph, self._directory, self._metrics = graph, directory, metrics
        self._pause_s, self._sleep = pause_s, sleep

    async def requested(self, command: TemplatesSyncRequestedEvent) -> Outgoing:
        """What to publish for a sync command of whatsapp.outbound.v1."""
        data = command.data
        try:
            return await self.sync(command.workspaceid, data.phone_number_id, data.reason)
        except ChannelNotFound:
            return self._dead(command, "unknown_channel", data.phone_number_id)
        except TemplateSyncFailed as exc:
            if exc.transient:  # redelivered after a pause, rather than spinning on a Meta outage
                await self._sleep(self._pause_s)
                raise
            return self._dead(command, "template_sync_failed", exc.error.model_dump_json())

    def _dead(self, command: TemplatesSyncRequestedEvent, reason: str, detail: str) -> Outgoing:
        """A sync that was read well but cannot be done: on whatsapp.deadletter.v1 with the
        command, for inspection (unreadable commands never get here: the consumer takes them)."""
        self._metrics.dead_letters.labels(reason).inc()
        text = command.model_dump_json(exclude_none=True)
        digest = hashlib.sha256(text.encode()).hexdigest()
        return dead_letter(
            datetime.now(UTC),
            reason,
            event_id=deterministic_id(digest, reason),
            raw_text=text[:100_000],
            detail=detail[:1000],
            original_topic=topics.WHATSAPP_OUTBOUND,
        )

    async def sync(self, workspace_id: str, phone_number_id: str, reason: str) -> Outgoing:
        channels = await self._directory.lookup({phone_number_id})
        channel = channels.get(phone_number_id)
        if channel is None or channel.workspace_id != workspace_id or not channel.enabled:
            raise ChannelNotFound(phone_number_id)
        data = TemplatesSynced(
            channel=channel.channel,
            templates=await self._fetch(channel),
            synced_at=datetime.now(UTC),
            reason=reason,
        )
        event = TemplatesSyncedEvent.create(
            source=SOURCE, workspaceid=workspace_id, subject=phone_number_id, data=data
        )
        return Outgoing(topics.WHATSAPP_TEMPLATES, event)

    async def _fetch(self, channel: ChannelRecord) -> list[Template]:
        if not channel.waba_id:
            raise TemplateSyncFailed(MetaError(title="The channel has no WABA id"), False)
        token = channel.access_token.get_secret_value()
        found: list[Template] = []
        after: str | None = None
        for _ in range(MAX_PAGES):
            try:
                page = await self._graph.templates_page(channel.waba_id, token, after)
            except GraphUnreachable as exc:
                raise TemplateSyncFailed(MetaError(title="Graph API unreachable"), True) from exc
            if not page.ok:
                error = graph_error(page.status, page.payload)
                raise TemplateSyncFailed(error, retryable(error, page.status))
            found.extend(approved_templates(page.payload))
            after = next_cursor(page.payload)
            if after is None:
                break
        return found
