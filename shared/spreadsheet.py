"""Spreadsheet cells that cannot run (formula injection): a text that begins like a formula (= + - @,
tab or CR) is written as text, never as something Excel or LibreOffice would evaluate.

- XLSX: every text cell is stored as a string (openpyxl would store "=..." as a formula), and those that
  begin like a formula carry the quote-prefix style, so that editing the cell keeps it text.
- CSV: such a text gets a leading apostrophe, as a spreadsheet user would type it; `from_csv_text` takes
  it off again, so an exported file imports back unchanged.
"""

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_text(value: Any) -> Any:
    """A value for a CSV cell: formula-like text with an apostrophe in front; anything else as it is."""
    return f"'{value}" if formula_like(value) else value


def from_csv_text(text: str) -> str:
    """A CSV cell as read back: the apostrophe `csv_text` added is taken off."""
    return text[1:] if text.startswith("'") and formula_like(text[1:]) else text


def as_text(cell: Cell) -> Cell:
    """An XLSX cell whose text is stored as text (data type s) and, if it begins like a formula, shown so."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if formula_like(cell.value):
            cell.quotePrefix = True
    return cell


def text_row(sheet: Worksheet, values: list[Any]) -> list[Cell]:
    """A row for a write-only sheet's append(), its text cells made safe with `as_text`."""
    return [as_text(WriteOnlyCell(sheet, value)) for value in values]
