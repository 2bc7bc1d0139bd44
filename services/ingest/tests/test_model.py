"""Pure rules of the way out: which of Meta's errors are retried, backoff, pacing, media hosts."""

from hanout_shared.contracts.whatsapp import MetaError
from ingest.graph import graph_error, retryable
from ingest.sending.model import TokenBucket, backoff_s

from .ingest_builders import graph_file


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


def test_the_token_is_only_sent_to_metas_media_hosts() -> None:
    from ingest.graph import GraphClient

    graph = GraphClient("https://graph.facebook.com", "v25.0")
    assert graph.allowed_media_host("https://lookaside.fbsbx.com/whatsapp_business/attachments/")
    assert graph.allowed_media_host("https://scontent.xx.fbcdn.net/v/t45/x.jpg")
    assert not graph.allowed_media_host("http://lookaside.fbsbx.com/x")
    assert not graph.allowed_media_host("https://fbsbx.com.evil.example/x")
    assert not graph.allowed_media_host("https://evil.example/?u=lookaside.fbsbx.com")
