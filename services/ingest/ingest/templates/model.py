"""Meta's pages of message templates read as ours: the approved ones, the next page (pure)."""

from typing import Any

from pydantic import ValidationError

from hanout_shared.contracts.whatsapp import Template, TemplateButton, TemplateSection


def _template(item: dict[str, Any]) -> Template:
    sections = [
        TemplateSection(
            type=str(part.get("type")),
            format=part.get("format"),
            text=part.get("text"),
            buttons=[TemplateButton.model_validate(b) for b in part.get("buttons") or []],
            example=part.get("example"),
        )
        for part in item.get("components") or []
    ]
    return Template(
        id=str(item.get("id")),
        name=item["name"],
        language=item["language"],
        status=item["status"],
        category=item.get("category"),
        parameter_format=item.get("parameter_format"),
        sections=sections,
    )


def approved_templates(payload: Any) -> list[Template]:
    """The APPROVED templates of one Graph page; a malformed one is skipped, not fatal."""
    items = payload.get("data") if isinstance(payload, dict) else None
    found = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("status") != "APPROVED":
            continue
        try:
            found.append(_template(item))
        except (ValidationError, KeyError, TypeError, AttributeError):
            continue
    return found


def next_cursor(payload: Any) -> str | None:
    paging = payload.get("paging") if isinstance(payload, dict) else None
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return after if isinstance(after, str) and after else None
