"""The platform's request body limit: 413 body_too_large on JSON bodies, documented, and
undecodable JSON answered like any other broken JSON."""

import json

from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from pymongo import AsyncMongoClient

from hanout_shared.platform.kafka import make_broker
from hanout_shared.platform.service import build_service
from hanout_shared.platform.settings import ServiceSettings

LIMIT = 1024


class Note(BaseModel):
    text: str


def a_service() -> FastAPI:
    router = APIRouter()

    @router.post("/notes")
    async def add_note(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    @router.post("/uploads")
    async def upload(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    settings = ServiceSettings(max_request_body_bytes=LIMIT)
    registry = CollectorRegistry()
    broker = make_broker(settings.kafka_bootstrap_servers, client_id="probe", registry=registry)
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1/", serverSelectionTimeoutMS=500, connect=False
    )
    return build_service(
        name="probe",
        settings=settings,
        broker=broker,
        registry=registry,
        mongo=mongo,
        routers=[router],
    )


def test_a_json_body_over_the_limit_is_413_body_too_large_declared_or_streamed() -> None:
    client = TestClient(a_service())
    big = json.dumps({"text": "x" * LIMIT}).encode()
    declared = client.post("/notes", content=big, headers={"Content-Type": "application/json"})
    assert (declared.status_code, declared.json()["code"]) == (413, "body_too_large")
    chunks = iter([big[:600], big[600:]])
    streamed = client.post("/notes", content=chunks, headers={"Content-Type": "application/json"})
    assert (streamed.status_code, streamed.json()["code"]) == (413, "body_too_large")
    small = client.post("/notes", json={"text": "x" * 100})
    assert small.json() == {"length": 100}


def test_a_route_reading_its_own_body_keeps_its_own_limit() -> None:
    client = TestClient(a_service())
    answer = client.post("/uploads", content=b"x" * (LIMIT * 4))
    assert answer.json() == {"size": LIMIT * 4}


def test_the_413_is_documented_on_operations_that_take_json() -> None:
    paths = a_service().openapi()["paths"]
    assert "413" in paths["/notes"]["post"]["responses"]
    assert "413" not in paths["/uploads"]["post"]["responses"]


def test_a_json_body_that_is_not_text_is_a_422_like_other_broken_json() -> None:
    client = TestClient(a_service())
    headers = {"Content-Type": "application/json"}
    for body in (b"\xff\xfe{", b"{broken"):
        answer = client.post("/notes", content=body, headers=headers)
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_failed")
