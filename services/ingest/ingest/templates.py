"""A channel's approved templates, read from the Graph API page by page and announced."""

from datetime import UTC, datetime

from hanout_shared.contracts import topics
from hanout_shared.contracts.whatsapp import (
    MetaError,
    Template,
    TemplatesSynced,
    TemplatesSyncedEvent,
)
from ingest.graph import GraphClient, GraphUnreachable
from ingest.meta import SOURCE, Outgoing
from ingest.model import ChannelRecord, approved_templates, graph_error, next_cursor, retryable
from ingest.store import ChannelDirectory

MAX_PAGES = 100


class ChannelNotFound(Exception):
    """No enabled channel with that phone_number_id in that workspace."""


class TemplateSyncFailed(Exception):
    def __init__(self, error: MetaError, transient: bool) -> None:
        super().__init__(error.title or str(error.code))
        self.error, self.transient = error, transient


class TemplateSync:
    def __init__(self, graph: GraphClient, directory: ChannelDirectory) -> None:
        self._graph, self._directory = graph, directory

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
