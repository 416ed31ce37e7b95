"""Sales use cases: read models kept from other services' events (`read_models`), the one way a sale
is judged and stored whatever its channel (`recording`), officers' and integrations' commands
(`commands`), the POS ingress from Kafka, HTTP and the held sales (`ingress`), and queries (`queries`).
Write use cases take the caller's unit of work (shared/unit_of_work.py)."""
