"""Section ๕ ผลลัพธ์ต่อผู้ผลิต of the report: the hand-computed season (outcome_season.py) in the
golden report, as JSON, XLSX, CSV, Markdown, PDF (with its charts) and DOCX (with the same charts)."""

import csv
import io
import os
import unicodedata
from pathlib import Path

import docx
import openpyxl
from PIL import Image

from services.monitoring.domain.outcomes import province_outcomes
from services.monitoring.report import document, to_markdown
from services.monitoring.report.charts import chart_png
from services.monitoring.report.docx import to_docx
from services.monitoring.report.outcomes import OUTCOME_TABLES, charts, outcomes_section
from services.monitoring.report.pdf import to_pdf
from services.monitoring.report.sheets import csv_bytes, xlsx
from services.monitoring.report.tables import report_table, report_tables, table_names
from tests.monitoring.test_outcomes_domain import season
from tests.monitoring.test_report_files import _pdf_text, golden


def report_with_outcomes(thai_digits: bool = True):
    figures = province_outcomes(season())
    return golden(thai_digits).model_copy(update={"outcomes": outcomes_section(figures, thai_digits)})


def test_the_section_in_json_and_markdown():
    report = report_with_outcomes(thai_digits=False)
    body = report.model_dump(mode="json")["outcomes"]
    assert body["heading"] == "ผลลัพธ์ต่อผู้ผลิต" and body["number"] == "5"
    assert body["figures"]["new_vs_experienced"]["a"]["mean"] == "137.50"
    assert body["text"][1].startswith("ผลิตภัณฑ์ในรายการที่เชิญ 12 รายการ ตรงกลุ่มเป้าหมายของโครงการร้อยละ 75.00")
    assert "ยังไม่เคยได้รับเชิญ 1 รายการ" in body["text"][-2] and "XLSX" in body["text"][-1]
    text = to_markdown(document(report))
    assert text.index("## 3 ปัญหา") < text.index("## 5 ผลลัพธ์ต่อผู้ผลิต") < text.index("ข้อสังเกต:")
    assert "*แผนภูมิ: ยอดขายต่อวันตลาด: ผู้ผลิตรายใหม่กับรายเดิม รายเดือน (ในไฟล์ PDF และ DOCX)*" in text


def test_the_sections_tables_in_xlsx_and_csv():
    report = report_with_outcomes(thai_digits=False)
    assert table_names(national=False)[-len(OUTCOME_TABLES) :] == list(OUTCOME_TABLES)
    book = openpyxl.load_workbook(io.BytesIO(xlsx(report_tables(report), report.title, False)))
    rows = {name: [list(r) for r in book[name].iter_rows(values_only=True)] for name in OUTCOME_TABLES}
    producers = {row[0]: row for row in rows["outcomes_producers"][1:]}
    assert producers["E"] == ["E", "รายเดิม", None, 3, 2, 1, "ขาดวัตถุดิบ 1", 600, 300, 200]
    assert producers["A"][:3] == ["A", "รายใหม่", "G"]
    lineup = {row[0]: row[1:] for row in rows["outcomes_lineup"][1:]}
    assert lineup["ตรงกลุ่มเป้าหมาย (Quadrant D, 1-3 ดาว หรือนวัตวิถี)"] == [9, 12, 75, "51.27 - 89.53"]
    comparisons = {row[0]: row[1:] for row in rows["outcomes_comparisons"][1:]}
    assert comparisons["ยอดขายต่อวันตลาด (บาท) ทั้งฤดูกาล"] == [
        "ผู้ผลิตรายใหม่", 2, 137.5, "ข้อมูลไม่พอ", "ผู้ผลิตรายเดิม", 2, 450, "ข้อมูลไม่พอ", -312.5, "ข้อมูลไม่พอ"
    ]  # fmt: skip
    assert rows["outcomes_invitation_spread"][1:] == [[0, 1], [3, 3]]
    content = csv_bytes(report_table(report, "outcomes_never_invited"), False)
    found = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert found[1:] == [["x1", "X", "สมุนไพรที่ไม่ใช่อาหาร", "1", "D", ""]]


def test_the_section_with_charts_in_pdf_and_docx():
    report = report_with_outcomes()
    made = charts(report.outcomes.figures, True)
    assert [len(c.groups) for c in made] == [2, 5, 2]  # months; criteria; food and textile
    reader, text = _pdf_text(to_pdf(document(report)))
    assert "๕ ผลลัพธ์ต่อผู้ผลิต" in text
    assert unicodedata.normalize("NFKC", "การกระจายคำเชิญในผลิตภัณฑ์กลุ่มเป้าหมาย") in text  # ำ reads back as ํา
    assert "แนวโน้ม (เดือนสุดท้าย - เดือนแรก)" not in text  # a row a producer: in the sheets only
    assert len({image.data for page in reader.pages for image in page.images}) == 3  # pages share resources
    word = docx.Document(io.BytesIO(to_docx(document(report))))
    assert len(word.inline_shapes) == 3
    assert "๕ ผลลัพธ์ต่อผู้ผลิต" in [p.text for p in word.paragraphs]
    image = Image.open(io.BytesIO(chart_png(made[0], True)))
    assert image.size == (1600, 820)
    if folder := os.environ.get("OTOP_CHART_DIR"):  # to look at them
        for n, chart in enumerate(made, start=1):
            (Path(folder) / f"outcomes-chart-{n}.png").write_bytes(chart_png(chart, True))


def test_without_the_thai_font_the_docx_names_its_charts(monkeypatch, tmp_path):
    from services.monitoring.report import pdf

    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)
    word = docx.Document(io.BytesIO(to_docx(document(report_with_outcomes()))))
    assert len(word.inline_shapes) == 0
    assert sum(p.text.startswith("แผนภูมิ: ") for p in word.paragraphs) == 3
