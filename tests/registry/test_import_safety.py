"""Issue 14, findings 3 and 4, on a running registry: a hostile workbook is refused at once and does not
hold up the service while it is read; text that looks like a formula is exported as text (CSV and XLSX)
and the export still imports back unchanged."""

import asyncio
import csv
import io
import re
import time
import zipfile

import openpyxl
import pytest

from services.registry.spreadsheets import XLSX_TYPE
from tests.registry.test_import_export import export_file, import_file

pytestmark = pytest.mark.integration

FORMULAS = {
    "name": '=HYPERLINK("http://evil.example/x","คลิก")',
    "unit": "@SUM(1+1)*cmd|' /C calc'!A0",
    "producer_name": "-2+3+cmd|' /C calc'!A0",
    "contact_name": "=1+1",
    "phone": "+66 81 234 5678",
}
FILE = (
    "name,category,star_level,quadrant,nawatwithi,price_thb,unit,producer_name,producer_type,experienced,"
    "tambon_code,contact_name,phone\n"
    + ",".join(
        '"' + value.replace('"', '""') + '"'
        for value in (
            FORMULAS["name"],
            "food",
            "3",
            "D",
            "true",
            "45",
            FORMULAS["unit"],
            FORMULAS["producer_name"],
            "community_group",
            "true",
            "720101",
            FORMULAS["contact_name"],
            FORMULAS["phone"],
        )
    )
    + "\n"
)


def workbook(cells: dict[str, object]) -> bytes:
    book = openpyxl.Workbook()
    for ref, value in cells.items():
        book.active[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def without_dimension(xlsx: bytes) -> bytes:
    """The same workbook with its sheet's <dimension> element taken out (it is optional): a file that does
    not say how large it is."""
    source, out = zipfile.ZipFile(io.BytesIO(xlsx)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
            target.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize("declared", [True, False])
async def test_a_workbook_with_one_cell_at_row_1048576_is_refused_at_once(registry, declared):
    """The review's 4.8 KB sheet blocked the service for 3.6 s; now it is refused by its size before its
    rows are read (declared dimension), or as soon as its rows pass the limit (no dimension)."""
    hostile = workbook({"A1": "name", "A1048576": "x"})
    if not declared:
        hostile = without_dimension(hostile)
    assert len(hostile) < 10_000
    started = time.monotonic()
    refused = await import_file(registry, hostile, XLSX_TYPE)
    elapsed = time.monotonic() - started
    assert refused.status_code == 422, refused.text
    assert [p["type"] for p in refused.json()["detail"]] == ["too_large"]
    assert elapsed < 1.5, f"took {elapsed:.2f}s"


async def test_other_requests_are_answered_while_a_large_workbook_is_read(registry):
    """A workbook within the limits but slow to read (40,000 cells): the service answers meanwhile."""
    rows, columns = 2000, 20
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in range(rows):
        sheet.append([f"ค่า {row}-{column} " * 3 for column in range(columns)])
    out = io.BytesIO()
    book.save(out)
    gaps, importing = (
        [],
        asyncio.create_task(import_file(registry, out.getvalue(), XLSX_TYPE, dry_run="true")),
    )
    started = time.monotonic()
    while not importing.done():
        asked = time.monotonic()
        assert (await registry.get("/health/live")).status_code == 200
        gaps.append(time.monotonic() - asked)
        await asyncio.sleep(0.02)
    import_s = time.monotonic() - started
    answer = await importing
    assert (
        answer.status_code == 422 and "missing_column" in answer.text
    )  # read whole, then refused (no header)
    print(
        f"\nimport read for {import_s:.2f}s; {len(gaps)} requests answered meanwhile, slowest "
        f"{max(gaps):.3f}s"
    )
    # The probes share the GIL with the parsing thread, so how many fit in depends on the machine's load;
    # that some did, and that none waited long, is what shows the event loop kept running.
    assert import_s > 0.5 and len(gaps) >= 3
    assert max(gaps) < max(0.3, import_s / 4)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
async def test_formula_like_text_is_exported_as_text_and_imports_back_unchanged(registry, file_format):
    imported = await import_file(registry, FILE.encode())
    assert imported.status_code == 200, imported.text
    exported = await export_file(registry, format=file_format)
    if file_format == "csv":
        rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
        cells = dict(zip(rows[0], rows[1], strict=True))
        for column, value in FORMULAS.items():
            assert cells[column] == f"'{value}", column  # a spreadsheet shows it as the text it is
    else:
        sheet_xml = zipfile.ZipFile(io.BytesIO(exported)).read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no formula cell at all
        sheet = openpyxl.load_workbook(io.BytesIO(exported)).active
        header = [cell.value for cell in sheet[1]]
        for column, value in FORMULAS.items():
            cell = sheet[2][header.index(column)]
            assert (cell.value, cell.data_type, cell.quotePrefix) == (value, "s", True), column
    again = await import_file(registry, exported, XLSX_TYPE if file_format == "xlsx" else "text/csv")
    assert again.status_code == 200, again.text
    assert (again.json()["products_unchanged"], again.json()["producers_updated"]) == (1, 0)
