"""A number's message templates: the synced read model, what each needs to be sent, and why
Meta would refuse a send (pure)."""

import re
from datetime import datetime

from pydantic import Field

from hanout_shared.contracts.whatsapp import (
    Template,
    TemplateButton,
    TemplateComponent,
    TemplateContent,
    TemplateParameter,
)
from inbox.values import Frozen

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
TEXT_KINDS = frozenset({"text", "currency", "date_time"})
MEDIA_FORMATS = frozenset({"image", "video", "document"})


class ChannelTemplates(Frozen):
    phone_number_id: str
    synced_at: datetime
    templates: list[Template]


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
