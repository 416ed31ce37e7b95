"""The report as files over HTTP: the golden test's seed (Suphanburi, June 2562) with a market day and a
sale, exported as DOCX, PDF, XLSX and CSV by province and national routes, with their headers, and the
refusals (another province, the department's national report, a bad format or table)."""

import csv
import io
import unicodedata
from datetime import date
from uuid import uuid4

import docx
import openpyxl
import pytest
from pypdf import PdfReader

from services.monitoring.main import spec
from services.monitoring.report import pdf
from shared.contracts.sales import SaleRecorded
from shared.contracts.scheduling import MarketDayHeld
from tests.conftest import bearer, running_service
from tests.monitoring.support import DEPARTMENT, OFFICER, publish, report_shows, skip_earlier_events
from tests.monitoring.test_golden_report import PLAN, PROBLEMS, enter_the_seed
from tests.monitoring.test_read_models_and_results import OLD, VENUE, market_day, producer, product, sale

pytestmark = pytest.mark.integration

MONTH = "/provinces/72/reports/2562/6"
MEDIA = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


async def get_file(http, path: str, format: str, name: str, headers=OFFICER, **params) -> bytes:
    answer = await http.get(path, params={"format": format, **params}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == MEDIA[format]
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}"'
    return answer.content


async def test_the_seed_report_as_docx_pdf_xlsx_and_csv(database_url, kafka, monkeypatch, tmp_path):
    await skip_earlier_events(kafka)
    cloth = product("ผ้าขาวม้าทอมือ", "textile", OLD)
    held = market_day(date(2019, 6, 8), MarketDayHeld, "held", 2, plan_id=PLAN.plan_id)
    async with running_service(spec, database_url, kafka) as http:
        await enter_the_seed(http, kafka)
        await publish(
            kafka,
            producer(OLD, True),
            cloth,
            VENUE,
            held,
            sale(SaleRecorded, uuid4(), 1, held.market_day_id, cloth, "2"),
        )  # 2 x 380.00
        model = await report_shows(
            http,
            MONTH,
            lambda r: (
                r["plan"]["rows"]
                and r["results"]["summary"]["sales_thb"] == "760.00"
                and r["results"]["sales_by_product"][0]["producer_name"]
            ),
            digits="thai",
        )

        document = docx.Document(
            io.BytesIO(await get_file(http, MONTH, "docx", "otop-report-72-2562-06.docx", digits="thai"))
        )
        assert document.paragraphs[0].text == "สรุปการดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP)"
        assert document.paragraphs[1].text == "เดือนมิถุนายน ๒๕๖๒"
        [plan] = model["plan"]["rows"]
        assert [c.text for c in document.tables[0].rows[1].cells] == [
            "๑",
            *(plan[k] for k in ("project_name", "target_group", "period", "place", "budget_source")),
        ]
        assert plan["period"] == "ไตรมาส ๓-๔ (มิ.ย.-ก.ย.๖๒)"
        assert f"๑) {PROBLEMS[0][1]}" in [p.text for p in document.paragraphs]

        content = await get_file(http, MONTH, "pdf", "otop-report-72-2562-06.pdf", digits="thai")
        text = unicodedata.normalize(
            "NFKC",
            " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split()),
        )
        for wanted in ("๓ ปัญหา / อุปสรรค / ข้อเสนอแนะ", "ยอดจำหน่ายรวม ๗๖๐.๐๐ บาท", "ผ้าขาวม้าทอมือ", "๘ มิ.ย. ๖๒"):
            assert unicodedata.normalize("NFKC", wanted) in text, wanted

        book = openpyxl.load_workbook(
            io.BytesIO(
                await get_file(
                    http, "/provinces/72/reports/2562/quarters/3", "xlsx", "otop-report-72-2562-q3.xlsx"
                )
            )
        )
        assert "sales_by_product" in book.sheetnames and "plan" in book.sheetnames
        assert list(book["sales_by_product"].iter_rows(min_row=2, values_only=True)) == [
            ("ผ้าขาวม้าทอมือ", "กลุ่ม True", "ผ้าและเครื่องแต่งกาย", 2, "ชิ้น", 1, 760)
        ]

        content = await get_file(
            http, MONTH, "csv", "otop-report-72-2562-06-sales_by_product.csv", table="sales_by_product"
        )
        assert content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert rows == [
            ["ผลิตภัณฑ์", "ผู้ผลิต", "ประเภท", "จำนวน", "หน่วย", "รายการขาย", "ยอดจำหน่าย (บาท)"],
            ["ผ้าขาวม้าทอมือ", "กลุ่ม True", "ผ้าและเครื่องแต่งกาย", "2", "ชิ้น", "1", "760.00"],
        ]

        national = await get_file(
            http,
            "/national/reports/2019/6",
            "csv",
            "otop-report-national-2562-06-provinces.csv",
            headers=DEPARTMENT,
            table="provinces",
        )
        rows = list(csv.reader(io.StringIO(national.decode("utf-8-sig"))))
        assert rows[1][:4] == ["สุพรรณบุรี", "72", "4", "1"] and rows[-1][0] == "รวม"
        book = openpyxl.load_workbook(
            io.BytesIO(
                await get_file(
                    http,
                    "/national/reports/2562/quarters/4",
                    "xlsx",
                    "otop-report-national-2562-q4.xlsx",
                    headers=DEPARTMENT,
                )
            )
        )
        assert book.sheetnames == ["provinces", "budgets"]  # budgets: none approved in this test

        # Refusals: another province's officer, the national report to a province, bad values (before any
        # work).
        other = bearer("province_officer", "10")
        for format in ("docx", "pdf", "xlsx", "csv"):
            answer = await http.get(MONTH, params={"format": format, "table": "plan"}, headers=other)
            assert answer.status_code == 403, answer.text
        answer = await http.get("/national/reports/2562/6", params={"format": "pdf"}, headers=OFFICER)
        assert answer.status_code == 403
        answer = await http.get(MONTH, params={"format": "odt"}, headers=OFFICER)
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["query", "format"]
        for params in ({"format": "csv"}, {"format": "csv", "table": "sales_by_seller"}):
            answer = await http.get(MONTH, params=params, headers=OFFICER)
            assert answer.status_code == 422, answer.text
            [error] = answer.json()["detail"]
            assert (
                error["loc"] == ["query", "table"]
                and "sales_by_product" in error["msg"]
                and "plan" in error["msg"]
            )
        answer = await http.get(
            "/national/reports/2562/6", params={"format": "csv", "table": "plan"}, headers=DEPARTMENT
        )
        assert answer.status_code == 422 and "provinces" in answer.json()["detail"][0]["msg"]

        # A machine without the Thai font: the PDF is refused, saying what to install; the rest still works.
        monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)
        answer = await http.get(MONTH, params={"format": "pdf"}, headers=OFFICER)
        assert answer.status_code == 503 and "fonts-arundina" in answer.json()["detail"]
        assert (await http.get(MONTH, params={"format": "docx"}, headers=OFFICER)).status_code == 200
