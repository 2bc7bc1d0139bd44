"""The inbox's HTTP API with a fake store (no lifespan, so nothing connects)."""

from fastapi.testclient import TestClient

from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET
from inbox.app import create_app
from inbox.settings import InboxSettings

from .builders import a_message_received, random_ref
from .fakes import FakeStore


def a_client(store: FakeStore) -> TestClient:
    return TestClient(create_app(InboxSettings(), store=store))  # type: ignore[arg-type]


def token_for(workspace_id: str) -> dict[str, str]:
    token = mint_dev_token(DEV_JWT_SECRET, agent_id="agent-1", workspace_id=workspace_id)
    return {"Authorization": f"Bearer {token}"}


async def test_conversations_are_listed_only_for_the_callers_workspace() -> None:
    store, mine, theirs = FakeStore(), random_ref("ws"), random_ref("ws")
    for ws in (mine, theirs):
        event = a_message_received(workspace_id=ws)
        await store.record_inbound(
            conversation_id=event.data.conversation_key,
            workspace_id=ws,
            phone_number_id="110928374650192",
            contact_id="212612345678",
            display_name="Karim",
            wamid=event.data.wamid,
            preview="hi",
            sent_at=event.data.sent_at,
        )
    response = a_client(store).get("/conversations", headers=token_for(mine))
    assert response.status_code == 200
    assert [row["workspace_id"] for row in response.json()] == [mine]


def test_listing_without_a_token_is_401() -> None:
    response = a_client(FakeStore()).get("/conversations")
    assert response.status_code == 401
    assert response.json()["code"] == "missing_token"


def test_a_bad_limit_is_422_naming_the_field() -> None:
    response = a_client(FakeStore()).get("/conversations?limit=0", headers=token_for("ws"))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert "limit" in body["message"]


def test_health_and_docs_need_no_token() -> None:
    client = a_client(FakeStore())
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/openapi.json").status_code == 200
    spec = client.get("/asyncapi.json").json()
    assert "whatsapp.inbound.v1" in str(spec["channels"])
    assert client.get("/metrics").status_code == 200
