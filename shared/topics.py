"""Kafka topic names: one topic per stream, keyed by aggregate id."""

REGISTRY_PRODUCERS = "otop.registry.producers"
REGISTRY_PRODUCTS = "otop.registry.products"
SCHEDULING_MARKET_DAYS = "otop.scheduling.market-days"
SALES_RECORDED = "otop.sales.recorded"
SALES_INGRESS = "otop.sales.ingress"  # external POS integrations publish here
MONITORING_EVALUATIONS = "otop.monitoring.evaluations"


def dead_letter_topic(topic: str) -> str:
    """Where a consumer parks messages of `topic` it cannot process."""
    return f"{topic}.dlq"
