"""The report's tables as a spreadsheet (XLSX, a sheet per table) or one table as CSV (UTF-8 with a BOM,
so Excel reads the Thai). Numbers stay numbers; text and Buddhist-Era dates follow the report's digits."""

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from services.monitoring.report.tables import Cell, Code, Table
from shared import thai
from shared.spreadsheet import as_text, csv_text
from shared.thailand import be_year

NUMBER_FORMATS = {int: "#,##0", Decimal: "#,##0.00"}
WIDEST_COLUMN = 60


def sheet_value(value: Cell, thai_digits: bool) -> str | int | Decimal | None:
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, str):
        return thai.digits(value, thai_digits)
    if isinstance(value, date):  # day/month/BE year, as Thai offices write dates
        return thai.digits(f"{value.day:02d}/{value.month:02d}/{be_year(value.year)}", thai_digits)
    return value  # a number, or None (an empty cell)


def xlsx(tables: list[Table], title: str, thai_digits: bool) -> bytes:
    book = Workbook()
    book.remove(book.active)
    book.properties.title = title
    for table in tables:
        sheet = book.create_sheet(table.name)
        sheet.append(table.headers)
        for cell in sheet[1]:
            as_text(cell)
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([sheet_value(value, thai_digits) for value in row])
            for cell, value in zip(sheet[sheet.max_row], row, strict=True):
                as_text(cell)  # text stays text, even "=..." (formula injection)
                if type(value) in NUMBER_FORMATS:
                    cell.number_format = NUMBER_FORMATS[type(value)]
        sheet.freeze_panes = "A2"
        for n, header in enumerate(table.headers, start=1):
            longest = max(
                [len(header)] + [len(str(sheet_value(row[n - 1], thai_digits) or "")) for row in table.rows]
            )
            sheet.column_dimensions[get_column_letter(n)].width = min(longest + 2, WIDEST_COLUMN)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(table: Table, thai_digits: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(["" if value is None else csv_text(sheet_value(value, thai_digits)) for value in row])
    return out.getvalue().encode("utf-8-sig")
