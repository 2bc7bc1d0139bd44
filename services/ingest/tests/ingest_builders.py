"""Small builders for ingest tests: our webhook bodies, signed; channels, settings, topics."""

import hashlib
import hmac
import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import SecretStr

from hanout_shared.contracts import topics
from hanout_shared.contracts.whatsapp import (
    MarkReadRequested,
    MarkReadRequestedEvent,
    SendRequested,
    SendRequestedEvent,
)
from ingest.channels.model import ChannelRecord
from ingest.settings import IngestSettings, MetaApp

from . import meta_graph, meta_webhooks
from .meta_webhooks import PNID, WABA
from .meta_webhooks import PNID_2 as PNID_2
from .meta_webhooks import WABA_2 as WABA_2

TEST_SECRET = "test_app_secret_do_not_use_in_prod"
TEST_APP = "test-app"
VERIFY_TOKEN = "verify-me"
ALL_TOPICS = (
    topics.WEBHOOKS_RAW,
    topics.WHATSAPP_INBOUND,
    topics.WHATSAPP_STATUS,
    topics.WHATSAPP_OUTBOUND,
    topics.WHATSAPP_TEMPLATES,
    topics.WHATSAPP_DEADLETTER,
)


def random_ref(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def example(name: str) -> tuple[bytes, str]:
    """One of our webhook bodies (`meta_webhooks`) byte for byte, signed with the test secret."""
    body = meta_webhooks.BODIES[name]
    return body, sign(body)


def example_names() -> list[str]:
    return sorted(meta_webhooks.BODIES)


def sequence(name: str) -> list[bytes]:
    """Bodies to post in order (each signed by `sign`)."""
    return meta_webhooks.sequence(name)


def graph_file(kind: str, name: str) -> Any:
    """A Graph API body of ours (`meta_graph`): kind is `requests` or `responses`; a copy, so a
    test may change it."""
    bodies = meta_graph.REQUESTS if kind == "requests" else meta_graph.RESPONSES
    return json.loads(json.dumps(bodies[name]))


def sign(body: bytes, secret: str = TEST_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def settings(**overrides: Any) -> IngestSettings:
    app = MetaApp(app_secrets=[SecretStr(TEST_SECRET)], verify_token=SecretStr(VERIFY_TOKEN))
    values: dict[str, Any] = {
        "environment": "test",
        "meta_apps": {TEST_APP: app},
        "graph_api_url": "http://graph.test",
        "send_backoff_s": 0.0,
        "kafka_ack_timeout_s": 30.0,  # the in-memory broker runs every capture inline
    }
    return IngestSettings(**{**values, **overrides})


def a_channel(
    workspace_id: str,
    phone_number_id: str = PNID,
    *,
    waba_id: str = WABA,
    app: str = TEST_APP,
    token: str = "EAAG-test-token",
    enabled: bool = True,
) -> ChannelRecord:
    now = datetime.now(UTC)
    return ChannelRecord(
        phone_number_id=phone_number_id,
        workspace_id=workspace_id,
        meta_app_id=app,
        access_token=SecretStr(token),
        display_phone_number="212522000111",
        waba_id=waba_id,
        enabled=enabled,
        created_at=now,
        updated_at=now,
    )


class Captured:
    """Everything published on ingest's topics during a TestKafkaBroker session."""

    def __init__(self, broker: KafkaBroker) -> None:
        self.messages: dict[str, list[StreamMessage[Any]]] = defaultdict(list)
        for topic in ALL_TOPICS:
            broker.subscriber(topic, group_id=f"capture-{topic}", decoder=_raw)(self._keep(topic))

    def _keep(self, topic: str) -> Any:
        async def keep(body: bytes, message: KafkaMessage) -> None:
            self.messages[topic].append(message)

        return keep

    def events(self, topic: str) -> list[dict[str, Any]]:
        return [json.loads(message.body) for message in self.messages[topic]]

    def derived(self) -> list[dict[str, Any]]:
        return [e for t in ALL_TOPICS if t != topics.WEBHOOKS_RAW for e in self.events(t)]


async def _raw(message: StreamMessage[Any]) -> bytes:
    return message.body


def a_send(
    workspace_id: str,
    content: dict[str, Any],
    *,
    key: str | None = None,
    wa_id: str | None = "212612345678",
    user_id: str | None = None,
    reply_to: str | None = None,
    phone_number_id: str = PNID,
) -> SendRequestedEvent:
    contact_id = wa_id or user_id or ""
    data = SendRequested.model_validate(
        {
            "idempotency_key": key or random_ref("send"),
            "conversation_key": f"{workspace_id}:{phone_number_id}:{contact_id}",
            "phone_number_id": phone_number_id,
            "recipient": {"wa_id": wa_id, "user_id": user_id},
            "content": content,
            "reply_to_wamid": reply_to,
        }
    )
    return SendRequestedEvent.create(
        source="hanout/inbox",
        workspaceid=workspace_id,
        subject=data.conversation_key,
        data=data,
        actorid="agent-7",
        actorname="Nadia",
    )


def a_mark_read(workspace_id: str, wamid: str, typing: bool) -> MarkReadRequestedEvent:
    data = MarkReadRequested(
        conversation_key=f"{workspace_id}:{PNID}:212612345678",
        phone_number_id=PNID,
        wamid=wamid,
        typing_indicator=typing,
    )
    return MarkReadRequestedEvent.create(
        source="hanout/inbox", workspaceid=workspace_id, subject=data.conversation_key, data=data
    )
