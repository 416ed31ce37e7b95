"""Scheduling's Kafka subscribers: read models of the registry's producers and products and of the sales
service's sales (selection ranks from them; no synchronous calls to other services)."""

from functools import partial

from services.scheduling import tables
from services.scheduling.handlers import read_models
from shared import topics
from shared.batch import BatchConsumer
from shared.contracts.registry import ProducerState, ProductState
from shared.read_models import States, read_model_consumers
from shared.service import Database
from shared.settings import ServiceSettings

READ_MODELS = {
    "scheduling.producers": States(
        topics.REGISTRY_PRODUCERS, tables.producers, ProducerState, read_models.producer_row
    ),
    "scheduling.products": States(
        topics.REGISTRY_PRODUCTS, tables.products, ProductState, read_models.product_row
    ),
}
SALES_GROUP = "scheduling.sales"


def consumers(db: Database, settings: ServiceSettings) -> list[BatchConsumer]:
    retries = settings.retry_options()
    return [
        *read_model_consumers(db.unit_of_work, db.inbox, retries, READ_MODELS),
        # Sales, the busiest stream, a batch at a time (one transaction, bulk claim and upsert).
        BatchConsumer(
            group_id=SALES_GROUP,
            topic=topics.SALES_RECORDED,
            unit_of_work=db.unit_of_work,
            handler=partial(read_models.sales_changed, db.inbox, SALES_GROUP),
            **retries,
        ),
    ]
