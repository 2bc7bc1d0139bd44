"""Template sync (all pages, approved only), media upload and the download proxy, pacing."""

import time

from hanout_shared.contracts import topics

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
