"""Kafka subscribers of the inbox."""

from typing import Annotated

from faststream import Context
from faststream.kafka import KafkaRouter
from faststream.middlewares import AckPolicy

from hanout_shared.contracts import topics
from hanout_shared.contracts.whatsapp import InboundEvent, MessageReceivedEvent
from inbox.model import message_preview
from inbox.store import ConversationStore

router = KafkaRouter()


@router.subscriber(
    topics.WHATSAPP_INBOUND,
    group_id="inbox",
    ack_policy=AckPolicy.NACK_ON_ERROR,
    auto_offset_reset="earliest",
)
async def on_message_received(
    event: InboundEvent, store: Annotated[ConversationStore, Context("store")]
) -> None:
    if not isinstance(event, MessageReceivedEvent):
        return
    message = event.data
    await store.record_inbound(
        conversation_id=message.conversation_key,
        workspace_id=event.workspaceid,
        phone_number_id=message.channel.phone_number_id,
        contact_id=message.contact.contact_id(),
        display_name=message.contact.profile_name or message.contact.contact_id(),
        wamid=message.wamid,
        preview=message_preview(message.message_type, message.text),
        sent_at=message.sent_at,
    )
