"""The sales service's Kafka subscribers: read models of products and market days, and the POS ingress."""

import logging
from functools import partial

from services.sales import handlers
from services.sales.config import SalesSettings
from shared import topics
from shared.batch import BatchConsumer
from shared.consumer import EventConsumer
from shared.contracts.registry import ProductRegistered, ProductUpdated
from shared.contracts.scheduling import (
    MarketDayCancelled,
    MarketDayHeld,
    MarketDayRescheduled,
    MarketDayScheduled,
)
from shared.service import Database
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


def consumers(db: Database, settings: ServiceSettings) -> list[EventConsumer | BatchConsumer]:
    settings = SalesSettings.of(settings)
    retries = settings.retry_options()
    read_models: list[EventConsumer | BatchConsumer] = [
        EventConsumer(
            group_id="sales.products",
            topic=topics.REGISTRY_PRODUCTS,
            sessions=db.sessions,
            inbox=db.inbox,
            handlers={ProductRegistered: handlers.product_changed, ProductUpdated: handlers.product_changed},
            **retries,
        ),
        EventConsumer(
            group_id="sales.market_days",
            topic=topics.SCHEDULING_MARKET_DAYS,
            sessions=db.sessions,
            inbox=db.inbox,
            handlers={
                event: handlers.market_day_changed
                for event in (MarketDayScheduled, MarketDayRescheduled, MarketDayCancelled, MarketDayHeld)
            },
            **retries,
        ),
    ]
    if settings.master_key() is None:
        log.warning("OTOP_SALES_SIGNING_MASTER_KEY is not set: the POS ingress topic is not consumed")
        return read_models
    return [
        *read_models,
        BatchConsumer(
            group_id="sales.ingress",
            topic=topics.SALES_INGRESS,
            sessions=db.sessions,
            handler=partial(handlers.ingest_records, db, settings),
            max_records=settings.sales_ingest_max_records,
            committed=db.relay.wake,
            **retries,
        ),
    ]
