"""The conversation list, read state and channels over HTTP, with a fake store (no lifespan)."""

from datetime import timedelta

from hanout_shared.contracts import topics

from .builders import (
    PHONE_NUMBER_ID,
    a_message_received,
    a_template,
    now,
    random_ref,
    templates_synced,
)
from .conftest import Service, token_for

OTHER_NUMBER = "220011223344556"


async def seed(service: Service) -> dict[str, str]:
    """Four contacts on two numbers, oldest first; returns their conversation ids by name."""
    ws, at = service.workspace, now()
    people = [
        ("Fatima Zahra", "212612345678", PHONE_NUMBER_ID),
        ("Youssef", "212698765432", PHONE_NUMBER_ID),
        ("Zineb", "212661112233", OTHER_NUMBER),
        ("Hicham", "33698000111", OTHER_NUMBER),
    ]
    for i, (name, wa_id, pnid) in enumerate(people):
        sent_at = at - timedelta(minutes=10 - i)
        await service.receive(
            a_message_received(
                workspace_id=ws,
                wa_id=wa_id,
                profile_name=name,
                phone_number_id=pnid,
                sent_at=sent_at,
            )
        )
    return {row["display_name"]: row["id"] for row in await service.conversations()}


async def names(service: Service, **params: str) -> list[str]:
    return [row["display_name"] for row in await service.conversations(**params)]


async def test_the_list_is_sorted_by_last_activity_and_a_new_message_moves_to_the_top(
    service: Service,
) -> None:
    await seed(service)
    assert await names(service) == ["Hicham", "Zineb", "Youssef", "Fatima Zahra"]
    await service.receive(
        a_message_received(workspace_id=service.workspace, profile_name="Fatima Zahra")
    )
    assert (await names(service))[0] == "Fatima Zahra"


async def test_filters_and_the_number_selector_return_exactly_the_right_rows(
    service: Service,
) -> None:
    ids = await seed(service)
    await service.http.post(f"/conversations/{ids['Youssef']}/read", headers=service.headers())
    await service.send(ids["Zineb"], {"kind": "text", "body": "Wa alaykum salam"})
    assert await names(service) == ["Zineb", "Hicham", "Youssef", "Fatima Zahra"]
    assert await names(service, filter="unread") == ["Zineb", "Hicham", "Fatima Zahra"]
    assert await names(service, filter="no_reply") == ["Hicham", "Youssef", "Fatima Zahra"]
    assert await names(service, filter="mine") == []
    assert await names(service, phone_number_id=OTHER_NUMBER) == ["Zineb", "Hicham"]
    assert await names(service, phone_number_id=PHONE_NUMBER_ID) == ["Youssef", "Fatima Zahra"]
    assert await names(service, phone_number_id=OTHER_NUMBER, filter="no_reply") == ["Hicham"]
    counts = await service.get("/conversations/counts")
    assert counts == {"all": 4, "unread": 3, "mine": 0, "no_reply": 3}
    assert await service.get("/conversations/counts", phone_number_id=PHONE_NUMBER_ID) == {
        "all": 2,
        "unread": 1,
        "mine": 0,
        "no_reply": 2,
    }


async def test_search_finds_names_and_numbers_in_any_format(service: Service) -> None:
    await seed(service)
    for query, expected in [
        ("fatima", ["Fatima Zahra"]),
        ("ZAHRA", ["Fatima Zahra"]),
        ("0612345678", ["Fatima Zahra"]),
        ("06 12 34", ["Fatima Zahra"]),
        ("+212 6 98 76", ["Youssef"]),
        ("00212661112233", ["Zineb"]),
        ("212-661", ["Zineb"]),
        ("+33 6 98 00 01 11", ["Hicham"]),
        ("0698", ["Hicham", "Youssef"]),
        ("nobody", []),
    ]:
        assert await names(service, q=query) == expected, query


async def test_pages_follow_the_cursor_without_gaps_or_repeats(service: Service) -> None:
    await seed(service)
    seen, cursor = [], None
    while True:
        params = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        page = await service.get("/conversations", **params)
        seen += [row["display_name"] for row in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == ["Hicham", "Zineb", "Youssef", "Fatima Zahra"]


async def test_a_broken_cursor_or_limit_is_422_naming_it(service: Service) -> None:
    headers = service.headers()
    cursor = await service.http.get("/conversations?cursor=bm9wZQ", headers=headers)
    assert (cursor.status_code, cursor.json()["code"]) == (422, "invalid_cursor")
    limit = await service.http.get("/conversations?limit=0", headers=headers)
    assert (limit.status_code, limit.json()["code"]) == (422, "validation_failed")
    assert "limit" in limit.json()["message"]


async def test_reading_resets_the_badge_for_the_team_without_telling_meta_by_default(
    service: Service,
) -> None:
    ids = await seed(service)
    response = await service.http.post(
        f"/conversations/{ids['Zineb']}/read", headers=service.headers()
    )
    assert response.json()["unread_count"] == 0
    assert response.json()["last_read_by"] == {"id": "agent-1", "name": "Agent agent-1"}
    [read] = service.events("inbox.conversation.read")
    # published from the outbox: an unset field is null on the wire (the relay keeps nested nulls)
    assert read["data"]["unread_before"] == 1 and "receipt_wamid" not in read["data"]
    assert service.commands() == []


async def test_a_number_set_to_send_read_receipts_tells_meta_once(service: Service) -> None:
    ids = await seed(service)
    admin = service.headers(role="admin")
    settings = await service.http.put(
        f"/channels/{PHONE_NUMBER_ID}/settings", json={"read_receipts": True}, headers=admin
    )
    assert settings.json()["read_receipts"] is True
    url = f"/conversations/{ids['Youssef']}/read"
    await service.http.post(url, headers=service.headers())
    await service.http.post(url, headers=service.headers())
    [receipt] = service.commands("whatsapp.message.mark_read")
    conversation = await service.get(f"/conversations/{ids['Youssef']}")
    assert receipt["data"]["wamid"] == conversation["last_inbound_wamid"]
    refused = await service.http.put(
        f"/channels/{PHONE_NUMBER_ID}/settings",
        json={"read_receipts": False},
        headers=service.headers(),
    )
    assert refused.status_code == 403


async def test_channels_and_their_templates_are_listed(service: Service) -> None:
    await seed(service)
    await service.deliver(
        topics.WHATSAPP_TEMPLATES, templates_synced(service.workspace, a_template())
    )
    channels = await service.get("/channels")
    assert [c["phone_number_id"] for c in channels] == sorted([PHONE_NUMBER_ID, OTHER_NUMBER])
    listed = await service.get(f"/channels/{PHONE_NUMBER_ID}/templates")
    [tpl] = listed["templates"]
    assert (tpl["name"], tpl["header_format"]) == ("order_confirmation", "IMAGE")
    assert [(s["component"], s["names"]) for s in tpl["slots"]] == [
        ("header", ["1"]),
        ("body", ["1", "2"]),
    ]
    sync = await service.http.post(
        f"/channels/{PHONE_NUMBER_ID}/templates/sync", headers=service.headers(role="admin")
    )
    assert sync.status_code == 202
    [command] = service.commands("whatsapp.templates.sync_requested")
    assert command["data"] == {"phone_number_id": PHONE_NUMBER_ID, "reason": "on_demand"}


async def test_another_workspace_sees_nothing_and_gets_404(service: Service) -> None:
    ids = await seed(service)
    other = token_for(random_ref("ws"))
    listed = await service.http.get("/conversations", headers=other)
    assert listed.json() == {"items": [], "next_cursor": None}
    for path in (
        f"/conversations/{ids['Zineb']}",
        f"/conversations/{ids['Zineb']}/messages",
        f"/channels/{PHONE_NUMBER_ID}/templates",
    ):
        assert (await service.http.get(path, headers=other)).status_code == 404
    assert (
        await service.http.post(f"/conversations/{ids['Zineb']}/read", headers=other)
    ).status_code == 404


async def test_listing_without_a_token_is_401(service: Service) -> None:
    response = await service.http.get("/conversations")
    assert (response.status_code, response.json()["code"]) == (401, "missing_token")


async def test_health_and_docs_need_no_token(service: Service) -> None:
    assert (await service.http.get("/healthz")).json()["status"] == "ok"
    spec = (await service.http.get("/openapi.json")).json()
    assert "/conversations/{conversation_id}/messages" in spec["paths"]
    channels = str((await service.http.get("/asyncapi.json")).json()["channels"])
    for topic in (
        "whatsapp.inbound.v1",
        "whatsapp.status.v1",
        "inbox.events.v1",
        "whatsapp.outbound.v1",
    ):
        assert topic in channels


async def test_an_admin_recounts_the_counts_and_an_agent_may_not(service: Service) -> None:
    await seed(service)
    path = "/conversations/counts/recount"
    refused = await service.http.post(path, headers=service.headers())
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    admin = token_for(service.workspace, role="admin")
    answer = await service.http.post(path, headers=admin)
    assert answer.status_code == 200
    assert answer.json() == {"all": 4, "unread": 4, "mine": 0, "no_reply": 4}
