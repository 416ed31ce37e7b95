"""What officers send: the request bodies (pydantic models that validate them) and the CSV upload's
parsing. An adapter of the API; the domain never imports it."""

import csv
import io
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.errors import Invalid

# PostgreSQL text cannot hold NUL: refused as input (422), not by the database (500).
StorableText = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^\x00]+$")]


class NewSale(BaseModel):
    """A sale an officer records for a product on a market day of the province."""

    model_config = ConfigDict(extra="forbid")

    product_id: UUID
    market_day_id: UUID
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3, description="Units sold")
    unit_price_thb: Decimal | None = Field(
        default=None,
        ge=0,
        max_digits=12,
        decimal_places=2,
        description="Defaults to the product's registered price",
    )
    sold_at: AwareDatetime | None = Field(default=None, description="Defaults to the time of recording")
    client_sale_id: UUID | None = Field(
        default=None,
        description=(
            "The device's own id for this sale (idempotency key): sent again, after a lost answer or from an "
            "offline "
            "queue, it is recorded once and the answer is the sale as first recorded"
        ),
    )


class SaleBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sales: list[NewSale] = Field(min_length=1, max_length=1000)


class Correction(BaseModel):
    """New quantity and/or unit price of a sale, and why."""

    model_config = ConfigDict(extra="forbid")

    quantity: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=3)
    unit_price_thb: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    reason: StorableText

    @model_validator(mode="after")
    def _changes_something(self) -> "Correction":
        if self.quantity is None and self.unit_price_thb is None:
            raise ValueError("give a new quantity, a new unit_price_thb, or both")
        return self


class Void(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: StorableText


CSV_COLUMNS = ("product_id", "market_day_id", "quantity", "unit_price_thb", "sold_at")


CSV_MAX_ROWS = 5000


def parse_csv(data: bytes) -> tuple[list[NewSale], list[int]]:
    """Sales from a CSV file (UTF-8, a header row naming CSV_COLUMNS; unit_price_thb and sold_at may
    be left empty) and the line each came from; Invalid lists every bad row (loc: ["csv", line, column])."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid([{"loc": ["csv"], "msg": f"not UTF-8: {exc}", "type": "encoding"}]) from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    absent = [c for c in CSV_COLUMNS[:3] if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if absent or unknown:
        raise Invalid(
            [
                {
                    "loc": ["csv", 1],
                    "type": "header",
                    "msg": f"header must name {', '.join(CSV_COLUMNS)}; missing {absent}, unknown {unknown}",
                }
            ]
        )
    reader.fieldnames = header
    sales: list[NewSale] = []
    lines: list[int] = []
    errors: list[dict[str, Any]] = []
    for count, row in enumerate(reader, start=1):
        if count > CSV_MAX_ROWS:
            raise Invalid([{"loc": ["csv"], "msg": f"at most {CSV_MAX_ROWS} rows", "type": "too_long"}])
        values = {k: v.strip() for k, v in row.items() if k is not None and v is not None and v.strip()}
        try:
            sales.append(NewSale.model_validate(values))
            lines.append(reader.line_num)
        except ValidationError as exc:
            errors.extend(
                {"loc": ["csv", reader.line_num, *err["loc"]], "msg": err["msg"], "type": err["type"]}
                for err in exc.errors()
            )
    if errors:
        raise Invalid(errors)
    if not sales:
        raise Invalid([{"loc": ["csv"], "msg": "no rows", "type": "empty"}])
    return sales, lines
