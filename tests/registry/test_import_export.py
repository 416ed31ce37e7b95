"""Bulk import (CSV, XLSX) and export on a running registry: all rows or none, a row-by-row report,
and an exported file that imports back unchanged."""

import csv
import io

import pytest

from services.registry.spreadsheets import XLSX_TYPE
from shared.topics import REGISTRY_PRODUCERS, REGISTRY_PRODUCTS
from tests.conftest import bearer
from tests.registry.support import OFFICER, PRODUCER, count_rows, create, events

pytestmark = pytest.mark.integration
P72 = "/provinces/72"
CSV = {**OFFICER, "content-type": "text/csv"}

# As a provincial OTOP database export might look: Thai headers, Thai labels, an extra column.
FILE = """ลำดับ,ชื่อผลิตภัณฑ์,ประเภทผลิตภัณฑ์,ระดับดาว,ปีที่คัดสรร,กลุ่มผลิตภัณฑ์,OTOP นวัตวิถี,ราคา (บาท),หน่วยนับ,ชื่อผู้ผลิต,ประเภทผู้ผลิต,ผู้ผลิตมีประสบการณ์,รหัสตำบล,โทรศัพท์
1,ข้าวตังหน้าธัญพืช,อาหาร,3,2562,D,ใช่,45,กล่อง,กลุ่มแม่บ้านบ้านโพธิ์,กลุ่มผู้ผลิตชุมชน,ใช่,720101,081-234-5678
2,น้ำพริกเผา,อาหาร,2,2560,D,ไม่ใช่,60,กระปุก,กลุ่มแม่บ้านบ้านโพธิ์,,,,
3,ผ้าขาวม้าทอมือ,ผ้าและเครื่องแต่งกาย,1,,D,ใช่,"1,250.00",ผืน,นายสมชาย ทอดี,ผู้ผลิตชุมชนที่เป็นเจ้าของรายเดียว,ไม่ใช่,720202,
4,ยาหม่องสมุนไพร,สมุนไพรที่ไม่ใช่อาหาร,2,2562,C,ไม่ใช่,35,ขวด,,,,,
"""


async def import_file(http, body: bytes, content_type: str = "text/csv", **params):
    return await http.post(
        f"{P72}/products/import",
        content=body,
        params=params,
        headers={**OFFICER, "content-type": content_type},
    )


async def export_file(http, **params) -> bytes:
    exported = await http.get(
        f"{P72}/products/export", params=params, headers=bearer("committee_member", "72")
    )
    assert exported.status_code == 200, exported.text
    return exported.content


async def test_a_file_with_a_bad_row_imports_nothing_and_reports_every_problem(registry, database_url):
    bad = FILE.replace(",3,2562,D,ใช่,45,", ",7,2019,E,ใช่,45,").replace(",720202,", ",100101,")
    refused = await import_file(registry, bad.encode())
    assert refused.status_code == 422
    assert [(e["row"], e["field"]) for e in refused.json()["detail"]] == [
        (2, "star_level"),
        (2, "star_year"),
        (2, "quadrant"),
        (4, "amphoe_code"),
    ]
    assert "Buddhist Era" in refused.json()["detail"][1]["msg"]
    for table in ("producers", "products", "outbox"):
        assert await count_rows(database_url, table) == 0

    dry = await import_file(registry, FILE.encode(), dry_run="true")
    assert dry.status_code == 200 and dry.json()["products_created"] == 4 and dry.json()["dry_run"] is True
    assert await count_rows(database_url, "products") == 0 and await count_rows(database_url, "outbox") == 0

    missing = await import_file(registry, "name,category\nข้าว,food\n".encode())
    assert missing.status_code == 422 and {e["field"] for e in missing.json()["detail"]} == {
        "star_level",
        "quadrant",
        "nawatwithi",
        "price_thb",
        "unit",
    }
    assert (await import_file(registry, FILE.encode(), "application/json")).status_code == 415
    assert (await import_file(registry, b"PK\x03\x04 not a workbook", XLSX_TYPE)).status_code == 422
    committee = await registry.post(
        f"{P72}/products/import",
        content=FILE.encode(),
        headers={**bearer("committee_member", "72"), "content-type": "text/csv"},
    )
    assert committee.status_code == 403


async def test_an_import_registers_producers_and_products_and_publishes_them(registry, kafka):
    existing = await create(registry, "producers", {**PRODUCER, "name": "นายสมชาย ทอดี", "experienced": True})
    imported = await import_file(registry, FILE.encode())
    assert imported.status_code == 200, imported.text
    result = imported.json()
    assert {k: v for k, v in result.items() if k != "rows"} == {
        "dry_run": False,
        "producers_created": 1,
        "producers_updated": 1,
        "products_created": 4,
        "products_updated": 0,
        "products_unchanged": 0,
    }
    assert [r["row"] for r in result["rows"]] == [2, 3, 4, 5]

    products = {
        p["name"]: p for p in (await registry.get(f"{P72}/products", headers=OFFICER)).json()["items"]
    }
    assert products["ผ้าขาวม้าทอมือ"]["price_thb"] == "1250.00"
    assert products["ผ้าขาวม้าทอมือ"]["producer_id"] == existing["id"]  # found by name, and updated from the row
    assert products["ยาหม่องสมุนไพร"]["producer_id"] is None
    new_producer = products["ข้าวตังหน้าธัญพืช"]["producer_id"]
    assert products["น้ำพริกเผา"]["producer_id"] == new_producer

    [registered] = await events(kafka, REGISTRY_PRODUCERS, new_producer, 1)
    assert registered["type"] == "registry.producer.registered"
    assert (
        registered["payload"].items()
        >= {
            "name": "กลุ่มแม่บ้านบ้านโพธิ์",
            "producer_type": "community_group",
            "experienced": True,
            "amphoe_code": "7201",
            "phone": "081-234-5678",
        }.items()
    )
    updated = await events(kafka, REGISTRY_PRODUCERS, existing["id"], 2)
    assert [
        (e["payload"]["revision"], e["payload"]["experienced"], e["payload"]["tambon_code"]) for e in updated
    ] == [(1, True, "720101"), (2, False, "720202")]
    [product_event] = await events(kafka, REGISTRY_PRODUCTS, products["ผ้าขาวม้าทอมือ"]["id"], 1)
    assert (
        product_event["type"],
        product_event["payload"]["category"],
        product_event["payload"]["price_thb"],
    ) == ("registry.product.registered", "textile", "1250.00")


@pytest.mark.parametrize("file_format,lang", [("csv", "en"), ("xlsx", "th")])
async def test_an_exported_file_imports_back_unchanged_and_an_edit_in_it_updates_only_that_product(
    registry, kafka, file_format, lang
):
    assert (await import_file(registry, FILE.encode())).status_code == 200
    exported = await export_file(registry, format=file_format, lang=lang)
    content_type = XLSX_TYPE if file_format == "xlsx" else "text/csv"

    again = await import_file(registry, exported, content_type)
    assert again.status_code == 200, again.text
    assert (
        again.json()["products_unchanged"],
        again.json()["producers_updated"],
        again.json()["products_created"],
    ) == (4, 0, 0)

    # Edit one price in the exported CSV (for XLSX: re-export as CSV, the same layout) and import it.
    text = (exported if file_format == "csv" else await export_file(registry, lang=lang)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    price = rows[0].index("price_thb" if lang == "en" else "ราคา (บาท)")
    edited = next(r for r in rows[1:] if r[price] == "60.00")
    edited[price] = "65.50"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    changed = await import_file(registry, out.getvalue().encode())
    assert changed.status_code == 200, changed.text
    assert (changed.json()["products_updated"], changed.json()["products_unchanged"]) == (1, 3)

    product_id = edited[0]
    published = await events(kafka, REGISTRY_PRODUCTS, product_id, 2)
    assert [(e["type"], e["payload"]["revision"], e["payload"]["price_thb"]) for e in published] == [
        ("registry.product.registered", 1, "60.00"),
        ("registry.product.updated", 2, "65.50"),
    ]


async def test_export_follows_the_search_filters(registry):
    assert (await import_file(registry, FILE.encode())).status_code == 200
    rows = list(csv.reader(io.StringIO((await export_file(registry, category="food")).decode("utf-8-sig"))))
    assert rows[0][:3] == ["product_id", "name", "category"]
    assert sorted(r[1] for r in rows[1:]) == ["ข้าวตังหน้าธัญพืช", "น้ำพริกเผา"]
    denied = await registry.get(f"{P72}/products/export", headers=bearer("integration", "72"))
    assert denied.status_code == 403
