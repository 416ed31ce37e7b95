"""Spreadsheet files, read and written: CSV (UTF-8, or Windows-874 Thai) and XLSX, with the limits that
keep a hostile file from exhausting the service. An adapter; the sheet's layout and the import's rules
are the domain's (services/registry/domain/sheet.py)."""

import csv
import io
import zipfile
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import openpyxl

from services.registry.domain.catalogue import Problem, Problems
from shared.spreadsheet import csv_text, from_csv_text, text_row

MAX_ROWS = 5000  # rows with a value, the header included
MAX_SHEET_ROWS = 10_000  # the last row number, empty rows included: a cell at A1048576 is refused at once
MAX_COLUMNS = 60
MAX_CELLS = 150_000  # cells with a value
MAX_XLSX_UNPACKED_BYTES = 200_000_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_table(data: bytes, content_type: str) -> list[tuple[int, list[str]]]:
    """The rows of a CSV (UTF-8, or Windows-874 Thai) or XLSX (first sheet) file, numbered as a
    spreadsheet numbers them, each cell as text; rows with no value are left out. A sheet larger than
    the limits (its declared dimension, its last row number, its rows and cells with a value) is refused
    as soon as that shows. CPU-bound: the service runs it in a worker thread."""
    try:
        rows = _xlsx_rows(data) if content_type == XLSX_TYPE else _csv_rows(data)
        table, cells = [], 0
        for number, row in rows:
            if number > MAX_SHEET_ROWS:
                raise _too_large(f"the sheet goes on past row {MAX_SHEET_ROWS}")
            if any(row):
                table.append((number, row))
                cells += sum(1 for cell in row if cell)
            if len(table) > MAX_ROWS + 1:
                raise Problems([Problem(("file",), f"at most {MAX_ROWS} rows a file", "too_long")])
            if cells > MAX_CELLS:
                raise _too_large(f"more than {MAX_CELLS} cells with a value")
        return table
    except Problems:
        raise
    except Exception as exc:  # whatever a malformed file makes the parser raise
        kind = "XLSX workbook" if content_type == XLSX_TYPE else "CSV file"
        raise Problems(
            [Problem(("file",), f"not a readable {kind}: {type(exc).__name__}: {exc}", "unreadable")]
        ) from exc


def _too_large(why: str) -> Problems:
    return Problems([Problem(("file",), f"the sheet is too large: {why}", "too_large")])


def _csv_rows(data: bytes) -> Iterable[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp874")  # Excel's "CSV" on Thai Windows
    for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        yield number, [from_csv_text(cell).strip() for cell in cells[:MAX_COLUMNS]]


def _xlsx_rows(data: bytes) -> Iterable[tuple[int, list[str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # an XLSX file is a zip: refuse a decompression bomb
        if sum(member.file_size for member in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
            raise Problems([Problem(("file",), "the workbook unpacks to too much data", "too_large")])
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        # The declared dimension (e.g. A1:A1048576), when the file has one; the row numbers are checked
        # anyway.
        if (sheet.max_row or 0) > MAX_SHEET_ROWS:
            raise _too_large(f"it declares {sheet.max_row} rows, at most {MAX_SHEET_ROWS}")
        for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            yield number, [_text(value) for value in values]
    finally:
        workbook.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def to_csv(table: list[list[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows Thai; text that begins like a formula stays text."""
    out = io.StringIO(newline="")
    csv.writer(out).writerows([["" if v is None else str(csv_text(v)) for v in row] for row in table])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(table: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("OTOP")
    for row in table:
        sheet.append(text_row(sheet, row))  # text stays text, even "=..." (formula injection)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
