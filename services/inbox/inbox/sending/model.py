"""What an agent sends: the pending message as stored, and checks on its content (pure)."""

from datetime import datetime

from hanout_shared.contracts.whatsapp import Content, MediaContent, TemplateContent, TextContent
from inbox.conversations.messages import MEDIA_LABELS, Attachment, Message
from inbox.conversations.model import ConversationRow
from inbox.values import Person, to_ms


def content_summary(content: Content) -> str:
    if isinstance(content, TextContent):
        return content.body
    if isinstance(content, MediaContent):
        label = "Voice message" if content.voice else MEDIA_LABELS[content.kind]
        detail = content.caption or content.filename
        return f"{label}: {detail}" if detail else label
    return f"Template: {content.name}"


def media_problem(content: Content) -> str | None:
    if not isinstance(content, MediaContent):
        return None
    if bool(content.media_id) == bool(content.link):
        return "A media message needs exactly one of media_id or link"
    if content.link and not content.link.startswith("https://"):
        return "A media link must be an https:// URL"
    if content.caption and content.kind in ("audio", "sticker"):
        return f"A {content.kind} message cannot have a caption"
    return None


def _attachments(content: Content) -> list[Attachment]:
    if not isinstance(content, MediaContent):
        return []
    fields = content.model_dump(include={"media_id", "link", "caption", "filename", "voice"})
    return [Attachment(kind=content.kind, **fields)]


def outbound(
    *,
    message_id: str,
    conversation: ConversationRow,
    content: Content,
    reply_to_wamid: str | None,
    agent: Person,
    client_key: str,
    at: datetime,
) -> Message:
    """An agent's send as it is stored before ingest takes it: pending."""
    text = content.body if isinstance(content, TextContent) else getattr(content, "caption", None)
    return Message(
        id=message_id,
        conversation_id=conversation.id,
        conversation_key=conversation.conversation_key,
        direction="outbound",
        type=content.kind,
        at=to_ms(at),
        summary=content_summary(content),
        text=text,
        attachments=_attachments(content),
        template=content if isinstance(content, TemplateContent) else None,
        reply_to_wamid=reply_to_wamid,
        status="pending",
        status_times={"pending": to_ms(at)},
        sent_by=agent,
        client_key=client_key,
    )


def content_of(message: Message) -> Content:
    """What to send again when a failed message is retried."""
    if message.template is not None:
        return message.template
    if message.attachments:
        media = message.attachments[0]
        fields = media.model_dump(include={"media_id", "link", "caption", "filename"})
        return MediaContent.model_validate(
            {"kind": media.kind, "voice": bool(media.voice), **fields}
        )
    return TextContent(body=message.text or message.summary)
