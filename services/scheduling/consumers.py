"""Scheduling's Kafka subscribers: read models of the registry's producers and products and of the sales
service's sales (selection ranks from them; no synchronous calls to other services)."""

from functools import partial

from services.scheduling import tables
from services.scheduling.handlers import read_models
from shared import topics
from shared.batch import BatchConsumer
from shared.contracts.registry import ProducerState, ProductState
from shared.read_models import newest_state
from shared.service import Database
from shared.settings import ServiceSettings


def consumers(db: Database, settings: ServiceSettings) -> list[BatchConsumer]:
    retries = settings.retry_options()

    def read_model(purpose: str, topic: str, table, state, row_of) -> BatchConsumer:
        group_id = f"scheduling.{purpose}"
        return BatchConsumer(
            group_id=group_id,
            topic=topic,
            unit_of_work=db.unit_of_work,
            handler=newest_state(db.inbox, group_id, table, state, row_of),
            **retries,
        )

    return [
        # A registry import publishes thousands of events at once: read models a batch at a time.
        read_model(
            "producers", topics.REGISTRY_PRODUCERS, tables.producers, ProducerState, read_models.producer_row
        ),
        read_model(
            "products", topics.REGISTRY_PRODUCTS, tables.products, ProductState, read_models.product_row
        ),
        # Sales, the busiest stream, a batch at a time (one transaction, bulk claim and upsert).
        BatchConsumer(
            group_id="scheduling.sales",
            topic=topics.SALES_RECORDED,
            unit_of_work=db.unit_of_work,
            handler=partial(read_models.sales_changed, db.inbox, "scheduling.sales"),
            **retries,
        ),
    ]
