"""Graph API bodies: what a command becomes for Meta, and how Meta's answers are read."""

from hanout_shared.contracts.whatsapp import ContactIdentity
from hanout_shared.contracts.whatsapp.outbound import (
    SendRequested,
    TemplateComponent,
    TemplateContent,
    TemplateParameter,
)
from ingest.graph import graph_error
from ingest.sending.model import send_body
from ingest.templates.model import approved_templates, next_cursor

from .ingest_builders import graph_file


def test_metas_error_body_is_read_by_code_title_and_details() -> None:
    error = graph_error(400, graph_file("responses", "error_131047_reengagement.json"))
    assert error.code == 131047
    assert error.title == "Re-engagement message"
    assert error.message == "(#131047) Re-engagement message"
    assert error.details and "24 hours" in error.details


def test_a_token_error_without_error_data_is_still_read() -> None:
    error = graph_error(401, graph_file("responses", "error_190_token_expired.json"))
    assert error.code == 190 and error.details is None
    assert error.title and error.title.startswith("Error validating access token")


def test_an_answer_that_is_not_metas_error_shape_keeps_the_http_status() -> None:
    assert graph_error(502, "<html>bad gateway</html>").title == "HTTP 502"
    assert graph_error(500, {"error": "nope"}).code is None


def test_only_approved_templates_are_kept_and_the_cursor_follows_next() -> None:
    page = {
        "data": [
            {"name": "order_update", "language": "fr", "status": "APPROVED", "id": "1",
             "parameter_format": "POSITIONAL",
             "components": [{"type": "HEADER", "format": "IMAGE"},
                            {"type": "BODY", "text": "Bonjour {{1}}"},
                            {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Suivre",
                                                             "url": "https://x/{{1}}"}]}]},
            {"name": "old", "language": "fr", "status": "REJECTED", "id": "2"},
            {"status": "APPROVED", "id": "3"},
        ],
        "paging": {"cursors": {"after": "QVFI"}, "next": "https://graph/...?after=QVFI"},
    }  # fmt: skip
    [template] = approved_templates(page)
    assert template.name == "order_update" and template.parameter_format == "POSITIONAL"
    assert [s.type for s in template.sections] == ["HEADER", "BODY", "BUTTONS"]
    assert template.sections[0].format == "IMAGE"
    assert template.sections[2].buttons[0].url == "https://x/{{1}}"
    assert next_cursor(page) == "QVFI"
    assert next_cursor({"paging": {"cursors": {"after": "QVFI"}}}) is None


def test_a_copy_code_button_sends_its_code_as_a_coupon_code_parameter() -> None:
    button = TemplateComponent(
        type="button",
        sub_type="copy_code",
        index=0,
        parameters=[TemplateParameter(type="coupon_code", text="RAMADAN20")],
    )
    command = SendRequested(
        idempotency_key="k-1",
        conversation_key="ws:pn:212612345678",
        phone_number_id="pn",
        recipient=ContactIdentity(wa_id="212612345678"),
        content=TemplateContent(name="promo", language="fr", components=[button]),
    )
    [component] = send_body(command)["template"]["components"]
    assert component == {
        "type": "button",
        "sub_type": "copy_code",
        "index": "0",
        "parameters": [{"type": "coupon_code", "coupon_code": "RAMADAN20"}],
    }
