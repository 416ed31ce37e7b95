"""Sales rules and value objects: no I/O here."""

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from shared.contracts.sales import PosSale
from shared.contracts.scheduling import MarketDayStatus
from shared.errors import Conflict, Refused
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


def judge_held(
    province_code: str,
    sale: PosSale,
    product: Mapping[str, Any] | None,
    market_day: Mapping[str, Any] | None,
    *,
    key_id: str,
    key_active: bool,
    held_at: datetime,
    now: datetime,
    hold_max_s: float,
) -> Verdict:
    """A held sale judged again, as `judge` judges a new one, except that it is Refused when its
    integration key was revoked while it was held, or when it would wait beyond `hold_max_s`."""
    if not key_active:  # revoked while the sale was held: it is not recorded
        raise Refused(Refusal.INACTIVE_KEY, f"integration key {key_id!r} was revoked while the sale was held")
    verdict = judge(province_code, product, market_day)
    if verdict is Verdict.HOLD and hold_expired(held_at, now, hold_max_s):
        waiting = missing(sale.product_id, product, sale.market_day_id, market_day)
        raise Refused(Refusal.UNKNOWN_REFERENCE, f"{waiting} still unknown after {hold_max_s:g}s")
    return verdict


# --- officers' sales


def officer_sale_id(province_code: str, client_sale_id: UUID) -> UUID:
    """The sale id of an officer's sale sent with its client id: the same sale always gets the same id."""
    return uuid5(SALE_ID_NAMESPACE, f"{province_code}/officer/{client_sale_id}")


def corrected(
    sale: Mapping[str, Any], quantity: Decimal | None, unit_price_thb: Decimal | None
) -> dict[str, Any]:
    """The sale's new state with a new quantity and/or unit price (None: unchanged)."""
    if sale["voided"]:
        raise Conflict("a voided sale cannot be corrected")
    quantity = sale["quantity"] if quantity is None else quantity
    price = sale["unit_price_thb"] if unit_price_thb is None else unit_price_thb
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


# --- totals


class TotalsBy(StrEnum):
    PRODUCT = "product"
    MARKET_DAY = "market_day"
    PRODUCER = "producer"
    VENUE = "venue"
    MONTH = "month"
    CATEGORY = "category"
