"""Template sync (all pages, approved only), media upload and the download proxy, pacing."""

import time
from typing import Any

import pytest

from hanout_shared.contracts import topics
from ingest.graph import InvalidGraphId, node

from .ingest_builders import PNID, PNID_2, a_channel, a_send, random_ref
from .ingest_harness import running_ingest
from .test_channels_api import auth


async def test_an_on_demand_sync_publishes_every_approved_template_of_every_page() -> None:
    async with running_ingest() as ingest:
        response = await ingest.client.post(
            f"/channels/{PNID}/templates/sync", headers=auth(ingest.workspace_id, "agent")
        )
        assert response.status_code == 403
        response = await ingest.client.post(
            f"/channels/{PNID}/templates/sync", headers=auth(ingest.workspace_id)
        )
        assert response.status_code == 200
        assert response.json()["names"] == ["delivery_scheduled", "hello_world", "order_update"]
        assert len(await ingest.graph_requests("templates")) == 2  # two pages of two
        [message] = ingest.captured.messages[topics.WHATSAPP_TEMPLATES]
        assert message.raw_message.key == PNID.encode()
        synced = ingest.captured.events(topics.WHATSAPP_TEMPLATES)[0]
        assert synced["data"]["reason"] == "on_demand"
        assert {t["status"] for t in synced["data"]["templates"]} == {"APPROVED"}


async def test_a_sync_refused_by_meta_is_a_502_naming_the_code() -> None:
    async with running_ingest() as ingest:
        await ingest.sim.post("/_sim/failures", json={"endpoint": "templates", "code": 190})
        response = await ingest.client.post(
            f"/channels/{PNID}/templates/sync", headers=auth(ingest.workspace_id)
        )
        assert response.status_code == 502
        assert response.json()["details"][0]["code"] == 190
        other = await ingest.client.post(
            f"/channels/{PNID}/templates/sync", headers=auth(random_ref("ws"))
        )
        assert other.status_code == 404


async def test_a_file_uploaded_by_an_agent_comes_back_through_the_proxy() -> None:
    async with running_ingest() as ingest:
        headers = {**auth(ingest.workspace_id, "agent"), "Content-Type": "image/jpeg"}
        photo = b"\xff\xd8\xff\xe0 a small jpeg " * 100
        uploaded = await ingest.client.post(
            f"/channels/{PNID}/media", params={"filename": "djellaba.jpg"}, content=photo,
            headers=headers,
        )  # fmt: skip
        assert uploaded.status_code == 201
        media_id = uploaded.json()["media_id"]
        [request] = await ingest.graph_requests("media")
        assert request["body"] == {"messaging_product": "whatsapp", "type": "image/jpeg"}
        downloaded = await ingest.client.get(
            f"/channels/{PNID}/media/{media_id}", headers=auth(ingest.workspace_id, "agent")
        )
        assert downloaded.status_code == 200
        assert downloaded.content == photo
        assert downloaded.headers["content-type"] == "image/jpeg"
        assert "EAAG-test-token" not in str(downloaded.headers)


async def test_a_stale_download_url_is_resolved_once_more() -> None:
    async with running_ingest() as ingest:
        headers = {**auth(ingest.workspace_id, "agent"), "Content-Type": "application/pdf"}
        uploaded = await ingest.client.post(
            f"/channels/{PNID}/media", params={"filename": "bon.pdf"}, content=b"%PDF-1.7",
            headers=headers,
        )  # fmt: skip
        media_id = uploaded.json()["media_id"]
        await ingest.sim.post("/_sim/failures", json={"endpoint": "lookaside", "status": 404})
        downloaded = await ingest.client.get(
            f"/channels/{PNID}/media/{media_id}", headers=auth(ingest.workspace_id, "agent")
        )
        assert downloaded.status_code == 200 and downloaded.content == b"%PDF-1.7"
        assert len(await ingest.graph_requests("media_info")) == 2


async def test_media_is_only_served_to_the_channels_workspace_and_unknown_ids_are_404() -> None:
    async with running_ingest() as ingest:
        stranger = auth(random_ref("ws"), "agent")
        response = await ingest.client.get(f"/channels/{PNID}/media/123", headers=stranger)
        assert response.status_code == 404
        assert (await ingest.client.get(f"/channels/{PNID}/media/123")).status_code == 401
        mine = auth(ingest.workspace_id, "agent")
        missing = await ingest.client.get(f"/channels/{PNID}/media/404404", headers=mine)
        assert missing.status_code == 404 and missing.json()["code"] == "media_not_found"


async def test_media_uploaded_on_one_number_is_not_served_through_another() -> None:
    async with running_ingest() as ingest:
        intruder = random_ref("ws")
        await ingest.store.channels.add(a_channel(intruder, PNID_2, token="EAAG-other"))
        headers = {**auth(ingest.workspace_id, "agent"), "Content-Type": "application/pdf"}
        uploaded = await ingest.client.post(
            f"/channels/{PNID}/media", params={"filename": "facture.pdf"}, content=b"%PDF-1.7",
            headers=headers,
        )  # fmt: skip
        media_id = uploaded.json()["media_id"]
        other = auth(intruder, "admin")
        answer = await ingest.client.get(f"/channels/{PNID_2}/media/{media_id}", headers=other)
        assert answer.status_code == 404 and b"PDF" not in answer.content


async def test_sends_on_one_number_are_paced_to_the_configured_rate() -> None:
    async with running_ingest(rate_limit_per_second=20.0) as ingest:
        started = time.monotonic()
        for _ in range(25):
            await ingest.command(a_send(ingest.workspace_id, {"kind": "text", "body": "x"}))
        elapsed = time.monotonic() - started
        assert len(await ingest.graph_requests("messages")) == 25
        assert elapsed >= 0.2  # a one-second burst of 20, then 5 more at 20/s


STEERING_IDS = ["me%3Ffields=id,name", "123%3Fphone_number_id=999%26x=1", "me", "1%23x", "-1"]


@pytest.mark.parametrize("media_id", STEERING_IDS)
async def test_a_media_id_that_is_not_digits_is_refused_before_any_graph_call(
    media_id: str,
) -> None:
    async with running_ingest() as ingest:
        mine = auth(ingest.workspace_id, "agent")
        answer = await ingest.client.get(f"/channels/{PNID}/media/{media_id}", headers=mine)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "validation_failed"
        assert await ingest.graph_requests() == []


async def test_a_number_that_is_not_digits_is_refused_on_every_channel_route() -> None:
    async with running_ingest() as ingest:
        admin = auth(ingest.workspace_id)
        for method, path in [
            ("GET", "/channels/me%3Ffields=id"),
            ("POST", "/channels/me%3Ffields=id/templates/sync"),
            ("GET", "/channels/me%3Ffields=id/media/123"),
        ]:
            answer = await ingest.client.request(method, path, headers=admin)
            assert answer.status_code == 422, f"{method} {path}: {answer.text}"
        assert await ingest.graph_requests() == []


@pytest.mark.parametrize("value", ["me", "1/me", "1?x=1", "1#x", "", "１２", "1" * 33])
def test_a_graph_node_is_only_ever_digits(value: str) -> None:
    with pytest.raises(InvalidGraphId):
        node(value)
    assert node("100000000000001") == "100000000000001"


async def _served(ingest: Any, mime: str, content: bytes) -> Any:
    headers = {**auth(ingest.workspace_id, "agent"), "Content-Type": mime}
    uploaded = await ingest.client.post(
        f"/channels/{PNID}/media", params={"filename": "f"}, content=content, headers=headers
    )
    media_id = uploaded.json()["media_id"]
    mine = auth(ingest.workspace_id, "agent")
    return await ingest.client.get(f"/channels/{PNID}/media/{media_id}", headers=mine)


@pytest.mark.parametrize(
    "mime", ["text/html", "image/svg+xml", "application/xhtml+xml", "application/pdf", "text/xml"]
)
async def test_a_file_a_browser_could_run_is_served_as_a_sandboxed_attachment(mime: str) -> None:
    async with running_ingest() as ingest:
        served = await _served(ingest, mime, b"<script>alert(document.cookie)</script>")
        assert served.status_code == 200
        assert served.headers["content-disposition"].startswith("attachment")
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in served.headers["content-security-policy"]


async def test_a_photo_is_served_inline_without_sniffing() -> None:
    async with running_ingest() as ingest:
        served = await _served(ingest, "image/jpeg", b"\xff\xd8\xff\xe0 jpeg")
        assert served.headers["content-disposition"] == "inline"
        assert served.headers["x-content-type-options"] == "nosniff"
