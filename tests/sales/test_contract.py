"""The POS contract as published: the committed JSON Schema is the model's, and the README's example
message and signature test vector are valid."""

import json
import re
from pathlib import Path

import jsonschema

from services.sales.contract import pos_sale_schema
from services.sales.domain import signature
from shared.contracts.sales import PosSale
from shared.events import parse_event

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "docs" / "schemas" / "sales.pos.sale.v1.json"


def readme_section() -> str:
    text = (REPO / "README.md").read_text()
    return text[text.index("## POS integration contract") :]


def test_committed_schema_matches_the_model():
    assert json.loads(SCHEMA.read_text()) == pos_sale_schema(), (
        "regenerate: python -m services.sales.contract > docs/schemas/sales.pos.sale.v1.json"
    )


def test_readme_example_is_valid_by_the_schema_and_the_service():
    example = re.search(r"```json\n(.*?)```", readme_section(), re.S).group(1)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(example), schema)
    envelope, payload = parse_event(example.encode())
    assert isinstance(payload, PosSale) and envelope.province_code == "72"
    missing_product = json.loads(example)
    del missing_product["payload"]["product_id"]
    assert not jsonschema.Draft202012Validator(schema).is_valid(missing_product)


def test_readme_signature_test_vector():
    vector = re.search(r"key `([^`]+)`, body\s+`([^`]+)` → `([0-9a-f]{64})`", readme_section())
    key, body, expected = vector.groups()
    assert signature(key, body.encode()) == expected
