"""AsyncAPI 3.0 documents generated from the contract registry: the events on the wire are exactly
the pydantic models in shared/contracts, so the documentation cannot drift from the code.

`python -m shared.asyncapi > docs/asyncapi.json` writes the document for the whole system.
"""

import json
import sys
from typing import Any

from shared import contracts  # noqa: F401  (registers every contract)
from shared.events import Envelope, registered_contracts
from shared.topics import dead_letter_topic


def _message_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}"


def asyncapi_document(
    title: str, produces: list[str] | None = None, consumes: list[str] | None = None
) -> dict[str, Any]:
    """The document for one service (its topics and operations), or for all topics if none are named."""
    by_topic: dict[str, list[tuple[str, int, type]]] = {}
    for (event_type, version), model in sorted(registered_contracts().items()):
        by_topic.setdefault(model.topic, []).append((event_type, version, model))
    named = set(produces or []) | set(consumes or [])
    topics = sorted(t for t in by_topic if not named or t in named)

    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    for topic in topics:
        channel_id = topic.replace(".", "_").replace("-", "_")
        channel_messages = {}
        for event_type, version, model in by_topic[topic]:
            name = _message_name(event_type, version)
            payload_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(payload_schema.pop("$defs", {}))
            schemas[name] = payload_schema
            envelope = Envelope.model_json_schema()
            envelope["properties"]["type"] = {"const": event_type}
            envelope["properties"]["version"] = {"const": version}
            envelope["properties"]["payload"] = {"$ref": f"#/components/schemas/{name}"}
            messages[name] = {
                "name": name,
                "title": model.__name__,
                "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else model.__name__,
                "contentType": "application/json",
                "payload": envelope,
            }
            channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        channels[channel_id] = {
            "address": topic,
            "description": f"Kafka topic {topic}; failed messages go to {dead_letter_topic(topic)}.",
            "messages": channel_messages,
        }

    operations = {}
    for action, names in (("send", produces or []), ("receive", consumes or [])):
        for topic in sorted(set(names) & set(topics)):
            channel_id = topic.replace(".", "_").replace("-", "_")
            operations[f"{action}_{channel_id}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": title,
            "version": "1.0.0",
            "description": "OTOP Mobile events: one JSON envelope, payload named by type and version.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


if __name__ == "__main__":
    json.dump(
        asyncapi_document("OTOP Mobile platform"), sys.stdout, ensure_ascii=False, indent=2, sort_keys=True
    )
    sys.stdout.write("\n")
