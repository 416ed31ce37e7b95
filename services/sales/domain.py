"""Sales rules and value objects: no I/O here."""

import csv
import hashlib
import hmac
import io
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any
from uuid import UUID, uuid5

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.contracts.sales import PosSale
from shared.contracts.scheduling import MarketDayStatus
from shared.errors import Conflict, Invalid, Refused
from shared.events import Envelope, InvalidEvent, parse_event
from shared.secrets import secret_matches

KEY_ID_HEADER = "x-otop-key-id"
SIGNATURE_HEADER = "x-otop-signature"
SALE_ID_NAMESPACE = UUID("6f1c1d36-57a4-4d0b-9a37-6e0a2c1f5a11")


def amount_thb(quantity: Decimal, unit_price_thb: Decimal) -> Decimal:
    return (quantity * unit_price_thb).quantize(Decimal("0.01"), ROUND_HALF_UP)


def pos_sale_id(province_code: str, integration_id: UUID, integration_sale_id: str) -> UUID:
    """The sale id of an integration's sale: the same sale always gets the same id."""
    return uuid5(SALE_ID_NAMESPACE, f"{province_code}/{integration_id}/{integration_sale_id}")


class Refusal(StrEnum):
    """Why a POS sale is not recorded: the `dlq-reason-code` header on the dead-letter topic."""

    UNSIGNED = "unsigned"  # no key id or signature header
    UNKNOWN_KEY = "unknown_key"  # no such key id (or issued under another master key)
    INACTIVE_KEY = "inactive_key"  # the key was revoked
    BAD_SIGNATURE = "bad_signature"  # the signature does not match the body
    PROVINCE_MISMATCH = "province_mismatch"  # the envelope's province is not the key's
    MALFORMED = "malformed"  # not a sales.pos.sale v1 envelope that passes the schema
    FOREIGN_REFERENCE = "foreign_reference"  # the product or market day belongs to another province
    MARKET_DAY_CANCELLED = "market_day_cancelled"
    UNKNOWN_REFERENCE = "unknown_reference"  # product or market day still unknown when the hold ran out


# --- integration keys and signatures


@lru_cache(
    maxsize=1024
)  # derived for every message (a batch's usually share one key); nothing new kept in memory
def signing_key(master_key: str, key_id: str) -> str:
    """An integration's signing key, derived from the service's master key: nothing secret is stored
    per integration, only a hash of this for audit."""
    return hmac.new(master_key.encode(), key_id.encode(), hashlib.sha256).hexdigest()


def signature(key: str, body: bytes) -> str:
    """What an integration puts in the x-otop-signature header: HMAC-SHA256 of the body, hex."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(
    master_key: str, key_id: str | None, given: str | None, key: Mapping[str, Any] | None, body: bytes
) -> Mapping[str, Any]:
    """The integration key `key` (its stored row) once `body` is found signed by it while active; else
    Refused."""
    if not key_id or not given:
        raise Refused(Refusal.UNSIGNED, f"missing {KEY_ID_HEADER} or {SIGNATURE_HEADER} header")
    if key is None:
        raise Refused(Refusal.UNKNOWN_KEY, f"no integration key {key_id[:100]!r}")
    if not key["active"]:
        raise Refused(Refusal.INACTIVE_KEY, f"integration key {key_id!r} was revoked")
    derived = signing_key(master_key, key_id)
    if not secret_matches(derived, key["key_hash"]):
        raise Refused(Refusal.UNKNOWN_KEY, f"integration key {key_id!r} was issued under another master key")
    if not hmac.compare_digest(signature(derived, body).encode(), given.strip().lower().encode()):
        raise Refused(Refusal.BAD_SIGNATURE, "the signature does not match the message body")
    return key


def read_pos_sale(body: bytes, key_province: str) -> tuple[Envelope, PosSale]:
    """The envelope and sale of a signed message, or Refused (malformed, or another province's)."""
    try:
        envelope, payload = parse_event(body, PosSale)
    except InvalidEvent as exc:
        raise Refused(Refusal.MALFORMED, str(exc)) from exc
    if not isinstance(payload, PosSale):
        raise Refused(
            Refusal.MALFORMED,
            f"expected {PosSale.event_type} v{PosSale.event_version}, "
            f"got {envelope.type} v{envelope.version}",
        )
    if envelope.province_code != key_province:
        raise Refused(
            Refusal.PROVINCE_MISMATCH,
            f"the key belongs to province {key_province}, the message names {envelope.province_code}",
        )
    return envelope, payload


# --- references: products and market days as the read models know them


class Verdict(StrEnum):
    RECORD = "record"
    HOLD = "hold"  # a product or market day is not known yet (events can arrive out of order)


def judge(
    province_code: str, product: Mapping[str, Any] | None, market_day: Mapping[str, Any] | None
) -> Verdict:
    """Whether a sale naming this product and market day (read-model rows, None if unknown) can be
    recorded now; Refused if it never can."""
    for what, known in (("product", product), ("market day", market_day)):
        if known is not None and known["province_code"] != province_code:
            raise Refused(Refusal.FOREIGN_REFERENCE, f"the {what} {known['id']} belongs to another province")
    if market_day is not None and market_day["status"] == MarketDayStatus.CANCELLED:
        raise Refused(Refusal.MARKET_DAY_CANCELLED, f"market day {market_day['id']} was cancelled")
    return Verdict.RECORD if product is not None and market_day is not None else Verdict.HOLD


def missing(
    product_id: UUID,
    product: Mapping[str, Any] | None,
    market_day_id: UUID,
    market_day: Mapping[str, Any] | None,
) -> str:
    """What a held sale waits for, e.g. 'product 1f…'."""
    waiting = []
    if product is None:
        waiting.append(f"product {product_id}")
    if market_day is None:
        waiting.append(f"market day {market_day_id}")
    return " and ".join(waiting)


def hold_expired(held_at: datetime, now: datetime, hold_max_s: float) -> bool:
    return now - held_at >= timedelta(seconds=hold_max_s)


# --- what officers submit


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


def officer_sale_id(province_code: str, client_sale_id: UUID) -> UUID:
    """The sale id of an officer's sale sent with its client id: the same sale always gets the same id."""
    return uuid5(SALE_ID_NAMESPACE, f"{province_code}/officer/{client_sale_id}")


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


def corrected(sale: Mapping[str, Any], correction: Correction) -> dict[str, Any]:
    """The sale's new state after `correction`."""
    if sale["voided"]:
        raise Conflict("a voided sale cannot be corrected")
    quantity = correction.quantity if correction.quantity is not None else sale["quantity"]
    price = correction.unit_price_thb if correction.unit_price_thb is not None else sale["unit_price_thb"]
    return {
        **sale,
        "revision": sale["revision"] + 1,
        "quantity": quantity,
        "unit_price_thb": price,
        "amount_thb": amount_thb(quantity, price),
    }


def voided(sale: Mapping[str, Any]) -> dict[str, Any]:
    if sale["voided"]:
        raise Conflict("the sale is already voided")
    return {**sale, "revision": sale["revision"] + 1, "voided": True}


# --- CSV upload

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


# --- totals


class TotalsBy(StrEnum):
    PRODUCT = "product"
    MARKET_DAY = "market_day"
    PRODUCER = "producer"
    VENUE = "venue"
    MONTH = "month"
    CATEGORY = "category"
