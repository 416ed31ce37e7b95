"""Monitoring use cases: read models kept from other services' events (`read_models`), the
committee's records (`records`, `evaluations`), and the reports made from both (`reports`)."""
