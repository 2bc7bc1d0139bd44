"""Kafka stops mid-test: ingest answers 503 at once, and once Kafka is back the retried webhooks
land. This test runs its OWN broker (its subject is stopping one); never the shared one."""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from devtools.kafka import KafkaServer
from hanout_shared.contracts import topics

from .ingest_builders import PNID, WABA, example, sign
from .ingest_processes import admin_headers, start_pair

pytestmark = pytest.mark.integration


@pytest.fixture
def private_kafka() -> Iterator[KafkaServer]:
    server = KafkaServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


def post(url: str, body: bytes) -> httpx.Response:
    headers = {"X-Hub-Signature-256": sign(body), "Content-Type": "application/json"}
    return httpx.post(f"{url}/webhooks/whatsapp", content=body, headers=headers, timeout=30)


def a_text(marker: str) -> bytes:
    return example("msg_text.json")[0].replace(b"wamid.HBgM", f"wamid.{marker}".encode(), 1)


async def raw_bodies(bootstrap_servers: str) -> set[bytes]:
    consumer = AIOKafkaConsumer(
        topics.WEBHOOKS_RAW, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=5000)
        return {record.value for records in batch.values() for record in records}
    finally:
        await consumer.stop()


async def test_a_kafka_outage_answers_503_and_the_retried_webhooks_land(
    private_kafka: KafkaServer, mongodb_url: str, tmp_path: Path
) -> None:
    ingest, simulator = start_pair(
        private_kafka.bootstrap_servers, mongodb_url, tmp_path,
        INGEST_KAFKA_ACK_TIMEOUT_S="1.0", INGEST_KAFKA_REQUEST_TIMEOUT_MS="2000",
    )  # fmt: skip
    try:
        workspace = f"ws-{uuid.uuid4().hex[:8]}"
        channel = {"phone_number_id": PNID, "meta_app_id": "test-app", "waba_id": WABA,
                   "access_token": "EAAG-outage"}  # fmt: skip
        headers = admin_headers(workspace)
        created = httpx.post(f"{ingest.url}/channels", json=channel, headers=headers)
        assert created.status_code == 201
        before, during, from_meta = a_text("before"), a_text("during"), a_text("simulated")
        assert post(ingest.url, before).status_code == 200

        private_kafka.stop()
        started = time.monotonic()
        refused = post(ingest.url, during)
        assert refused.status_code == 503
        assert refused.json()["code"] == "kafka_unavailable"
        assert time.monotonic() - started < 5.0
        httpx.post(f"{simulator.url}/_sim/webhooks", content=from_meta)

        private_kafka.start()
        deadline = time.monotonic() + 60
        while (status := post(ingest.url, during).status_code) != 200:
            assert time.monotonic() < deadline, f"still {status} a minute after Kafka came back"
            time.sleep(0.5)
        deadline = time.monotonic() + 60
        while not {before, during, from_meta} <= await raw_bodies(private_kafka.bootstrap_servers):
            assert time.monotonic() < deadline, "a body acknowledged or retried never landed"
            time.sleep(0.5)
        deliveries = f"{simulator.url}/_sim/deliveries"
        while not (delivery := httpx.get(deliveries).json()[0])["delivered"]:
            assert time.monotonic() < deadline, f"the simulator never got a 200: {delivery}"
            time.sleep(0.2)
        assert 503 in delivery["statuses"] and delivery["statuses"][-1] == 200
    finally:
        ingest.stop()
        simulator.stop()
