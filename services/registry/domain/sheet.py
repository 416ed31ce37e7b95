"""The spreadsheet layout of the provincial OTOP product database: import (CSV or XLSX) and export. The
files themselves are read and written by services/registry/spreadsheets.py.

One row per product, with its producer's details beside it. Headers are matched without regard to
case and spaces, in English or Thai; unknown columns are ignored (exports carry many more).

| column (English) | ภาษาไทย | required | values |
|---|---|---|---|
| product_id | รหัสผลิตภัณฑ์ | | empty: a new product; else a product of this province, replaced by the row |
| name | ชื่อผลิตภัณฑ์ | yes | |
| category | ประเภทผลิตภัณฑ์ | yes | food, beverage, textile, houseware, herbal, or the Thai names |
| star_level | ระดับดาว | yes | 1-5 |
| star_year | ปีที่คัดสรร | | Buddhist Era, e.g. 2562 |
| quadrant | กลุ่มผลิตภัณฑ์ | yes | A, B, C, D |
| nawatwithi | OTOP นวัตวิถี | yes | true/false, yes/no, 1/0, ใช่/ไม่ใช่ |
| price_thb | ราคา (บาท) | yes | e.g. 1,250.00 |
| unit | หน่วยนับ | yes | |
| status | สถานะ | | active/withdrawn, จำหน่าย/เลิกจำหน่าย (default active) |
| producer_id | รหัสผู้ผลิต | | a producer of this province |
| producer_name | ชื่อผู้ผลิต | | |
| producer_type | ประเภทผู้ผลิต | for a new producer | community_group, single_owner, sme, or the Thai names |
| experienced | ผู้ผลิตมีประสบการณ์ | for a new producer | as nawatwithi |
| amphoe_code, tambon_code | รหัสอำเภอ, รหัสตำบล | | DOPA codes of this province |
| contact_name, phone | ผู้ติดต่อ, โทรศัพท์ | | |

Producers: a row names its producer by `producer_id`, or else by `producer_name`: the producer of
this province with that name (case and spaces aside), or a new one registered from the row when there
is none (if several share the name, the row must give `producer_id`). Several rows may name the same
producer; their producer columns must agree. A row's producer columns update that producer.

An empty cell keeps the current value of an existing product or producer (so a file need not carry
every column; clearing a value is done through the API). Every row is checked before anything is
written; one bad row and nothing is imported.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple
from uuid import UUID, uuid4

from pydantic import BaseModel, ValidationError

from services.registry.domain.catalogue import (
    PRODUCER_FIELDS,
    PRODUCT_FIELDS,
    NewProduct,
    Problem,
    Problems,
    ProducerFields,
    location_problems,
    normalized_name,
)
from shared.labels import PRODUCER_TYPE_TH, PRODUCT_CATEGORY_TH, PRODUCT_STATUS_TH


class Lang(StrEnum):
    EN = "en"
    TH = "th"


HEADERS_TH = {
    "product_id": "รหัสผลิตภัณฑ์",
    "name": "ชื่อผลิตภัณฑ์",
    "category": "ประเภทผลิตภัณฑ์",
    "star_level": "ระดับดาว",
    "star_year": "ปีที่คัดสรร",
    "quadrant": "กลุ่มผลิตภัณฑ์",
    "nawatwithi": "OTOP นวัตวิถี",
    "price_thb": "ราคา (บาท)",
    "unit": "หน่วยนับ",
    "status": "สถานะ",
    "producer_id": "รหัสผู้ผลิต",
    "producer_name": "ชื่อผู้ผลิต",
    "producer_type": "ประเภทผู้ผลิต",
    "experienced": "ผู้ผลิตมีประสบการณ์",
    "amphoe_code": "รหัสอำเภอ",
    "tambon_code": "รหัสตำบล",
    "contact_name": "ผู้ติดต่อ",
    "phone": "โทรศัพท์",
}
COLUMNS = tuple(HEADERS_TH)
REQUIRED = ("name", "category", "star_level", "quadrant", "nawatwithi", "price_thb", "unit")
# Producer columns and the ProducerFields field each fills.
PRODUCER_COLUMNS = {"producer_name": "name", **{f: f for f in PRODUCER_FIELDS if f != "name"}}
BOOL_TH = {True: "ใช่", False: "ไม่ใช่"}
# A stored producer or product, by column name (SQLAlchemy's RowMapping).
StoredRow = Mapping[Any, Any]
LABELS: dict[str, dict[Any, str]] = {
    "category": PRODUCT_CATEGORY_TH,
    "producer_type": PRODUCER_TYPE_TH,
    "status": PRODUCT_STATUS_TH,
    "nawatwithi": BOOL_TH,
    "experienced": BOOL_TH,
}
_WORDS = {
    "true": "true",
    "yes": "true",
    "y": "true",
    "1": "true",
    "มี": "true",
    "false": "false",
    "no": "false",
    "n": "false",
    "0": "false",
    "ไม่มี": "false",
}
_VALUES = {
    column: {
        **(_WORDS if column in ("nawatwithi", "experienced") else {}),
        **{
            normalized_name(name): str(code).lower()
            for code, label in labels.items()
            for name in (str(code), label)
        },
    }
    for column, labels in LABELS.items()
}
_HEADER_NAMES = {normalized_name(name): column for column in COLUMNS for name in (column, HEADERS_TH[column])}


# --- reading rows


@dataclass(frozen=True)
class SheetRow:
    number: int
    cells: dict[str, str]  # column -> text, non-empty cells only, Thai labels read as codes


def sheet_rows(table: list[tuple[int, list[str]]]) -> list[SheetRow]:
    """The data rows, keyed by column; Problems if the header lacks a required column."""
    if not table:
        raise Problems([Problem(("file",), "the file is empty", "empty")])
    header_number, header = table[0]
    columns = [_HEADER_NAMES.get(normalized_name(name)) for name in header]
    problems = [
        Problem(("row", header_number, column), "missing column", "missing_column")
        for column in REQUIRED
        if column not in columns
    ]
    problems += [
        Problem(("row", header_number, column), "column given twice", "duplicate_column")
        for column in COLUMNS
        if columns.count(column) > 1
    ]
    if problems:
        raise Problems(problems)
    if len(table) == 1:
        raise Problems([Problem(("file",), "no rows below the header", "empty")])
    return [
        SheetRow(
            number,
            {
                column: _value(column, cell)
                for column, cell in zip(columns, cells, strict=False)
                if column and cell
            },
        )
        for number, cells in table[1:]
    ]


def _value(column: str, cell: str) -> str:
    if column in _VALUES:
        return _VALUES[column].get(normalized_name(cell), cell)
    if column == "quadrant":
        return cell.upper()
    if column == "price_thb":
        return cell.replace(",", "")
    return cell


# --- planning an import


class PlannedProducer(NamedTuple):
    """A producer an import writes: its id, whether it is new, and its fields."""

    id: UUID
    new: bool
    fields: dict[str, Any]


class PlannedProduct(NamedTuple):
    """A product an import writes: the sheet's row naming it, its id, whether it is new, and its fields."""

    row: int
    id: UUID
    new: bool
    fields: dict[str, Any]


@dataclass
class ImportPlan:
    """What an import writes."""

    producers: list[PlannedProducer] = field(default_factory=list)
    products: list[PlannedProduct] = field(default_factory=list)


def plan_import(
    province_code: str,
    rows: list[SheetRow],
    producers: Mapping[UUID, StoredRow],
    products: Mapping[UUID, StoredRow],
) -> ImportPlan:
    """The writes that make the registry match `rows`, given the province's `producers` and the
    `products` the rows name (current fields by id). Problems with every problem of every row."""
    problems: list[Problem] = []
    by_name: dict[str, list[UUID]] = {}
    for producer_id, producer in producers.items():
        by_name.setdefault(normalized_name(producer["name"]), []).append(producer_id)

    # Which producer each row names, and that producer's details from every row naming it.
    row_producer: dict[int, UUID | str | None] = {}
    details: dict[UUID | str, tuple[int, dict[str, str]]] = {}
    for row in rows:
        key = _producer_key(row, producers, by_name, problems)
        row_producer[row.number] = key
        if key is None:
            continue
        given = {c: row.cells[c] for c in PRODUCER_COLUMNS if c in row.cells}
        first_row, known = details.setdefault(key, (row.number, {}))
        for column, value in given.items():
            if normalized_name(known.setdefault(column, value)) != normalized_name(value):
                problems.append(
                    Problem(
                        ("row", row.number, column),
                        f"differs from row {first_row} for the same producer",
                        "conflict",
                    )
                )

    plan = ImportPlan()
    producer_ids: dict[UUID | str, UUID] = {}
    for key, (first_row, given) in details.items():
        current = producers.get(key) if isinstance(key, UUID) else None
        values: dict[str, str | None] = {PRODUCER_COLUMNS[c]: v for c, v in given.items()}
        if "tambon_code" in values:
            values.setdefault("amphoe_code", None)  # a new tambon brings its own amphoe
        fields = _validated(
            ProducerFields, current, values, first_row, {f: c for c, f in PRODUCER_COLUMNS.items()}, problems
        )
        if fields is not None:
            problems += location_problems(
                province_code, fields["amphoe_code"], fields["tambon_code"], at=("row", first_row)
            )
        producer_ids[key] = key if isinstance(key, UUID) and current else uuid4()
        if fields is not None:  # else a problem was found: nothing is planned
            plan.producers.append(PlannedProducer(producer_ids[key], current is None, fields))

    seen: dict[UUID, int] = {}
    for row in rows:
        product_id = _product_id(row, products, seen, problems)
        current = products.get(product_id) if product_id else None
        product = {c: v for c, v in row.cells.items() if c in PRODUCT_FIELDS and c != "producer_id"}
        fields = _validated(NewProduct, current, product, row.number, {}, problems)
        key = row_producer[row.number]
        if fields is None:  # a problem was found: nothing is planned
            continue
        if key is not None:
            fields["producer_id"] = producer_ids[key]
        plan.products.append(PlannedProduct(row.number, product_id or uuid4(), current is None, fields))
    if problems:
        raise Problems(sorted(problems, key=lambda p: p.loc[1] if p.loc[0] == "row" else 0))
    return plan


def _producer_key(
    row: SheetRow,
    producers: Mapping[UUID, StoredRow],
    by_name: dict[str, list[UUID]],
    problems: list[Problem],
) -> UUID | str | None:
    """The producer id a row names, the normalized name of a new producer, or None (no producer)."""
    if "producer_id" in row.cells:
        producer_id = as_uuid(row.cells["producer_id"])
        if producer_id in producers:
            return producer_id
        problems.append(
            Problem(("row", row.number, "producer_id"), "no such producer in this province", "unknown")
        )
        return None
    if "producer_name" not in row.cells:
        return None
    name = normalized_name(row.cells["producer_name"])
    matches = by_name.get(name, [])
    if len(matches) > 1:
        problems.append(
            Problem(
                ("row", row.number, "producer_name"),
                f"{len(matches)} producers of this province have this name: give producer_id",
                "ambiguous",
            )
        )
        return None
    return matches[0] if matches else name


def _product_id(
    row: SheetRow, products: Mapping[UUID, StoredRow], seen: dict[UUID, int], problems: list[Problem]
) -> UUID | None:
    if "product_id" not in row.cells:
        return None
    product_id = as_uuid(row.cells["product_id"])
    if product_id is None or product_id not in products:
        problems.append(
            Problem(("row", row.number, "product_id"), "no such product in this province", "unknown")
        )
        return None
    if product_id in seen:
        problems.append(
            Problem(("row", row.number, "product_id"), f"also on row {seen[product_id]}", "duplicate")
        )
    seen.setdefault(product_id, row.number)
    return product_id


def as_uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _validated(
    model: type[BaseModel],
    current: Mapping[str, Any] | None,
    given: Mapping[str, str | None],
    row: int,
    columns: dict[str, str],
    problems: list[Problem],
) -> dict[str, Any] | None:
    """`current` (or nothing) with the row's values, as `model` accepts it; else problems (None)."""
    base = {name: current[name] for name in model.model_fields if current and current.get(name) is not None}
    try:
        return model.model_validate({**base, **given}).model_dump()
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            problems.append(Problem(("row", row, columns.get(name, name)), error["msg"], error["type"]))
        return None


# --- export


def export_table(items: list[dict[str, Any]], lang: Lang) -> list[list[Any]]:
    """Header and rows in the import layout (`items`: products with their producer's columns)."""
    header = [HEADERS_TH[c] if lang is Lang.TH else c for c in COLUMNS]
    return [header, *([_export_value(c, item.get(c), lang) for c in COLUMNS] for item in items)]


def _export_value(column: str, value: Any, lang: Lang) -> Any:
    if value is None:
        return None
    if lang is Lang.TH and column in LABELS:
        return LABELS[column][value]
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, Decimal, date)):
        return value
    return str(value)
