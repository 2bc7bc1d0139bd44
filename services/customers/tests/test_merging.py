"""Duplicate groups and merges through the API, with a fake store and the in-memory broker."""

from decimal import Decimal
from typing import Any

from .builders import an_order, order_created
from .conftest import Service


async def create(service: Service, **card: Any) -> str:
    response = await service.http.post("/customers", json=card, headers=service.headers())
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["customer_id"]
    return customer_id


async def merge(service: Service, survivor: str, *absorbed: str) -> Any:
    return await service.http.post(
        f"/customers/{survivor}/merge",
        json={"absorbed_ids": list(absorbed)},
        headers=service.headers(),
    )


async def test_cards_sharing_a_number_or_identity_form_one_duplicate_group(
    service: Service,
) -> None:
    a = await create(service, name="Karim", phones=["0612345678"])
    b = await create(service, name="K.", phones=["+212612345678", "0698765432"])
    c = await create(service, name="Karim A", phones=["06 98 76 54 32"])
    await create(service, name="Nadia", phones=["0711111111"])
    response = await service.http.get("/customers/duplicates", headers=service.headers())
    [group] = response.json()
    assert sorted(x["customer_id"] for x in group["customers"]) == sorted([a, b, c])
    assert sorted(group["keys"]) == ["tel:+212612345678", "tel:+212698765432"]


async def test_a_merge_unites_the_cards_and_the_absorbed_id_resolves_to_the_survivor(
    service: Service,
) -> None:
    survivor = await create(service, name="Karim", phones=["0612345678"], tags=["vip"])
    absorbed = await create(service, phones=["+212612345678", "0698765432"], city="Tanger")
    response = await merge(service, survivor, absorbed)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [p["e164"] for p in body["phones"]] == ["+212612345678", "+212698765432"]
    assert (body["city"], body["merged_ids"]) == ("Tanger", [absorbed])
    resolved = await service.http.get(f"/customers/{absorbed}", headers=service.headers())
    assert resolved.json()["customer_id"] == survivor
    assert resolved.json()["resolved_from"] == absorbed
    assert resolved.headers["content-location"] == f"/customers/{survivor}"
    lookup = await service.http.get(
        "/customers/lookup", params={"phone": "0698765432"}, headers=service.headers()
    )
    assert lookup.json()["customer"]["customer_id"] == survivor
    assert (await service.http.get("/customers/duplicates", headers=service.headers())).json() == []


async def test_a_merge_is_published_audited_and_safe_to_retry(service: Service) -> None:
    survivor = await create(service, name="Karim", phones=["0612345678"])
    absorbed = await create(service, name="K", phones=["0612345678"])
    await merge(service, survivor, absorbed)
    again = await merge(service, survivor, absorbed)
    assert again.status_code == 200
    events = service.published("customers.customer.merged")
    assert len({e["id"] for e in events}) == 1
    assert events[0]["data"]["absorbed_ids"] == [absorbed]
    assert events[0]["actorid"] == "agent-1"
    [record] = (await service.http.get("/customers/merges", headers=service.headers())).json()
    assert (record["survivor_id"], record["merged_by"]) == (survivor, "agent-1")


async def test_stats_of_merged_customers_combine(service: Service) -> None:
    survivor = await create(service, name="Karim", phones=["0612345678"])
    absorbed = await create(service, name="K", phones=["0612345678"])
    ws = service.workspace
    await service.deliver_order(
        order_created(ws, an_order(survivor, total="100.00")),
        order_created(ws, an_order(absorbed, total="50.50")),
    )
    body = (await merge(service, survivor, absorbed)).json()
    assert body["stats"]["orders_count"] == 2
    assert Decimal(body["stats"]["total_spent"]) == Decimal("150.50")
    await service.deliver_order(order_created(ws, an_order(absorbed, total="9.50")))
    card = (await service.http.get(f"/customers/{survivor}", headers=service.headers())).json()
    assert Decimal(card["stats"]["total_spent"]) == Decimal("160.00")


async def test_a_merged_away_card_cannot_be_edited_or_absorb_itself(service: Service) -> None:
    survivor = await create(service, name="Karim")
    absorbed = await create(service, name="K")
    await merge(service, survivor, absorbed)
    edit = await service.http.patch(
        f"/customers/{absorbed}", json={"city": "Fès"}, headers=service.headers()
    )
    assert (edit.status_code, edit.json()["code"]) == (409, "merged")
    assert (await merge(service, survivor, survivor)).status_code == 422
    assert (await merge(service, survivor, "cus_missing")).status_code == 404
