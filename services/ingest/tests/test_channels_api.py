"""The channels registry API: admin only, workspace-scoped, tokens write-only and never logged."""

import pytest

from hanout_shared.contracts import topics
from hanout_shared.platform.auth import mint_dev_token
from hanout_shared.platform.settings import DEV_JWT_SECRET

from .ingest_builders import PNID_2, example, random_ref
from .ingest_harness import running_ingest

TOKEN = "EAAG-super-secret-token-1234567890"


def auth(workspace_id: str, role: str = "admin") -> dict[str, str]:
    token = mint_dev_token(DEV_JWT_SECRET, agent_id="a-1", workspace_id=workspace_id, roles=[role])
    return {"Authorization": f"Bearer {token}"}


def new_channel(phone_number_id: str = PNID_2, **extra: object) -> dict[str, object]:
    return {
        "phone_number_id": phone_number_id,
        "meta_app_id": "test-app",
        "access_token": TOKEN,
        "display_phone_number": "212537000222",
        "waba_id": "104857361029455",
        "name": "Rabat shop",
        **extra,
    }


async def test_an_admin_registers_a_number_and_never_sees_its_token_again() -> None:
    async with running_ingest() as ingest:
        headers = auth(ingest.workspace_id)
        created = await ingest.client.post("/channels", json=new_channel(), headers=headers)
        assert created.status_code == 201
        assert created.json()["has_access_token"] is True
        listed = await ingest.client.get("/channels", headers=headers)
        one = await ingest.client.get(f"/channels/{PNID_2}", headers=headers)
        assert [c["phone_number_id"] for c in listed.json()] == ["110928374650192", PNID_2]
        assert one.json()["name"] == "Rabat shop"
        for response in (created, listed, one):
            assert TOKEN not in response.text
            assert '"access_token"' not in response.text
        stored = await ingest.store.channels.get(ingest.workspace_id, PNID_2)
        assert stored and stored.access_token.get_secret_value() == TOKEN


async def test_a_new_number_receives_webhooks_at_once() -> None:
    async with running_ingest() as ingest:
        body, signature = example("batch_multi_entry.json")
        await ingest.client.post("/channels", json=new_channel(), headers=auth(ingest.workspace_id))
        assert (await ingest.post_webhook(body, signature)).status_code == 200
        assert not ingest.captured.events(topics.WHATSAPP_DEADLETTER)


async def test_agents_cannot_manage_channels() -> None:
    async with running_ingest() as ingest:
        headers = auth(ingest.workspace_id, role="agent")
        response = await ingest.client.post("/channels", json=new_channel(), headers=headers)
        assert response.status_code == 403
        assert (await ingest.client.get("/channels", headers=headers)).status_code == 403
        assert (await ingest.client.get("/channels")).status_code == 401


async def test_another_workspaces_channel_is_404_and_its_number_cannot_be_taken() -> None:
    async with running_ingest() as ingest:
        theirs = auth(random_ref("ws"))
        number = "110928374650192"
        assert (await ingest.client.get(f"/channels/{number}", headers=theirs)).status_code == 404
        patch = await ingest.client.patch(f"/channels/{number}", json={"name": "x"}, headers=theirs)
        assert patch.status_code == 404
        assert (
            await ingest.client.delete(f"/channels/{number}", headers=theirs)
        ).status_code == 404
        assert (await ingest.client.get("/channels", headers=theirs)).json() == []
        taken = await ingest.client.post("/channels", json=new_channel(number), headers=theirs)
        assert taken.status_code == 409
        assert taken.json()["code"] == "channel_exists"


async def test_an_unknown_meta_app_or_a_bad_number_is_refused() -> None:
    async with running_ingest() as ingest:
        headers = auth(ingest.workspace_id)
        unknown = await ingest.client.post(
            "/channels", json=new_channel(meta_app_id="nope"), headers=headers
        )
        assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_meta_app"
        bad = await ingest.client.post("/channels", json=new_channel("+212 5"), headers=headers)
        assert bad.status_code == 422 and "phone_number_id" in bad.json()["message"]
        assert TOKEN not in unknown.text + bad.text


async def test_a_token_can_be_replaced_and_a_channel_disabled() -> None:
    async with running_ingest() as ingest:
        headers, number = auth(ingest.workspace_id), "110928374650192"
        patch = {"access_token": "EAAG-rotated", "display_phone_number": "212522000999"}
        updated = await ingest.client.patch(f"/channels/{number}", json=patch, headers=headers)
        assert updated.status_code == 200
        assert updated.json()["display_phone_number"] == "212522000999"
        assert "EAAG-rotated" not in updated.text
        stored = await ingest.store.channels.get(ingest.workspace_id, number)
        assert stored and stored.access_token.get_secret_value() == "EAAG-rotated"
        disabled = await ingest.client.delete(f"/channels/{number}", headers=headers)
        assert disabled.status_code == 204
        assert (await ingest.client.get(f"/channels/{number}", headers=headers)).json()[
            "enabled"
        ] is False
        await ingest.post_webhook(*example("msg_text.json"))
        [dead] = ingest.captured.events(topics.WHATSAPP_DEADLETTER)
        assert dead["data"]["reason"] == "channel_disabled"


async def test_tokens_and_secrets_never_reach_the_logs(capsys: pytest.CaptureFixture[str]) -> None:
    async with running_ingest(log_level="DEBUG") as ingest:
        headers = auth(ingest.workspace_id)
        await ingest.client.post("/channels", json=new_channel(), headers=headers)
        await ingest.client.post("/channels", json=new_channel(), headers=headers)
        await ingest.client.post("/channels", json={**new_channel(), "bogus": 1}, headers=headers)
        await ingest.client.patch(
            f"/channels/{PNID_2}", json={"access_token": TOKEN + "-2"}, headers=headers
        )
        await ingest.post_webhook(*example("msg_text.json"))
        await ingest.post_webhook(example("msg_text.json")[0], "sha256=" + "0" * 64)
    output = capsys.readouterr()
    logs = output.out + output.err
    assert logs, "the service logged nothing: this test would prove nothing"
    for secret in (TOKEN, "test_app_secret_do_not_use_in_prod", "verify-me"):
        assert secret not in logs


async def test_the_openapi_document_never_offers_the_token_in_a_response() -> None:
    async with running_ingest() as ingest:
        spec = (await ingest.client.get("/openapi.json")).json()
        view = spec["components"]["schemas"]["ChannelView"]
        assert "access_token" not in view["properties"]
        assert "has_access_token" in view["properties"]
