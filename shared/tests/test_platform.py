"""The platform blocks: correlation ids, JSON logs, readiness, settings and the error shape."""

import json
import logging
from typing import Annotated

import anyio.to_thread
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from faststream.kafka import TestKafkaBroker
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from hanout_shared.platform.errors import install_error_handlers
from hanout_shared.platform.kafka import Context, KafkaMessage, make_broker
from hanout_shared.platform.logs import CorrelationMiddleware, JsonFormatter, correlation_id
from hanout_shared.platform.service import build_service
from hanout_shared.platform.settings import ServiceSettings


def an_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(CorrelationMiddleware)

    @app.get("/cid")
    async def cid() -> dict[str, str | None]:
        return {"cid": correlation_id.get()}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail that must not leak")

    return app


def test_a_given_correlation_id_is_used_and_echoed() -> None:
    response = TestClient(an_app()).get("/cid", headers={"X-Correlation-ID": "req-42"})
    assert response.json() == {"cid": "req-42"}
    assert response.headers["x-correlation-id"] == "req-42"


def test_a_missing_correlation_id_is_generated() -> None:
    response = TestClient(an_app()).get("/cid")
    generated = response.headers["x-correlation-id"]
    assert len(generated) == 36
    assert response.json() == {"cid": generated}


def test_an_unexpected_error_is_a_500_without_its_details() -> None:
    response = TestClient(an_app(), raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "code": "internal_error",
        "message": "Something went wrong on our side",
    }


def test_a_store_that_does_not_answer_is_a_503_to_retry_naming_no_host(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = an_app()
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1/", serverSelectionTimeoutMS=300, connect=False
    )

    @app.get("/cards")
    async def cards() -> None:
        await mongo.shop.cards.find_one({})

    with caplog.at_level(logging.WARNING, logger="hanout.errors"):
        response = TestClient(app).get("/cards")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["code"] == "store_unavailable"
    assert "127.0.0.1" not in response.text
    assert [getattr(r, "error", None) for r in caplog.records] == ["ServerSelectionTimeoutError"]


def test_every_operation_documents_the_store_outage() -> None:
    settings = ServiceSettings(kafka_bootstrap_servers="127.0.0.1:1")
    registry = CollectorRegistry()
    broker = make_broker(settings.kafka_bootstrap_servers, client_id="probe", registry=registry)
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(connect=False)
    router = APIRouter()

    @router.get("/cards")
    async def cards() -> None: ...

    app = build_service(
        name="probe", settings=settings, broker=broker, registry=registry, mongo=mongo,
        routers=[router],
    )  # fmt: skip
    answers = app.openapi()["paths"]["/cards"]["get"]["responses"]
    assert "store_unavailable" in answers["503"]["description"]


def test_log_lines_are_json_with_the_correlation_id() -> None:
    record = logging.LogRecord(
        "hanout.test", logging.INFO, __file__, 1, "order %s", ("#1042",), None
    )
    record.order_id = "o-1"
    token = correlation_id.set("req-7")
    try:
        line = json.loads(JsonFormatter("orders").format(record))
    finally:
        correlation_id.reset(token)
    assert line["message"] == "order #1042"
    assert line["correlation_id"] == "req-7"
    assert line["service"] == "orders"
    assert line["order_id"] == "o-1"


def test_readiness_is_503_naming_what_is_unreachable() -> None:
    settings = ServiceSettings(kafka_bootstrap_servers="127.0.0.1:1")
    registry = CollectorRegistry()
    broker = make_broker(settings.kafka_bootstrap_servers, client_id="probe", registry=registry)
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1/", serverSelectionTimeoutMS=500, connect=False
    )
    app = build_service(
        name="probe", settings=settings, broker=broker, registry=registry, mongo=mongo
    )
    client = TestClient(app)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"kafka": "failing", "store": "failing"}
    assert client.get("/healthz").status_code == 200


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="AUTH_JWT_SECRET"):
        ServiceSettings(environment="production")
    ServiceSettings(environment="production", jwt_secret="x" * 40)
    ServiceSettings(environment="production", jwks_url="https://idp.example/jwks.json")


def test_settings_are_read_from_the_shared_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("MONGODB_URL", "mongodb://db-1,db-2/?replicaSet=rs0")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    settings = ServiceSettings()
    assert settings.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.mongodb_url == "mongodb://db-1,db-2/?replicaSet=rs0"
    assert settings.log_level == "DEBUG"


async def test_a_context_parameter_is_resolved_without_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_thread(*_: object, **__: object) -> None:
        raise AssertionError("a context parameter was resolved in a worker thread")

    monkeypatch.setattr(anyio.to_thread, "run_sync", no_thread)
    broker = make_broker("localhost:9092", client_id="test", registry=CollectorRegistry())
    broker.context.set_global("store", "the store")
    seen: list[tuple[bytes, str]] = []

    @broker.subscriber("test.topic")
    async def on_event(message: KafkaMessage, store: Annotated[str, Context("store")]) -> None:
        seen.append((message.body, store))

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"{}", "test.topic")
    assert seen == [(b"{}", "the store")]
