"""Outbound commands carried out on the Graph API: once per idempotency key, paced, retried.

The ledger row is claimed *before* Meta is called and finished right after. If ingest dies in
between, the redelivered command finds a claim without an outcome: Meta may or may not have sent
the message, and calling again could send it twice. We choose "at most once": the command fails
with reason `outcome_unknown` (retryable by the agent), and since every send carries its
idempotency key as `biz_opaque_callback_data`, a status webhook still reveals a message that did go.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

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
    SendRequestedEvent,
)
from ingest.channels.directory import ChannelDirectory
from ingest.channels.model import ChannelRecord
from ingest.events import SOURCE, Outgoing
from ingest.graph import (
    GraphClient,
    GraphOutcomeUnknown,
    GraphResponse,
    GraphUnreachable,
    graph_error,
    retryable,
)
from ingest.metrics import IngestMetrics
from ingest.sending.model import (
    InvalidCommand,
    SendRecord,
    TokenBucket,
    backoff_s,
    mark_read_body,
    send_body,
)
from ingest.sending.store import SendLedger

logger = logging.getLogger("hanout.ingest.sender")

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
        ledger: SendLedger,
        directory: ChannelDirectory,
        metrics: IngestMetrics,
        rate_per_second: float,
        max_attempts: int,
        backoff_base_s: float,
        backoff_max_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._graph, self._ledger, self._directory = graph, ledger, directory
        self._metrics = metrics
        self._rate, self._max_attempts = rate_per_second, max_attempts
        self._backoff = (backoff_base_s, backoff_max_s)
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}

    async def handle(self, command: SendRequestedEvent | MarkReadRequestedEvent) -> list[Outgoing]:
        """What to publish for a send or a read receipt of whatsapp.outbound.v1."""
        if isinstance(command, SendRequestedEvent):
            return await self.send(command)
        await self.mark_read(command)
        return []

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
        key = command.idempotency_key
        earlier = await self._ledger.claim(event.workspaceid, key, event.id)
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
            await self._ledger.record_accepted(event.workspaceid, key, wamid)
            return [self._accepted(event, channel, wamid, contact, status)]
        error, reason, retry = failure.error, failure.reason, failure.retry
        await self._ledger.record_failed(event.workspaceid, key, error, reason, retry)
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
