"""The sales service's Kafka subscribers: read models of products and market days, and the POS ingress."""

import logging
from functools import partial

from services.sales import tables
from services.sales.config import SalesSettings
from services.sales.handlers import ingress, read_models
from shared import topics
from shared.batch import BatchConsumer
from shared.contracts.registry import ProductState
from shared.contracts.scheduling import MarketDayState
from shared.read_models import newest_state
from shared.service import Database
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


def consumers(db: Database, settings: ServiceSettings) -> list[BatchConsumer]:
    settings = SalesSettings.of(settings)
    retries = settings.retry_options()
    read_model_consumers = [
        # A registry import publishes thousands of products at once: a batch at a time; held sales waiting on
        # one of them are retried now.
        BatchConsumer(
            group_id="sales.products",
            topic=topics.REGISTRY_PRODUCTS,
            unit_of_work=db.unit_of_work,
            handler=newest_state(
                db.inbox,
                "sales.products",
                tables.products,
                ProductState,
                read_models.product_row,
                after=read_models.products_arrived,
            ),
            **retries,
        ),
        # The market days' topic carries every invitation too: a batch at a time, those pass by.
        BatchConsumer(
            group_id="sales.market_days",
            topic=topics.SCHEDULING_MARKET_DAYS,
            unit_of_work=db.unit_of_work,
            handler=newest_state(
                db.inbox,
                "sales.market_days",
                tables.market_days,
                MarketDayState,
                read_models.market_day_row,
                after=read_models.market_days_arrived,
            ),
            **retries,
        ),
    ]
    if settings.master_key() is None:
        log.warning("OTOP_SALES_SIGNING_MASTER_KEY is not set: the POS ingress topic is not consumed")
        return read_model_consumers
    return [
        *read_model_consumers,
        BatchConsumer(
            group_id="sales.ingress",
            topic=topics.SALES_INGRESS,
            unit_of_work=db.unit_of_work,
            handler=partial(ingress.ingest_records, settings),
            max_records=settings.sales_ingest_max_records,
            **retries,
        ),
    ]
