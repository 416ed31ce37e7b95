"""Versioned event payloads, one module per producing service. Importing this package registers them all."""

from shared.contracts import budget, monitoring, registry, sales, scheduling  # noqa: F401
