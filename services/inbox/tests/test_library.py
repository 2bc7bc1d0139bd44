"""The content library: files stored once, found by name, sent in one call through ingest."""

from datetime import timedelta
from typing import Any

import pytest

from inbox.library.model import media_ref

from .builders import now, random_ref
from .conftest import Service, a_conversation, token_for

PDF = b"%PDF-1.4 catalogue ete 2026" + bytes(range(256)) * 10


async def upload(
    service: Service, content: bytes, filename: str, mime: str, agent: str = "agent-1", **q: str
) -> Any:
    return await service.http.post(
        "/library",
        params={"filename": filename, **q},
        content=content,
        headers=service.headers(agent) | {"Content-Type": mime},
    )


async def send(
    service: Service,
    conversation: str,
    item_id: str,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> Any:
    return await service.http.post(
        f"/conversations/{conversation}/messages/library",
        json={"item_id": item_id, **body},
        headers=(headers or service.headers()) | {"Idempotency-Key": random_ref("click")},
    )


async def test_a_file_is_stored_once_with_its_name_kind_size_and_who_added_it(
    service: Service,
) -> None:
    added = await upload(service, PDF, "catalogue.pdf", "application/pdf", name="Catalogue été")
    assert added.status_code == 201, added.text
    item = added.json()
    assert (item["name"], item["kind"], item["size"]) == ("Catalogue été", "document", len(PDF))
    assert item["added_by"] == {"id": "agent-1", "name": "Agent agent-1"}
    again = await upload(service, PDF, "copie.pdf", "application/pdf", agent="agent-2")
    assert (again.status_code, again.json()["id"]) == (200, item["id"])
    file = await service.http.get(f"/library/{item['id']}/file", headers=service.headers())
    assert file.content == PDF and file.headers["content-type"] == "application/pdf"


async def test_the_library_is_listed_newest_first_searched_by_name_and_filtered_by_kind(
    service: Service,
) -> None:
    await upload(service, b"\xff\xd8 photo", "caftan.jpg", "image/jpeg", name="Caftan rouge")
    await upload(service, b"ID3 voice", "bienvenue.mp3", "audio/mpeg", name="Message d'accueil")
    await upload(service, PDF, "tarifs.pdf", "application/pdf", name="Tarifs Été")
    items = (await service.get("/library"))["items"]
    # Newest first; uploads within one millisecond share a time, and their order is not defined.
    assert sorted(items, key=lambda i: i["added_at"], reverse=True) == items
    assert {i["name"] for i in items} == {"Tarifs Été", "Message d'accueil", "Caftan rouge"}
    found = await service.get("/library", q="ete")
    assert [i["name"] for i in found["items"]] == ["Tarifs Été"]
    kinds = await service.get("/library", kind="image")
    assert [i["kind"] for i in kinds["items"]] == ["image"]
    page = await service.get("/library", limit=2)
    rest = await service.get("/library", limit=2, cursor=page["next_cursor"])
    assert [i["name"] for i in rest["items"]] == ["Caftan rouge"] and rest["next_cursor"] is None
    elsewhere = await service.http.get("/library", headers=token_for(random_ref("ws")))
    assert elsewhere.json()["items"] == []


async def test_a_library_file_is_sent_in_one_call_and_uploaded_to_meta_only_once(
    service: Service,
) -> None:
    conversation = await a_conversation(service)
    item = (await upload(service, PDF, "catalogue.pdf", "application/pdf")).json()
    # One token for both calls: tokens minted a second apart differ (iat).
    headers = service.headers()
    first = await send(service, conversation, item["id"], headers, caption="Voici le catalogue")
    assert first.status_code == 201, first.text
    assert first.json()["attachments"][0]["media_id"] == "meta-media-1"
    assert (await send(service, conversation, item["id"], headers)).status_code == 201
    [uploaded] = service.ingest.uploads
    assert uploaded["filename"] == "catalogue.pdf" and uploaded["size"] == len(PDF)
    assert uploaded["authorization"] == headers["Authorization"]
    commands = service.commands("whatsapp.message.send_requested")
    contents = [c["data"]["content"] for c in commands]
    assert [c["media_id"] for c in contents] == ["meta-media-1", "meta-media-1"]
    assert (
        contents[0]["filename"] == "catalogue.pdf"
        and contents[0]["caption"] == "Voici le catalogue"
    )


async def test_an_expired_media_id_is_uploaded_again(service: Service) -> None:
    conversation = await a_conversation(service)
    item = (await upload(service, b"\xff\xd8 photo", "caftan.jpg", "image/jpeg")).json()
    [row] = await service.conversations()
    stale = media_ref("meta-old", now() - timedelta(days=30))
    await service.store.library.remember_media(
        service.workspace, item["id"], row["phone_number_id"], stale
    )
    sent = await send(service, conversation, item["id"])
    assert sent.json()["attachments"][0]["media_id"] == "meta-media-1"
    assert len(service.ingest.uploads) == 1


async def test_the_same_click_sends_one_message_and_uploads_nothing_more(service: Service) -> None:
    conversation = await a_conversation(service)
    item = (await upload(service, PDF, "catalogue.pdf", "application/pdf")).json()
    headers = service.headers() | {"Idempotency-Key": "click-1"}
    path = f"/conversations/{conversation}/messages/library"
    first = await service.http.post(path, json={"item_id": item["id"]}, headers=headers)
    again = await service.http.post(path, json={"item_id": item["id"]}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert len(service.commands("whatsapp.message.send_requested")) == 1


async def test_a_closed_window_refuses_before_anything_is_uploaded(service: Service) -> None:
    conversation = await a_conversation(service, hours_ago=30)
    item = (await upload(service, PDF, "catalogue.pdf", "application/pdf")).json()
    refused = await send(service, conversation, item["id"])
    assert (refused.status_code, refused.json()["code"]) == (409, "window_closed")
    assert service.ingest.uploads == [] and service.commands() == []


async def test_a_refused_upload_sends_nothing(service: Service) -> None:
    conversation = await a_conversation(service)
    item = (await upload(service, PDF, "catalogue.pdf", "application/pdf")).json()
    service.ingest.failing = 404
    failed = await send(service, conversation, item["id"])
    assert (failed.status_code, failed.json()["code"]) == (502, "media_upload_failed")
    assert service.commands() == []


async def test_an_unknown_or_foreign_item_is_not_found(service: Service) -> None:
    conversation = await a_conversation(service)
    assert (await send(service, conversation, "nope")).status_code == 404
    item = (await upload(service, PDF, "catalogue.pdf", "application/pdf")).json()
    elsewhere = token_for(random_ref("ws"))
    assert (await service.http.get(f"/library/{item['id']}", headers=elsewhere)).status_code == 404


async def test_only_who_added_a_file_or_an_admin_removes_it(service: Service) -> None:
    item = (await upload(service, PDF, "catalogue.pdf", "application/pdf")).json()
    path = f"/library/{item['id']}"
    assert (await service.http.delete(path, headers=service.headers("agent-2"))).status_code == 403
    admin = service.headers("agent-9", role="admin")
    assert (await service.http.delete(path, headers=admin)).status_code == 204
    assert (await service.http.get(path, headers=service.headers())).status_code == 404


@pytest.mark.parametrize("service", [{"library_max_bytes": 10}], indirect=True)
async def test_an_empty_or_oversized_file_is_refused(service: Service) -> None:
    empty = await upload(service, b"", "vide.pdf", "application/pdf")
    assert (empty.status_code, empty.json()["code"]) == (422, "empty_file")
    big = await upload(service, PDF, "gros.pdf", "application/pdf")
    assert (big.status_code, big.json()["code"]) == (413, "payload_too_large")


@pytest.mark.parametrize(
    ("mime", "shown"),
    [("text/html", "attachment"), ("image/svg+xml", "attachment"), ("image/png", "inline")],
)
async def test_only_a_file_a_browser_cannot_run_is_served_inline(
    service: Service, mime: str, shown: str
) -> None:
    content = b"<svg onload=alert(1)><script>alert(2)</script></svg>" + random_ref("x").encode()
    item = (await upload(service, content, "offre.html", mime)).json()
    file = await service.http.get(f"/library/{item['id']}/file", headers=service.headers())
    assert file.headers["content-disposition"].split(";")[0] == shown
    assert file.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in file.headers["content-security-policy"]
