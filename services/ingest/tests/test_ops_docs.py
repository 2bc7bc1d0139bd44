"""Operations endpoints and the published API documents of ingest."""

from .ingest_harness import running_ingest


async def test_health_metrics_and_both_api_documents_answer() -> None:
    async with running_ingest() as ingest:
        assert (await ingest.client.get("/healthz")).json()["status"] == "ok"
        metrics = (await ingest.client.get("/metrics")).text
        assert "ingest_webhooks_total" in metrics
        spec = (await ingest.client.get("/asyncapi.json")).json()
        channels = str(spec["channels"])
        for topic in ("whatsapp.outbound.v1", "whatsapp.inbound.v1", "whatsapp.webhooks.raw.v1"):
            assert topic in channels
        openapi = (await ingest.client.get("/openapi.json")).json()
        receive = openapi["paths"]["/webhooks/whatsapp"]["post"]
        assert {"200", "400", "401", "413", "503"} <= set(receive["responses"])
        assert "/channels/{phone_number_id}/media/{media_id}" in openapi["paths"]
