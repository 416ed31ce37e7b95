"""Kafka topic names: one topic per stream, keyed by aggregate id."""

REGISTRY_PRODUCERS = "otop.registry.producers"  # key: producer_id
REGISTRY_PRODUCTS = "otop.registry.products"  # key: product_id
REGISTRY_MENTORING = "otop.registry.mentoring-groups"  # key: group_id
SCHEDULING_VENUES = "otop.scheduling.venues"  # key: venue_id
SCHEDULING_PLANS = "otop.scheduling.plans"  # key: plan_id
SCHEDULING_MARKET_DAYS = (
    "otop.scheduling.market-days"  # key: market_day_id (lineup, invitations, attendance too)
)
SALES_RECORDED = "otop.sales.recorded"  # key: sale_id; canonical sales
SALES_INGRESS = "otop.sales.ingress"  # external POS integrations publish here (signed messages)
MONITORING_EVALUATIONS = "otop.monitoring.evaluations"  # key: evaluation_id
BUDGET_PROPOSALS = "otop.budget.proposals"  # key: proposal_id; every version, submission and decision
BUDGET_SPENDING = "otop.budget.spending"  # key: purchase_id; materials and other spending against a line
BUDGET_MATERIALS = "otop.budget.materials"  # key: stock_id or market_day_id; inventory, packing lists


def dead_letter_topic(topic: str) -> str:
    """Where a consumer parks messages of `topic` it cannot process."""
    return f"{topic}.dlq"
