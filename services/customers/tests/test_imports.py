"""CSV import through the API: normalisation, per-row report, duplicates, progress."""

import csv
import io
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
    '"Youssef, ""the tall one""";06/55/44/33/22;Casablanca;;\n'
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
    assert cards['Youssef, "the tall one"']["city"] == "Casablanca"
    assert cards['Youssef, "the tall one"']["phones"][0]["e164"] == "+212655443322"
    assert len(service.published("customers.customer.created")) == 4


async def cards_by_name(service: Service) -> dict[str, dict[str, Any]]:
    page = await service.http.get("/customers?limit=100", headers=service.headers())
    return {card["name"]: card for card in page.json()["items"]}


async def test_a_quote_never_closed_is_a_row_error_and_the_lines_after_it_are_rows(
    service: Service,
) -> None:
    body = (
        "name,phone,city\n"
        "Karim,0612345678,Rabat\n"
        '"Nadia,0698765432,Fès\n'
        "Youssef,0655443322,Casablanca\n"
        "Amine,0611111111,Tanger\n"
    ).encode()
    done = await poll(service, (await start(service, body))["import_id"])
    assert done["state"] == "completed"
    assert (done["rows"], done["created"], done["errors"]) == (4, 3, 1)
    [report] = await rows(service, done["import_id"])
    assert (report["row"], report["outcome"], report["code"]) == (3, "error", "unbalanced_quote")
    assert set(await cards_by_name(service)) == {"Karim", "Youssef", "Amine"}


async def test_a_quote_closed_rows_later_is_a_row_error_not_a_name_of_three_lines(
    service: Service,
) -> None:
    body = (
        "name;phone;city\n"
        '"Nadia;0698765432;Fès\n'
        "Youssef;0655443322;Casablanca\n"
        'Amine";0611111111;Tanger\n'
        "Karim;0612345678;Rabat\n"
    ).encode()
    done = await poll(service, (await start(service, body))["import_id"])
    assert (done["state"], done["rows"], done["created"], done["errors"]) == ("completed", 4, 3, 1)
    [report] = await rows(service, done["import_id"])
    assert (report["row"], report["code"], report["field"]) == (2, "line_break", "name")
    # The lines it swallowed are rows of their own (a stray quote in a cell is a character).
    assert set(await cards_by_name(service)) == {"Youssef", 'Amine"', "Karim"}


async def test_a_2_mb_cell_is_a_row_error_and_the_import_goes_on(service: Service) -> None:
    huge = "x" * (2 * 1024 * 1024)
    body = f"name,phone\nKarim,0612345678\n{huge},0698765432\nNadia,0655443322\n".encode()
    done = await poll(service, (await start(service, body))["import_id"])
    assert (done["state"], done["rows"], done["created"], done["errors"]) == (
        "completed",
        3,
        2,
        1,
    )
    [report] = await rows(service, done["import_id"])
    assert (report["row"], report["code"]) == (3, "row_too_large")


async def test_a_row_with_more_cells_than_columns_is_refused(service: Service) -> None:
    body = b"name,phone,address\nKarim,0612345678,12, rue Atlas\n"
    done = await poll(service, (await start(service, body))["import_id"])
    assert (done["created"], done["errors"]) == (0, 1)
    [report] = await rows(service, done["import_id"])
    assert report["code"] == "too_many_cells"


async def test_an_address_may_span_lines(service: Service) -> None:
    body = b'name,phone,address\nKarim,0612345678,"12 rue Atlas\nMaarif"\nNadia,0698765432,\n'
    done = await poll(service, (await start(service, body))["import_id"])
    assert (done["created"], done["errors"]) == (2, 0)
    assert (await cards_by_name(service))["Karim"]["address"] == "12 rue Atlas\nMaarif"


async def test_text_starting_like_a_formula_is_flagged_and_a_phone_is_not(
    service: Service,
) -> None:
    body = (
        b"name,phone,city,tags\n"
        b"Karim,+212612345678,=cmd|' /C calc'!A0,vip\n"
        b"Nadia,+212 698-765432,Rabat,@risk\n"
        b"Youssef,+212655443322,Tanger,\n"
    )
    done = await poll(service, (await start(service, body))["import_id"])
    assert (done["created"], done["errors"], done["flagged"]) == (3, 0, 2)
    report = {r["row"]: r for r in await rows(service, done["import_id"])}
    assert set(report) == {2, 3}
    assert (report[2]["outcome"], report[2]["code"], report[2]["flagged"]) == (
        "flagged",
        "formula",
        ["city"],
    )
    assert report[3]["flagged"] == ["tags"] and report[3]["customer_id"]
    assert (await cards_by_name(service))["Karim"]["city"] == "=cmd|' /C calc'!A0"


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


async def test_the_export_makes_formulas_inert_and_keeps_phones_numbers(service: Service) -> None:
    card = {
        "name": "@SUM(1+1)",
        "phones": ["+212612345678", "0698765432"],
        "city": "=cmd|' /C calc'!A0",
        "address": "-2+3",
        "tags": ["+vip", "fidèle"],
    }
    created = await service.http.post("/customers", json=card, headers=service.headers())
    assert created.status_code == 201, created.text
    plain = {"name": "Karim", "phones": ["0611111111"], "city": "Rabat"}
    await service.http.post("/customers", json=plain, headers=service.headers())
    answer = await service.http.get("/customers/export", headers=service.headers("admin"))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith("attachment")
    assert answer.headers["x-content-type-options"] == "nosniff"
    lines = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert lines[0] == ["name", "phone", "city", "address", "tags", "status"]
    assert sorted(lines[1:]) == [
        ["'@SUM(1+1)", "+212612345678 / +212698765432", "'=cmd|' /C calc'!A0", "'-2+3"]
        + ["'+vip,fidèle", ""],
        ["Karim", "+212611111111", "Rabat", "", "", ""],
    ]
    agent = await service.http.get("/customers/export", headers=service.headers())
    assert (agent.status_code, agent.json()["code"]) == (403, "forbidden")
