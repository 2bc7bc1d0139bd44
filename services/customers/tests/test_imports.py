"""CSV import through the API: normalisation, per-row report, duplicates, progress."""

from typing import Any

from .conftest import Service

SPREADSHEET = (
    "\ufeffNom;Téléphone;Ville;Tags;Statut\n"
    "Karim Alaoui;06 12 34 56 78;Fès;vip,fidèle;VIP\n"
    "Nadia;'0698765432 / +33 6 12 34 56 78;Tanger;;\n"
    "Bad Number;06 12;Rabat;;\n"
    "\n"
    "Karim bis;+212612345678;;;\n"
    "Existing;0711111111;;;\n"
    "Unknown status;0722222222;;;gold\n"
    ";;;;\n"
    '"Youssef, ""the tall one""";06/55/44/33/22;"Casa\nBlanca";;\n'
)


async def start(service: Service, body: bytes, **params: str) -> dict[str, Any]:
    headers = {**service.headers(), "content-type": "text/csv"}
    response = await service.http.post(
        "/customers/imports", content=body, params=params, headers=headers
    )
    assert response.status_code == 202, response.text
    assert response.headers["location"].endswith(response.json()["import_id"])
    job: dict[str, Any] = response.json()
    return job


async def poll(service: Service, import_id: str) -> dict[str, Any]:
    response = await service.http.get(f"/customers/imports/{import_id}", headers=service.headers())
    job: dict[str, Any] = response.json()
    return job


async def rows(service: Service, import_id: str) -> list[dict[str, Any]]:
    url = f"/customers/imports/{import_id}/rows"
    found: list[dict[str, Any]] = (await service.http.get(url, headers=service.headers())).json()
    return found


async def test_a_spreadsheet_imports_with_a_report_of_every_refused_or_duplicate_row(
    service: Service,
) -> None:
    existing = await service.http.post(
        "/customers", json={"name": "Old", "phones": ["0711111111"]}, headers=service.headers()
    )
    job = await start(service, SPREADSHEET.encode())
    done = await poll(service, job["import_id"])
    assert done["state"] == "completed"
    assert (done["rows"], done["created"], done["duplicates"], done["errors"]) == (7, 3, 2, 2)
    assert done["bytes_read"] == done["bytes_total"] == len(SPREADSHEET.encode())
    report = {r["row"]: r for r in await rows(service, job["import_id"])}
    assert (report[4]["code"], report[4]["field"]) == ("invalid_phone", "phones.0")
    assert report[8]["code"] == "unknown_status"
    assert report[7]["duplicate_of"] == [existing.json()["customer_id"]]
    assert report[6]["outcome"] == "duplicate" and report[6]["customer_id"] is None
    cards = {
        c["name"]: c
        for c in (await service.http.get("/customers?limit=50", headers=service.headers())).json()[
            "items"
        ]
    }
    assert [p["e164"] for p in cards["Nadia"]["phones"]] == ["+212698765432", "+33612345678"]
    assert cards["Karim Alaoui"]["tags"] == ["vip", "fidèle"]
    assert cards['Youssef, "the tall one"']["city"] == "Casa\nBlanca"
    assert cards['Youssef, "the tall one"']["phones"][0]["e164"] == "+212655443322"
    assert len(service.published("customers.customer.created")) == 4


async def test_duplicates_can_be_created_anyway_and_are_then_flagged(service: Service) -> None:
    body = b"name,phone\nKarim,0612345678\nKarim again,06 12 34 56 78\n"
    job = await start(service, body, on_duplicate="create")
    done = await poll(service, job["import_id"])
    assert (done["created"], done["duplicates"]) == (2, 1)
    groups = (await service.http.get("/customers/duplicates", headers=service.headers())).json()
    assert len(groups[0]["customers"]) == 2


async def test_a_windows_1252_file_with_commas_is_read(service: Service) -> None:
    body = "name,city\nHélène,Fès\n".encode("cp1252")
    done = await poll(service, (await start(service, body))["import_id"])
    assert done["created"] == 1
    [card] = (await service.http.get("/customers", headers=service.headers())).json()["items"]
    assert (card["name"], card["city"]) == ("Hélène", "Fès")


async def test_a_file_without_a_usable_header_fails_with_a_reason(service: Service) -> None:
    done = await poll(service, (await start(service, b"foo,bar\n1,2\n"))["import_id"])
    assert done["state"] == "failed"
    assert "name or phone" in done["message"]


async def test_a_multipart_upload_is_refused_with_415(service: Service) -> None:
    response = await service.http.post(
        "/customers/imports", files={"file": ("c.csv", b"name\nA\n")}, headers=service.headers()
    )
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")


async def test_another_workspaces_import_is_404(service: Service) -> None:
    job = await start(service, b"name\nA\n")
    from .builders import token_for

    response = await service.http.get(
        f"/customers/imports/{job['import_id']}", headers=token_for("elsewhere")
    )
    assert response.status_code == 404
