"""The POS ingress contract as a standalone JSON Schema (the envelope with a sales.pos.sale v1
payload), generated from the pydantic models through the AsyncAPI generator, so it cannot drift:

    python -m services.sales.contract > docs/schemas/sales.pos.sale.v1.json
"""

import json
import sys

from shared.asyncapi import asyncapi_document
from shared.contracts.sales import PosSale

SCHEMA_NAME = f"{PosSale.event_type}.v{PosSale.event_version}"


def pos_sale_schema() -> dict:
    document = asyncapi_document("POS ingress", consumes=[PosSale.topic])
    message = document["components"]["messages"][SCHEMA_NAME]
    schema = {
        **message["payload"],
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{SCHEMA_NAME}: {message['summary']}",
        "description": f"One message on the Kafka topic {PosSale.topic} (or one item of the HTTP batch "
        "POST /provinces/{province_code}/integration/sales); see README, POS integration contract.",
        "$defs": document["components"]["schemas"],
    }
    return json.loads(json.dumps(schema).replace("#/components/schemas/", "#/$defs/"))


def pos_sale_schema_inline() -> dict:
    """The same schema with its $defs written in place: for the OpenAPI document, where a reference must
    resolve within that document."""
    schema = pos_sale_schema()
    defs = schema.pop("$defs")
    schema.pop("$schema")

    def inline(node):
        if isinstance(node, dict):
            if set(node) == {"$ref"} and node["$ref"].startswith("#/$defs/"):
                return inline(defs[node["$ref"].removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(schema)


if __name__ == "__main__":
    json.dump(pos_sale_schema(), sys.stdout, ensure_ascii=False, indent=2, sort_keys=True)
    sys.stdout.write("\n")
