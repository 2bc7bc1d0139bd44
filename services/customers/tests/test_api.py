"""The customer card API with a fake store and the in-memory broker."""

from typing import Any

from customers.matching.contacts import phone_number_id_of

from .builders import token_for
from .conftest import Service


async def create(service: Service, **card: Any) -> dict[str, Any]:
    response = await service.http.post("/customers", json=card, headers=service.headers())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_created_card_is_read_back_with_empty_stats_and_announced(service: Service) -> None:
    card = await create(service, name="Karim Alaoui", phones=["06 12 34 56 78"], city="Fès")
    response = await service.http.get(
        f"/customers/{card['customer_id']}", headers=service.headers()
    )
    body = response.json()
    assert body["phones"] == [{"e164": "+212612345678", "raw": "06 12 34 56 78"}]
    assert body["stats"] == {
        "orders_count": 0,
        "not_spent_count": 0,
        "total_spent": "0",
        "currency": "MAD",
        "last_order_at": None,
    }
    assert body["created_by"] == "agent-1"
    [event] = service.published("customers.customer.created")
    assert event["data"]["customer"]["customer_id"] == card["customer_id"]
    assert event["actorid"] == "agent-1"


async def test_an_invalid_phone_is_refused_with_422_invalid_phone(service: Service) -> None:
    response = await service.http.post(
        "/customers", json={"name": "X", "phones": ["06 12"]}, headers=service.headers()
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_phone"
    assert body["details"][0]["field"] == "phones.0"
    assert await service.store.customers.find_by_keys(service.workspace, ["tel:+21206"]) == []


async def test_another_workspaces_card_answers_404(service: Service) -> None:
    card = await create(service, name="Karim")
    response = await service.http.get(
        f"/customers/{card['customer_id']}", headers=token_for("someone-else")
    )
    assert response.status_code == 404


async def test_lookup_finds_a_card_from_any_format_of_its_number(service: Service) -> None:
    card = await create(service, name="Karim", phones=["+212 6 12 34 56 78"])
    for typed in ("0612345678", "00212612345678", "06.12.34.56.78"):
        response = await service.http.get(
            "/customers/lookup", params={"phone": typed}, headers=service.headers()
        )
        body = response.json()
        assert body["outcome"] == "known", typed
        assert body["customer"]["customer_id"] == card["customer_id"]


async def test_lookup_of_a_foreign_number_does_not_find_the_moroccan_card(service: Service) -> None:
    await create(service, name="Karim", phones=["06 12 34 56 78"])
    response = await service.http.get(
        "/customers/lookup", params={"phone": "+33 6 12 34 56 78"}, headers=service.headers()
    )
    assert response.json()["outcome"] == "unknown"
    assert response.json()["contact"]["phone_e164"] == "+33612345678"


async def test_a_customers_whatsapp_number_in_a_range_not_listed_yet_is_taken(
    service: Service,
) -> None:
    """libphonenumber's metadata has no +212 686 range: the panel offers the number the
    customer wrote from, and the card must take it."""
    response = await service.http.post(
        "/customers", json={"name": "Amal", "phones": ["+212686353334"]}, headers=service.headers()
    )
    assert response.status_code == 201, response.text
    assert response.json()["phones"][0]["e164"] == "+212686353334"


async def test_lookup_of_garbage_is_422_invalid_phone(service: Service) -> None:
    response = await service.http.get(
        "/customers/lookup", params={"phone": "06 12"}, headers=service.headers()
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_phone")
    response = await service.http.get("/customers/lookup", headers=service.headers())
    assert (response.status_code, response.json()["code"]) == (422, "missing_identity")


async def test_search_by_fragment_name_and_full_number(service: Service) -> None:
    karim = await create(service, name="Karim Alaoui", phones=["0612345678"])
    await create(service, name="Hélène Martin", phones=["+33 6 12 34 56 78"])

    async def search(q: str) -> list[str]:
        response = await service.http.get("/customers", params={"q": q}, headers=service.headers())
        return sorted(c["name"] for c in response.json()["items"])

    assert await search("345678") == ["Hélène Martin", "Karim Alaoui"]
    assert await search("06 12 34 56 78") == ["Karim Alaoui"]
    assert await search("helene") == ["Hélène Martin"]
    assert await search("ala kar") == ["Karim Alaoui"]
    assert await search("zz") == []
    assert karim["customer_id"]


async def test_the_list_pages_newest_first_and_hides_archived_cards(service: Service) -> None:
    ids = [(await create(service, name=f"C{i}"))["customer_id"] for i in range(5)]
    await service.http.patch(
        f"/customers/{ids[0]}", json={"archived": True}, headers=service.headers()
    )
    first = (await service.http.get("/customers?limit=2", headers=service.headers())).json()
    assert [c["customer_id"] for c in first["items"]] == [ids[4], ids[3]]
    second = (
        await service.http.get(
            f"/customers?limit=2&cursor={first['next_cursor']}", headers=service.headers()
        )
    ).json()
    assert [c["customer_id"] for c in second["items"]] == [ids[2], ids[1]]
    assert second["next_cursor"] is None
    archived = (
        await service.http.get("/customers?archived=true", headers=service.headers())
    ).json()
    assert [c["customer_id"] for c in archived["items"]] == [ids[0]]


async def test_an_update_publishes_the_changed_fields_and_a_stale_version_is_409(
    service: Service,
) -> None:
    card = await create(service, name="Karim")
    url = f"/customers/{card['customer_id']}"
    response = await service.http.patch(
        url, json={"city": "Rabat", "version": 1}, headers=service.headers()
    )
    assert response.json()["version"] == 2
    [event] = service.published("customers.customer.updated")
    assert event["data"]["changed_fields"] == ["city"]
    stale = await service.http.patch(
        url, json={"city": "Fès", "version": 1}, headers=service.headers()
    )
    assert (stale.status_code, stale.json()["code"]) == (409, "version_conflict")


async def test_only_admins_change_the_status_list_and_region(service: Service) -> None:
    body = {"statuses": ["VIP", "fraud"], "default_region": "fr"}
    denied = await service.http.put("/customers/settings", json=body, headers=service.headers())
    assert denied.status_code == 403
    allowed = await service.http.put(
        "/customers/settings", json=body, headers=service.headers("admin")
    )
    assert allowed.json() == {"statuses": ["VIP", "fraud"], "default_region": "FR"}
    card = await create(service, name="Hélène", phones=["06 12 34 56 78"], status="fraud")
    assert card["phones"][0]["e164"] == "+33612345678"
    bad = await service.http.put(
        "/customers/settings", json={"default_region": "XX"}, headers=service.headers("admin")
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_region")


async def test_creating_from_a_conversation_rematches_it(service: Service) -> None:
    key = f"{service.workspace}:110928374650192:212612345678"
    card = await create(service, name="Karim", phones=["0612345678"], conversation_key=key)
    [matched] = service.published("customers.contact.matched")
    assert matched["subject"] == key
    assert matched["data"]["customer_id"] == card["customer_id"]
    assert matched["data"]["phone_number_id"] == "110928374650192"


def test_the_business_number_is_read_from_a_key_only_when_it_has_one() -> None:
    assert phone_number_id_of("ws-1:110928374650192:MA.1:x", "ws-1") == "110928374650192"
    for key in ("ws-1:110928374650192", "ws-1::212612345678", "ws-2:1:2", "ws-1"):
        assert phone_number_id_of(key, "ws-1") is None, key


async def test_health_docs_and_metrics_need_no_token(service: Service) -> None:
    assert (await service.http.get("/healthz")).json()["status"] == "ok"
    paths = (await service.http.get("/openapi.json")).json()["paths"]
    assert {"/customers/lookup", "/customers/{survivor_id}/merge", "/customers/imports"} <= set(
        paths
    )
    assert "text/csv" in paths["/customers/imports"]["post"]["requestBody"]["content"]
    channels = str((await service.http.get("/asyncapi.json")).json()["channels"])
    assert "whatsapp.inbound.v1" in channels and "customers.events.v1" in channels
    assert (await service.http.get("/customers")).status_code == 401
