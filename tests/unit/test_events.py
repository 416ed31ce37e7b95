import json
from decimal import Decimal
from uuid import uuid4

import pytest

from shared.contracts.registry import ProductCategory, ProductRegistered, Quadrant
from shared.events import InvalidEvent, envelope_for, parse_event


def product_event() -> ProductRegistered:
    return ProductRegistered(
        product_id=uuid4(),
        name="ข้าวเกรียบปลา",
        category=ProductCategory.FOOD,
        star_level=2,
        quadrant=Quadrant.D,
        nawatwithi=True,
        price_thb=Decimal("35.00"),
        unit="ถุง",
    )


def test_round_trip_keeps_payload_and_envelope():
    payload = product_event()
    envelope = envelope_for(payload, province_code="72", source="registry")
    parsed_envelope, parsed_payload = parse_event(envelope.model_dump_json().encode())
    assert parsed_envelope == envelope
    assert parsed_payload == payload
    assert parsed_envelope.type == "registry.product.registered" and parsed_envelope.version == 1


def test_unknown_event_type_is_skipped_not_rejected():
    envelope = envelope_for(product_event(), province_code="72", source="registry")
    raw = json.loads(envelope.model_dump_json())
    raw["type"] = "registry.product.renamed"
    parsed_envelope, payload = parse_event(json.dumps(raw).encode())
    assert payload is None and parsed_envelope.type == "registry.product.renamed"


def test_added_fields_are_tolerated():
    envelope = envelope_for(product_event(), province_code="72", source="registry")
    raw = json.loads(envelope.model_dump_json())
    raw["payload"]["barcode"] = "885000"
    raw["new_envelope_field"] = 1
    _, payload = parse_event(json.dumps(raw).encode())
    assert payload.model_dump(mode="json") == envelope.payload


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda raw: b"not json", "envelope"),
        (lambda raw: json.dumps({**raw, "province_code": "7"}).encode(), "province_code"),
        (lambda raw: json.dumps({k: v for k, v in raw.items() if k != "event_id"}).encode(), "event_id"),
        (
            lambda raw: json.dumps({**raw, "payload": {**raw["payload"], "star_level": 9}}).encode(),
            "star_level",
        ),
        (
            lambda raw: json.dumps({**raw, "payload": {**raw["payload"], "quadrant": "E"}}).encode(),
            "quadrant",
        ),
    ],
)
def test_malformed_events_are_rejected_with_a_reason(mutate, reason):
    raw = json.loads(envelope_for(product_event(), province_code="72", source="registry").model_dump_json())
    with pytest.raises(InvalidEvent, match=reason):
        parse_event(mutate(raw))
