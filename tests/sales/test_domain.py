"""Sales rules, without I/O."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from services.sales.domain import (
    Refusal,
    Verdict,
    amount_thb,
    corrected,
    hold_expired,
    judge,
    judge_held,
    pos_sale_id,
    read_pos_sale,
    signature,
    signing_key,
    verify_signature,
    voided,
)
from services.sales.inputs import Correction, parse_csv
from shared.contracts.scheduling import MarketDayStatus
from shared.errors import Conflict, Invalid, Refused
from shared.secrets import hash_secret
from tests.sales.support import pos_body, pos_sale

MASTER = "m" * 32


def key_row(key_id: str, active: bool = True, master: str = MASTER) -> dict:
    return {
        "key_id": key_id,
        "active": active,
        "key_hash": hash_secret(signing_key(master, key_id)),
        "province_code": "72",
        "integration_id": uuid4(),
    }


def refusal(call) -> Refusal:
    with pytest.raises(Refused) as refused:
        call()
    return refused.value.code


def test_amounts_round_half_up_to_the_satang():
    assert amount_thb(Decimal("3"), Decimal("45.00")) == Decimal("135.00")
    assert amount_thb(Decimal("0.125"), Decimal("10.00")) == Decimal("1.25")
    assert amount_thb(Decimal("0.333"), Decimal("0.05")) == Decimal("0.02")


def test_an_integration_sale_always_gets_the_same_id():
    integration = uuid4()
    assert pos_sale_id("72", integration, "A-1") == pos_sale_id("72", integration, "A-1")
    assert pos_sale_id("72", integration, "A-1") != pos_sale_id("72", uuid4(), "A-1")


def test_signatures_are_checked_against_the_derived_key():
    body, key = b'{"x": 1}', key_row("sk_72_a")
    good = signature(signing_key(MASTER, "sk_72_a"), body)
    verify_signature(MASTER, "sk_72_a", good, key, body)
    verify_signature(MASTER, "sk_72_a", good.upper(), key, body)
    assert refusal(lambda: verify_signature(MASTER, None, good, key, body)) is Refusal.UNSIGNED
    assert refusal(lambda: verify_signature(MASTER, "sk_72_a", "", key, body)) is Refusal.UNSIGNED
    assert refusal(lambda: verify_signature(MASTER, "sk_72_x", good, None, body)) is Refusal.UNKNOWN_KEY
    assert (
        refusal(lambda: verify_signature(MASTER, "sk_72_a", good, key_row("sk_72_a", active=False), body))
        is Refusal.INACTIVE_KEY
    )
    assert (
        refusal(lambda: verify_signature(MASTER, "sk_72_a", good, key_row("sk_72_a", master="o" * 32), body))
        is Refusal.UNKNOWN_KEY
    )
    assert (
        refusal(lambda: verify_signature(MASTER, "sk_72_a", good, key, body + b" ")) is Refusal.BAD_SIGNATURE
    )
    assert (
        refusal(lambda: verify_signature(MASTER, "sk_72_a", "\ufffdไทย", key, body)) is Refusal.BAD_SIGNATURE
    )
    assert signing_key(MASTER, "sk_72_a") != signing_key(MASTER, "sk_72_b")


def test_reading_a_pos_message():
    sale = pos_sale("S-1", uuid4(), uuid4())
    envelope, read = read_pos_sale(pos_body(sale), "72")
    assert read == sale and envelope.province_code == "72"
    assert refusal(lambda: read_pos_sale(pos_body(sale, "10"), "72")) is Refusal.PROVINCE_MISMATCH
    assert refusal(lambda: read_pos_sale(b"[]", "72")) is Refusal.MALFORMED
    wrong_type = pos_body(sale).replace(b'"sales.pos.sale"', b'"sales.sale.recorded"')
    assert refusal(lambda: read_pos_sale(wrong_type, "72")) is Refusal.MALFORMED
    newer = pos_body(sale).replace(b'"version":1', b'"version":2')
    assert refusal(lambda: read_pos_sale(newer, "72")) is Refusal.MALFORMED


def test_judging_references():
    product = {"id": uuid4(), "province_code": "72"}
    day = {"id": uuid4(), "province_code": "72", "status": MarketDayStatus.SCHEDULED}
    assert judge("72", product, day) is Verdict.RECORD
    assert judge("72", None, day) is Verdict.HOLD and judge("72", product, None) is Verdict.HOLD
    assert refusal(lambda: judge("72", {**product, "province_code": "10"}, None)) is Refusal.FOREIGN_REFERENCE
    assert refusal(lambda: judge("72", None, {**day, "status": "cancelled"})) is Refusal.MARKET_DAY_CANCELLED
    now = datetime.now(UTC)
    assert hold_expired(now - timedelta(seconds=10), now, 10) and not hold_expired(
        now - timedelta(seconds=9), now, 10
    )


def test_judging_a_held_sale_again():
    product = {"id": uuid4(), "province_code": "72"}
    day = {"id": uuid4(), "province_code": "72", "status": MarketDayStatus.SCHEDULED}
    sale, now = pos_sale("s-1", product["id"], day["id"]), datetime.now(UTC)

    def again(product, day, key_active=True, held_for=timedelta(seconds=5)):
        return judge_held(
            "72",
            sale,
            product,
            day,
            key_id="k-1",
            key_active=key_active,
            held_at=now - held_for,
            now=now,
            hold_max_s=60,
        )

    assert again(product, day) is Verdict.RECORD
    assert again(None, day) is Verdict.HOLD
    assert refusal(lambda: again(product, day, key_active=False)) is Refusal.INACTIVE_KEY
    assert refusal(lambda: again(None, {**day, "status": "cancelled"})) is Refusal.MARKET_DAY_CANCELLED
    with pytest.raises(Refused) as expired:
        again(None, day, held_for=timedelta(seconds=60))
    assert expired.value.code is Refusal.UNKNOWN_REFERENCE
    assert expired.value.reason == f"product {product['id']} still unknown after 60s"
    assert again(product, day, held_for=timedelta(hours=1)) is Verdict.RECORD  # arrived in the end


def test_corrections_and_voids():
    sale = {"revision": 1, "quantity": Decimal("2"), "unit_price_thb": Decimal("45.00"), "voided": False}
    fixed = corrected(sale, quantity=Decimal("3"), unit_price_thb=None)
    assert (fixed["revision"], fixed["amount_thb"], fixed["unit_price_thb"]) == (
        2,
        Decimal("135.00"),
        Decimal("45.00"),
    )
    gone = voided(fixed)
    assert gone["voided"] and gone["revision"] == 3
    with pytest.raises(Conflict):
        voided(gone)
    with pytest.raises(Conflict):
        corrected(gone, quantity=None, unit_price_thb=Decimal("1"))
    with pytest.raises(ValueError):
        Correction(reason="nothing changes")


def test_csv_rows_and_their_line_numbers():
    product, day = uuid4(), uuid4()
    sales, lines = parse_csv(
        f"product_id,market_day_id,quantity\n{product},{day},2\n\n{product},{day},1.5\n".encode()
    )
    assert [s.quantity for s in sales] == [Decimal("2"), Decimal("1.5")] and lines == [2, 4]
    with pytest.raises(Invalid) as bad:
        parse_csv(f"product_id,market_day_id,quantity,colour\n{product},{day},2,red\n".encode())
    assert bad.value.errors[0]["type"] == "header"
    with pytest.raises(Invalid) as bad:
        parse_csv(b"\xff\xfe")
    assert bad.value.errors[0]["type"] == "encoding"
    with pytest.raises(Invalid) as bad:
        parse_csv(b"product_id,market_day_id,quantity\n")
    assert bad.value.errors[0]["type"] == "empty"
