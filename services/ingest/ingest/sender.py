"""Outbound commands carried out on the Graph API: once per idempotency key, paced, retried.

The ledger row is claimed *before* Meta is called and finished right after. If ingest dies in
between, the redelivered command finds a claim without an outcome: Meta may or may not have sent
the message, and calling again could send it twice. We choose "at most once": the command fails
with reason `outcome_unknown` (retryable by the agent), and since every send carries its
idempotency key as `biz_opaque_callback_data`, a status webhook still reveals a message that did go.
"""

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hanout_shared.contracts import deterministic_id, topics
from hanout_shared.contracts.whatsapp import (
    Channel,
    ContactIdentity,
    MarkReadRequestedEvent,
    MessageAccepted,
    MessageAcceptedEvent,
    MessageFailed,
    MessageFailedEvent,
    MetaError,
    OutboundCommand,
    SendRequestedEvent,
    TemplatesSyncRequestedEvent,
)
from ingest.graph import GraphClient, GraphOutcomeUnknown, GraphResponse, GraphUnreachable
from ingest.meta import SOURCE, Delivery, Outgoing, dead_letter
from ingest.metrics import IngestMetrics
from ingest.model import (
    ChannelRecord,
    InvalidCommand,
    SendRecord,
    TokenBucket,
    backoff_s,
    graph_error,
    mark_read_body,
    retryable,
    send_body,
)
from ingest.store import ChannelDirectory
from ingest.templates import ChannelNotFound, TemplateSync, TemplateSyncFailed

logger = logging.getLogger("hanout.ingest.sender")
commands: TypeAdapter[Any] = TypeAdapter(OutboundCommand)

UNKNOWN_OUTCOME = MetaError(
    title="Send outcome unknown",
    details="ingest stopped between calling Meta and recording the answer; "
    "the message may have been sent",
)
UNREACHABLE = MetaError(title="Graph API unreachable")


class SendFailure(Exception):
    def __init__(self, reason: str, error: MetaError, attempts: int, retry: bool) -> None:
        super().__init__(reason)
        self.reason, self.error, self.attempts, self.retry = reason, error, attempts, retry


class Sender:
    def __init__(
        self,
        *,
        graph: GraphClient,
        store: Any,
        directory: ChannelDirectory,
        templates: TemplateSync,
        metrics: IngestMetrics,
        rate_per_second: float,
        max_attempts: int,
        backoff_base_s: float,
        backoff_max_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._graph, self._store, self._directory = graph, store, directory
        self._templates, self._metrics = templates, metrics
        self._rate, self._max_attempts = rate_per_second, max_attempts
        self._backoff = (backoff_base_s, backoff_max_s)
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}

    async def handle(self, body: bytes) -> list[Outgoing]:
        """What to publish for one record of whatsapp.outbound.v1."""
        try:
            command = commands.validate_json(body)
        except ValidationError as exc:
            return [self._dead(body, "invalid_command", str(exc))]
        if isinstance(command, SendRequestedEvent):
            return await self.send(command)
        if isinstance(command, MarkReadRequestedEvent):
            await self.mark_read(command)
        elif isinstance(command, TemplatesSyncRequestedEvent):
            return [await self._sync(command, body)]
        return []

    async def _sync(self, command: TemplatesSyncRequestedEvent, body: bytes) -> Outgoing:
        data = command.data
        try:
            return await self._templates.sync(
                command.workspaceid, data.phone_number_id, data.reason
            )
        except ChannelNotFound:
            return self._dead(body, "unknown_channel", data.phone_number_id)
        except TemplateSyncFailed as exc:
            if exc.transient:  # redelivered after a pause, rather than spinning on a Meta outage
                await self._sleep(self._backoff[0])
                raise
            return self._dead(body, "template_sync_failed", exc.error.model_dump_json())

    def _dead(self, body: bytes, reason: str, detail: str) -> Outgoing:
        self._metrics.dead_letters.labels(reason).inc()
        delivery = Delivery(hashlib.sha256(body).hexdigest(), datetime.now(UTC))
        return dead_letter(
            delivery,
            reason,
            event_id=deterministic_id(delivery.body_sha256, reason),
            raw_text=body.decode("utf-8", "replace")[:100_000],
            detail=detail[:1000],
            original_topic=topics.WHATSAPP_OUTBOUND,
        )

    async def _channel(self, workspace_id: str, phone_number_id: str) -> ChannelRecord | None:
        found = (await self._directory.lookup({phone_number_id})).get(phone_number_id)
        usable = found is not None and found.enabled and found.workspace_id == workspace_id
        return found if usable else None

    async def send(self, event: SendRequestedEvent) -> list[Outgoing]:
        command = event.data
        channel = await self._channel(event.workspaceid, command.phone_number_id)
        if channel is None:
            error = MetaError(title="Unknown or disabled channel")
            return [self._failed(event, SendFailure("unknown_channel", error, 0, False))]
        ledger = self._store.sends
        earlier = await ledger.claim(event.workspaceid, command.idempotency_key, event.id)
        if earlier is not None:
            return [self._replayed(event, channel, earlier)]
        try:
            response = await self._send_with_retries(channel, send_body(command))
            wamid, contact, status = _accepted_parts(response.payload, command.recipient)
        except InvalidCommand as exc:
            failure = SendFailure("invalid_command", MetaError(title=str(exc)), 0, False)
        except SendFailure as exc:
            failure = exc
        else:
            await ledger.record_accepted(event.workspaceid, command.idempotency_key, wamid)
            return [self._accepted(event, channel, wamid, contact, status)]
        key, retry = command.idempotency_key, failure.retry
        await ledger.record_failed(event.workspaceid, key, failure.error, failure.reason, retry)
        return [self._failed(event, failure, channel)]

    def _replayed(
        self, event: SendRequestedEvent, channel: ChannelRecord, row: SendRecord
    ) -> Outgoing:
        """A key seen before: say again what happened, with the same event id, never resend."""
        self._metrics.sends.labels("duplicate").inc()
        if row.state == "accepted":
            wamid = row.wamid or ""
            return self._accepted(event, channel, wamid, event.data.recipient, None)
        if row.state == "failed":
            reason, retry = row.reason or "meta_error", bool(row.retryable)
            failure = SendFailure(reason, row.error or MetaError(), 0, retry)
            return self._failed(event, failure, channel)
        return self._failed(
            event, SendFailure("outcome_unknown", UNKNOWN_OUTCOME, 1, True), channel
        )

    async def _pace(self, phone_number_id: str) -> None:
        bucket = self._buckets.setdefault(phone_number_id, TokenBucket(self._rate))
        if wait := bucket.delay():
            await self._sleep(wait)

    async def _send_with_retries(
        self, channel: ChannelRecord, body: dict[str, Any]
    ) -> GraphResponse:
        token = channel.access_token.get_secret_value()
        for attempt in range(1, self._max_attempts + 1):
            await self._pace(channel.phone_number_id)
            try:
                response = await self._graph.send_message(channel.phone_number_id, token, body)
            except GraphOutcomeUnknown as exc:
                raise SendFailure("outcome_unknown", UNKNOWN_OUTCOME, attempt, True) from exc
            except GraphUnreachable:
                response, error = GraphResponse(503, None), UNREACHABLE
            else:
                if response.ok:
                    return response
                error = graph_error(response.status, response.payload)
            if not retryable(error, response.status) or attempt == self._max_attempts:
                retry = retryable(error, response.status)
                raise SendFailure("meta_error", error, attempt, retry)
            self._metrics.graph_retries.labels(str(error.code)).inc()
            await self._sleep(backoff_s(error, attempt, *self._backoff))
        raise AssertionError("unreachable: the loop returns or raises")

    def _accepted(
        self,
        event: SendRequestedEvent,
        channel: ChannelRecord,
        wamid: str,
        contact: ContactIdentity,
        status: str | None,
    ) -> Outgoing:
        self._metrics.sends.labels("accepted").inc()
        command = event.data
        data = MessageAccepted(
            conversation_key=command.conversation_key,
            idempotency_key=command.idempotency_key,
            wamid=wamid,
            channel=channel.channel,
            contact=contact,
            accepted_at=datetime.now(UTC),
            message_status=status,
            command_id=event.id,
        )
        key_id = deterministic_id(event.workspaceid, command.idempotency_key, "accepted")
        return Outgoing(topics.WHATSAPP_STATUS, _reply(MessageAcceptedEvent, event, data, key_id))

    def _failed(
        self, event: SendRequestedEvent, failure: SendFailure, channel: ChannelRecord | None = None
    ) -> Outgoing:
        self._metrics.sends.labels(f"failed_{failure.reason}").inc()
        command = event.data
        data = MessageFailed(
            conversation_key=command.conversation_key,
            idempotency_key=command.idempotency_key,
            channel=channel.channel
            if channel
            else Channel(phone_number_id=command.phone_number_id),
            reason=failure.reason,
            error=failure.error,
            retryable=failure.retry,
            attempts=failure.attempts,
            failed_at=datetime.now(UTC),
            command_id=event.id,
        )
        key_id = deterministic_id(event.workspaceid, command.idempotency_key, "failed")
        return Outgoing(topics.WHATSAPP_STATUS, _reply(MessageFailedEvent, event, data, key_id))

    async def mark_read(self, event: MarkReadRequestedEvent) -> None:
        command = event.data
        channel = await self._channel(event.workspaceid, command.phone_number_id)
        if channel is None:
            logger.warning("mark_read for an unknown channel", extra={"event_id": event.id})
            return
        try:
            await self._send_with_retries(channel, mark_read_body(command))
        except SendFailure as failure:
            self._metrics.sends.labels("mark_read_failed").inc()
            logger.warning("mark_read failed", extra={"code": failure.error.code})


def _channel_of(channel: ChannelRecord | None, phone_number_id: str) -> Channel:
    return channel.channel if channel else Channel(phone_number_id=phone_number_id)


def _reply(kind: Any, cause: SendRequestedEvent, data: Any, event_id: str) -> Any:
    return kind.create(
        source=SOURCE,
        workspaceid=cause.workspaceid,
        subject=cause.data.conversation_key,
        data=data,
        id=event_id,
        actorid=cause.actorid,
        actorname=cause.actorname,
        correlationid=cause.correlationid or cause.id,
    )


def _accepted_parts(
    payload: Any, recipient: ContactIdentity
) -> tuple[str, ContactIdentity, str | None]:
    messages = payload.get("messages") if isinstance(payload, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else {}
    wamid = first.get("id") if isinstance(first, dict) else None
    if not isinstance(wamid, str):
        raise SendFailure("outcome_unknown", UNKNOWN_OUTCOME, 1, True)
    contacts = payload.get("contacts")
    contact = contacts[0] if isinstance(contacts, list) and contacts else {}
    wa_id = contact.get("wa_id") if isinstance(contact, dict) else None
    if isinstance(wa_id, str) and wa_id != recipient.wa_id:
        recipient = recipient.model_copy(update={"wa_id": wa_id})
    status = first.get("message_status")
    return wamid, recipient, status if isinstance(status, str) else None
