import json
from decimal import Decimal
from uuid import uuid4

import jsonschema

from shared.asyncapi import asyncapi_document
from shared.contracts.registry import ProductRegistered
from shared.events import envelope_for, registered_contracts
from shared.topics import REGISTRY_PRODUCTS, SALES_INGRESS


def test_every_registered_contract_is_documented_on_its_topic():
    document = asyncapi_document("all")
    addresses = {channel["address"]: channel for channel in document["channels"].values()}
    for (event_type, version), model in registered_contracts().items():
        name = f"{event_type}.v{version}"
        assert name in document["components"]["messages"]
        assert name in addresses[model.topic]["messages"]


def test_a_real_event_validates_against_its_documented_schema():
    document = asyncapi_document("all")
    payload = ProductRegistered(
        product_id=uuid4(),
        name="น้ำพริกเผา",
        category="food",
        star_level=1,
        quadrant="D",
        nawatwithi=False,
        price_thb=Decimal("60"),
        unit="กระปุก",
    )
    event = json.loads(envelope_for(payload, province_code="72", source="registry").model_dump_json())
    message_schema = document["components"]["messages"]["registry.product.registered.v1"]["payload"]
    # Resolve the document's "#/components/..." references against the whole document.
    schema = {**message_schema, "components": document["components"]}
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(event)
    event["payload"]["star_level"] = 6
    assert not validator.is_valid(event)


def test_service_document_lists_only_its_operations():
    document = asyncapi_document("registry", produces=[REGISTRY_PRODUCTS], consumes=[])
    assert [op["action"] for op in document["operations"].values()] == ["send"]
    assert all(channel["address"] != SALES_INGRESS for channel in document["channels"].values())
