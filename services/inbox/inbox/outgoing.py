"""What an agent sends: the pending message, and checks against the synced templates (pure)."""

import re
from datetime import datetime

from pydantic import Field

from hanout_shared.contracts.whatsapp import (
    Content,
    MediaContent,
    Template,
    TemplateButton,
    TemplateComponent,
    TemplateContent,
    TemplateParameter,
    TextContent,
)
from inbox.messages import MEDIA_LABELS, Attachment, Message
from inbox.model import ConversationRow, Frozen, Person, to_ms

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
TEXT_KINDS = frozenset({"text", "currency", "date_time"})
MEDIA_FORMATS = frozenset({"image", "video", "document"})


class Slot(Frozen):
    """Parameters a template component needs when it is sent."""

    component: str = Field(description="header, body or button")
    sub_type: str | None = Field(default=None, description="For buttons: url, copy_code")
    index: int | None = Field(default=None, description="For buttons: its position")
    names: list[str] = Field(description="Placeholders in order: 1, 2… or named ones")
    kinds: list[str] = Field(description="Parameter types accepted here")


class TemplateView(Frozen):
    name: str
    language: str
    category: str | None
    parameter_format: str | None
    header_format: str | None
    body: str | None
    slots: list[Slot]


class Problem(Frozen):
    code: str
    message: str


def _names(text: str | None) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(text or "")))


def slots(template: Template) -> list[Slot]:
    found: list[Slot] = []
    for section in template.sections:
        kind, fmt = section.type.upper(), (section.format or "TEXT").lower()
        if kind == "HEADER" and fmt in MEDIA_FORMATS | {"location"}:
            found.append(Slot(component="header", names=["1"], kinds=[fmt]))
        elif kind in ("HEADER", "BODY") and (names := _names(section.text)):
            found.append(Slot(component=kind.lower(), names=names, kinds=sorted(TEXT_KINDS)))
        elif kind == "BUTTONS":
            found += _button_slots(section.buttons)
    return found


def _button_slots(buttons: list[TemplateButton]) -> list[Slot]:
    found = []
    for index, button in enumerate(buttons):
        kind = button.type.lower()
        if kind == "url" and _names(button.url):
            found.append(
                Slot(component="button", sub_type="url", index=index, names=["1"], kinds=["text"])
            )
        elif kind == "copy_code":
            found.append(
                Slot(
                    component="button",
                    sub_type="copy_code",
                    index=index,
                    names=["1"],
                    kinds=["coupon_code"],
                )
            )
    return found


def view(template: Template) -> TemplateView:
    header = next((s for s in template.sections if s.type.upper() == "HEADER"), None)
    body = next((s for s in template.sections if s.type.upper() == "BODY"), None)
    return TemplateView(
        name=template.name,
        language=template.language,
        category=template.category,
        parameter_format=template.parameter_format,
        header_format=(header.format or "TEXT") if header else None,
        body=body.text if body else None,
        slots=slots(template),
    )


def _where(slot: Slot) -> str:
    if slot.component == "button":
        return f"button {slot.index} ({slot.sub_type})"
    return slot.component


def _parameter_problem(slot: Slot, parameter: TemplateParameter) -> str | None:
    if parameter.type not in slot.kinds:
        return f"takes {' or '.join(slot.kinds)} parameters, not {parameter.type}"
    if parameter.type in MEDIA_FORMATS and not (parameter.media_id or parameter.link):
        return f"needs the {parameter.type}'s media_id or link"
    if parameter.type in ("text", "coupon_code") and not (parameter.text or "").strip():
        return "has an empty text parameter"
    if parameter.type in ("currency", "date_time") and not parameter.fallback_value:
        return f"needs a fallback_value for its {parameter.type} parameter"
    return None


def _slot_problem(slot: Slot, given: TemplateComponent | None, named: bool) -> str | None:
    parameters = given.parameters if given else []
    where, wanted = _where(slot), ", ".join("{{" + n + "}}" for n in slot.names)
    if len(parameters) != len(slot.names):
        return f"The {where} needs {len(slot.names)} parameter(s) ({wanted}), got {len(parameters)}"
    if named and sorted(p.parameter_name or "" for p in parameters) != sorted(slot.names):
        return f"The {where} needs parameters named {wanted}"
    for parameter in parameters:
        if problem := _parameter_problem(slot, parameter):
            return f"The {where} {problem}"
    return None


def _key(component: TemplateComponent) -> tuple[str, int | None]:
    kind = component.type.lower()
    return (kind, component.index if kind == "button" else None)


def _parameters_problem(template: Template, content: TemplateContent) -> str | None:
    expected = {(s.component, s.index): s for s in slots(template)}
    # Quick-reply payloads are optional: Meta accepts them on any quick-reply button.
    given = {_key(c): c for c in content.components if c.parameters and c.sub_type != "quick_reply"}
    for key in given.keys() - expected.keys():
        where = f"button {key[1]}" if key[0] == "button" else key[0]
        return f"The template's {where} takes no parameters"
    named = (template.parameter_format or "").upper() == "NAMED"
    for key, slot in expected.items():
        if slot.kinds == ["location"]:
            return "Templates with a location header are not supported yet"
        if problem := _slot_problem(slot, given.get(key), named and set(slot.kinds) == TEXT_KINDS):
            return problem
    return None


def template_problem(content: TemplateContent, templates: list[Template]) -> Problem | None:
    """Why Meta would refuse this template send, checked before anything reaches Meta."""
    same_name = [t for t in templates if t.name == content.name]
    if not same_name:
        return Problem(
            code="template_not_found",
            message=f"No template named '{content.name}' is synced for this number",
        )
    found = next((t for t in same_name if t.language == content.language), None)
    if found is None:
        languages = ", ".join(sorted(t.language for t in same_name))
        return Problem(
            code="template_language_unavailable",
            message=f"Template '{content.name}' has no '{content.language}' version "
            f"(available: {languages})",
        )
    if found.status.upper() != "APPROVED":
        return Problem(
            code="template_not_approved",
            message=f"Template '{content.name}' is {found.status}, not APPROVED",
        )
    if problem := _parameters_problem(found, content):
        return Problem(code="template_parameters_invalid", message=problem)
    return None


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
