"""The report as files (DOCX, PDF, XLSX, CSV), each opened with its own reader: the golden report's
records (the seed's meeting, committee, plan, problems and recommendations) with a month of markets and
sales."""

import csv
import io
import unicodedata
from datetime import date, time
from decimal import Decimal
from uuid import uuid4

import docx
import openpyxl
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from services.monitoring.report import build_national, build_report, layout, pdf
from services.monitoring.report.docx import to_docx
from services.monitoring.report.sheets import csv_bytes, xlsx
from services.monitoring.report.tables import report_table, report_tables, table_names
from shared import thai
from tests.monitoring import test_report_builder as builder
from tests.monitoring.test_golden_report import MEETING, MEMBERS, PROBLEMS, RECOMMENDATIONS

PLAN_ROW = [
    "๑",
    "โครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
    "๒๐ ผลิตภัณฑ์/ตลาด",
    "ไตรมาส ๓-๔ (มิ.ย.-ก.ย.๖๒)",
    "ตลาดประชารัฐและแหล่งท่องเที่ยวจังหวัดสุพรรณบุรี",
    "งบบุคลากรฯ",
]
SECTIONS = [
    "สรุปการดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP)",
    "เดือนมิถุนายน ๒๕๖๒",
    "๑ ผลความก้าวหน้าในการดำเนินงาน OTOP Mobile",
    "๑) กิจกรรมประชุมกลไกการขับเคลื่อนการจัดแสดงและจำหน่ายผลิตภัณฑ์ OTOP",
    "๒) ดำเนินการติดตามโครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
    "๒ แผนการดำเนินงานตามโครงการไตรมาส ๓ - ๔ (มิถุนายน ๒๕๖๒ - กันยายน ๒๕๖๒)",
    "ผลการดำเนินงาน",
    "๓ ปัญหา / อุปสรรค / ข้อเสนอแนะ",
]


def golden(thai_digits: bool = True):
    """The golden test's records as the builder gets them, with the builder test's markets and sales."""
    meeting = {
        **MEETING,
        "id": uuid4(),
        "held_on": date(2019, 6, 24),
        "starts_at": time(8, 30),
        "ends_at": time(16, 30),
    }
    committee = {
        "id": uuid4(),
        "name": "คณะกรรมการติดตามโครงการ OTOP เคลื่อนที่ (OTOP Mobile) ระดับจังหวัด",
        "appointed_on": date(2019, 6, 25),
        "order_ref": None,
        "members": [{"role": r} for _, r in MEMBERS],
    }
    issues = [
        {"kind": kind, "category": category, "text": text, "evaluation_id": None}
        for kind, entries in (("problem", PROBLEMS), ("recommendation", RECOMMENDATIONS))
        for category, text in entries
    ]
    plan = {**builder.PLAN, "target_group": "๒๐ ผลิตภัณฑ์/ตลาด"}
    return build_report(
        builder.data(
            thai_digits=thai_digits,
            activities=[meeting],
            committees=[committee],
            plans=[plan],
            plan_venue_kinds={plan["id"]: {"pracharat_market", "tourist_spot"}},
            issues=issues,
        )
    )


def test_docx_has_the_seed_sections_tables_and_lists_in_order():
    report = golden()
    document = docx.Document(io.BytesIO(to_docx(layout.document(report))))
    headings = [p.text for p in document.paragraphs if p.style.name in ("Title", "Heading 1", "Heading 2")]
    assert headings == SECTIONS
    texts = [p.text for p in document.paragraphs]
    [meeting] = [text for text in texts if text.startswith("(๑) การประชุมกลไก")]
    assert "ในวันที่ ๒๔ มิถุนายน ๒๕๖๒" in meeting and "เวลา ๐๘.๓๐ - ๑๖.๓๐ น." in meeting and "๔๐ คน" in meeting
    assert "จัดตลาดแล้ว ๓ ครั้ง จากแผน ๔ ครั้ง (กำหนดจัด ๓ ครั้ง ยกเลิก ๑ ครั้ง)" in texts
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    problems = bullets.index("ปัญหา / อุปสรรค")
    assert bullets[problems + 1 : problems + 4] == [
        f"{n}) {text}" for n, (_, text) in zip("๑๒๓", PROBLEMS, strict=True)
    ]
    assert bullets[-3:] == [
        "ข้อเสนอแนะ",
        *(f"{n}) {text}" for n, (_, text) in zip("๑๒", RECOMMENDATIONS, strict=True)),
    ]

    tables = {
        tuple(cell.text for cell in t.rows[0].cells): [[c.text for c in row.cells] for row in t.rows[1:]]
        for t in document.tables
    }
    printed = [report_table(report, name) for name in ("plan", *layout.RESULT_TABLES)]
    assert list(tables) == [
        tuple(t.headers) for t in printed if t.rows
    ]  # each table with rows, once, in order
    assert tables[tuple(report.plan.columns)] == [PLAN_ROW]
    summary = tables[("รายการ", "ผล", "แผน/เป้าหมาย", "หน่วย")]
    assert ["ตลาดที่จัดแล้ว", "๓", "๔", "ครั้ง"] in summary
    assert ["ผลิตภัณฑ์เฉลี่ยต่อตลาด (เป้าหมายอย่างน้อย)", "๒๐.๐๐", "๒๐", "ผลิตภัณฑ์/ตลาด"] in summary
    markets = tables[tuple(report_table(report, "markets").headers)]
    assert markets[0][:5] == ["๘ มิ.ย. ๖๒", "ตลาดประชารัฐ ๘", "จัดแล้ว", "๒๒", "ถึง"]
    products = tables[tuple(report_table(report, "sales_by_product").headers)]
    assert products[0] == ["ผ้าขาวม้าทอมือ", "กลุ่มทอผ้า", "ผ้าและเครื่องแต่งกาย", "๑", "ผืน", "๑", "๓๘๐.๐๐"]
    assert tables[tuple(report_table(report, "non_selling_products").headers)][-1][0] == "สบู่สมุนไพร"
    assert document.core_properties.title == report.title


def test_docx_with_arabic_digits_has_no_thai_ones():
    document = docx.Document(io.BytesIO(to_docx(layout.document(golden(thai_digits=False)))))
    text = "\n".join(
        [p.text for p in document.paragraphs]
        + [c.text for t in document.tables for row in t.rows for c in row.cells]
    )
    assert "24 มิถุนายน 2562" in text and "8 มิ.ย. 62" in text and "810.00" in text
    assert not any(digit in text for digit in "๐๑๒๓๔๕๖๗๘๙")


def _pdf_text(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, unicodedata.normalize("NFKC", " ".join(text.split()))


def test_pdf_embeds_a_thai_font_and_its_text_reads_back():
    reader, text = _pdf_text(pdf.to_pdf(layout.document(golden())))
    fonts = {
        font["/BaseFont"].split("+")[-1]: font["/DescendantFonts"][0]["/FontDescriptor"]["/FontFile2"]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert sorted(fonts) == ["ThaiReport", "ThaiReport-Bold"]  # no fallback font anywhere
    embedded = TTFont(io.BytesIO(fonts["ThaiReport"].get_data()))  # the font file itself is in the PDF
    assert embedded["name"].getDebugName(1) == "Arundina Sans" and 0x0E01 in embedded.getBestCmap()

    def find(wanted: str, after: int = 0) -> int:
        found = text.find(unicodedata.normalize("NFKC", " ".join(wanted.split())), after)
        assert found >= 0, wanted
        return found

    position = 0
    for section in SECTIONS:  # each, in order
        position = find(section, position)
    for figure in (
        "๒๔ มิถุนายน ๒๕๖๒",
        "ยอดจำหน่ายรวม ๘๑๐.๐๐ บาท",
        "๓๘๐.๐๐",
        "ตลาดที่จัดแล้ว ๓ ๔ ครั้ง",
        "งบบุคลากรฯ",
        PROBLEMS[1][1],
        RECOMMENDATIONS[0][1][:30],
    ):
        find(figure)


def test_pdf_says_which_package_to_install_when_the_font_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)
    with pytest.raises(pdf.ThaiFontMissing, match="fonts-arundina"):
        pdf.to_pdf(layout.document(golden()))


def test_xlsx_has_every_table_as_a_sheet_with_numbers_as_numbers():
    report = golden(thai_digits=False)
    book = openpyxl.load_workbook(io.BytesIO(xlsx(report_tables(report), report.title, False)))
    assert book.sheetnames == table_names(national=False)
    assert book.properties.title == report.title
    rows = {name: [list(row) for row in book[name].iter_rows(values_only=True)] for name in book.sheetnames}
    assert rows["plan"] == [report.plan.columns, [1, *(thai.digits(cell, False) for cell in PLAN_ROW[1:])]]
    assert rows["sales_by_product"][1] == ["ผ้าขาวม้าทอมือ", "กลุ่มทอผ้า", "ผ้าและเครื่องแต่งกาย", 1, "ผืน", 1, 380]
    assert book["sales_by_product"]["G2"].number_format == "#,##0.00"
    assert rows["markets"][1][:4] == ["08/06/2562", "ตลาดประชารัฐ 8", "จัดแล้ว", 22]
    assert rows["markets"][3][3] is None  # not known: an empty cell, not "-"
    assert ["ยอดจำหน่ายรวม", 810, None, "บาท"] in rows["summary"]
    assert [r[0] for r in rows["issues"][1:]] == ["ปัญหา / อุปสรรค"] * 3 + ["ข้อเสนอแนะ"] * 2
    assert rows["issues"][1][3] == PROBLEMS[0][1]


def test_csv_is_one_table_in_utf8_with_a_bom():
    report = golden()
    content = csv_bytes(report_table(report, "sales_by_product"), report.thai_digits)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == report_table(report, "sales_by_product").headers
    assert rows[1:] == [
        ["ผ้าขาวม้าทอมือ", "กลุ่มทอผ้า", "ผ้าและเครื่องแต่งกาย", "1", "ผืน", "1", "380.00"],
        ["น้ำผึ้งดอกลำไย", "", "อาหาร", "2", "ขวด", "1", "250.00"],
        ["ข้าวตังหน้าธัญพืช", "กลุ่มแม่บ้านสามชุก", "อาหาร", "4", "กล่อง", "2", "180.00"],
    ]
    assert sum(Decimal(row[-1]) for row in rows[1:]) == report.results.summary.sales_thb


def test_national_files_have_the_provinces_and_totals():
    report = build_national(
        builder.Period.month(2019, 6), date(2019, 7, 1), 3, True, builder.data().market_days, [builder.PLAN]
    )
    sheet, budgets = openpyxl.load_workbook(
        io.BytesIO(xlsx(report_tables(report), report.title, True))
    ).worksheets
    assert budgets.max_row == 1  # its headers: no province's budget in this report
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[1][:4] == ["สุพรรณบุรี", "72", 4, 3] and rows[-1][:4] == ["รวม", None, 4, 3]
    document = docx.Document(io.BytesIO(to_docx(layout.document(report))))
    assert document.paragraphs[0].text == report.title
    assert [c.text for c in document.tables[0].rows[1].cells][:4] == ["สุพรรณบุรี", "72", "๔", "๓"]
    _, text = _pdf_text(pdf.to_pdf(layout.document(report)))
    assert "สุพรรณบุรี 72 ๔ ๓" in text
