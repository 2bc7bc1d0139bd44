"""Pure outbound logic: Meta's errors, retry choice, backoff, pacing and template pages."""

from hanout_shared.contracts.whatsapp import MetaError
from ingest.model import (
    TokenBucket,
    approved_templates,
    backoff_s,
    graph_error,
    next_cursor,
    retryable,
)

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


def test_throughput_and_transient_errors_are_retryable_the_rest_is_not() -> None:
    for name, status in [("error_130429_throughput.json", 400),
                         ("error_131056_pair_rate_limit.json", 400),
                         ("error_80007_waba_rate_limit.json", 400),
                         ("error_131000_generic.json", 500)]:  # fmt: skip
        assert retryable(graph_error(status, graph_file("responses", name)), status), name
    for name in ["error_131047_reengagement.json", "error_131026_undeliverable.json",
                 "error_132000_template_param_count.json", "error_132001_template_not_found.json",
                 "error_100_invalid_parameter.json", "error_190_token_expired.json"]:  # fmt: skip
        assert not retryable(graph_error(400, graph_file("responses", name)), 400), name
    assert retryable(MetaError(title="HTTP 503"), 503)


def test_backoff_grows_exponentially_and_faster_for_the_pair_rate_limit() -> None:
    throughput, pair = MetaError(code=130429), MetaError(code=131056)
    assert [backoff_s(throughput, n, 1.0, 30.0) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert [backoff_s(pair, n, 1.0, 30.0) for n in (1, 2, 3, 4)] == [1.0, 4.0, 16.0, 30.0]


def test_the_token_bucket_allows_a_seconds_burst_then_paces() -> None:
    now = [0.0]
    bucket = TokenBucket(80.0, clock=lambda: now[0])
    delays = [bucket.delay() for _ in range(80)]
    assert delays == [0.0] * 80
    assert abs(bucket.delay() - 1 / 80) < 1e-9
    now[0] += 1.0
    assert bucket.delay() == 0.0


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


def test_the_token_is_only_sent_to_metas_media_hosts() -> None:
    from ingest.graph import GraphClient

    graph = GraphClient("https://graph.facebook.com", "v25.0")
    assert graph.allowed_media_host("https://lookaside.fbsbx.com/whatsapp_business/attachments/")
    assert graph.allowed_media_host("https://scontent.xx.fbcdn.net/v/t45/x.jpg")
    assert not graph.allowed_media_host("http://lookaside.fbsbx.com/x")
    assert not graph.allowed_media_host("https://fbsbx.com.evil.example/x")
    assert not graph.allowed_media_host("https://evil.example/?u=lookaside.fbsbx.com")


def test_a_copy_code_button_sends_its_code_as_a_coupon_code_parameter() -> None:
    from hanout_shared.contracts.whatsapp import ContactIdentity
    from hanout_shared.contracts.whatsapp.outbound import (
        SendRequested,
        TemplateComponent,
        TemplateContent,
        TemplateParameter,
    )
    from ingest.model import send_body

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
