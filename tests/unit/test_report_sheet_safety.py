"""Issue 14, finding 4: the report's tables as XLSX and CSV write formula-like text (a product or problem
named by a user) as text; numbers stay numbers."""

import csv
import io
import zipfile
from decimal import Decimal

import openpyxl

from services.monitoring.report.sheets import csv_bytes, xlsx
from services.monitoring.report.tables import Table

HOSTILE = ['=HYPERLINK("http://evil.example","คลิก")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1)", "\tx", "\rx"]
TABLE = Table(
    "sales_by_product",
    "ยอดขายรายผลิตภัณฑ์",
    ["ผลิตภัณฑ์", "ยอดขาย (บาท)"],
    [[name, Decimal("-12.50")] for name in HOSTILE] + [["ข้าวตัง", Decimal("45.00")]],
)


def test_report_xlsx_stores_formula_like_text_as_text():
    book = xlsx([TABLE], "รายงาน", thai_digits=False)
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(book)).read("xl/worksheets/sheet1.xml")
    sheet = openpyxl.load_workbook(io.BytesIO(book)).active
    names = [(row[0].value, row[0].data_type, row[0].quotePrefix) for row in sheet.iter_rows(min_row=2)]
    assert names[: len(HOSTILE)] == [(name, "s", True) for name in HOSTILE]
    assert names[-1] == ("ข้าวตัง", "s", False)
    assert [row[1].value for row in sheet.iter_rows(min_row=2)][0] == -12.5  # a number, not text


def test_report_csv_quotes_formula_like_text_with_an_apostrophe():
    rows = list(csv.reader(io.StringIO(csv_bytes(TABLE, thai_digits=False).decode("utf-8-sig"), newline="")))
    assert [row[0] for row in rows[1:]] == [f"'{name}" for name in HOSTILE] + ["ข้าวตัง"]
    assert rows[1][1] == "-12.50"  # a negative number is a number
