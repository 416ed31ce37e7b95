"""The sales service's Kafka subscribers (read models of products and market days, and the POS ingress) and
its background work (the held sales' retry). They own the units of work the use cases run in."""

import asyncio
import logging
from functools import partial

from faststream.kafka import KafkaBroker

from services.sales import tables
from services.sales.config import SalesSettings
from services.sales.handlers import ingress, read_models
from shared import topics
from shared.batch import BatchConsumer
from shared.consumer import dead_letter
from shared.contracts.registry import ProductState
from shared.contracts.scheduling import MarketDayState
from shared.failures import Backoff, Status, until_done
from shared.read_models import States, read_model_consumers
from shared.service import Database
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


# A registry import publishes thousands of products at once; the market days' topic carries every invitation
# too (those pass by). Held sales waiting on a product or a market day are retried as soon as it arrives.
READ_MODELS = {
    "sales.products": States(
        topics.REGISTRY_PRODUCTS,
        tables.products,
        ProductState,
        read_models.product_row,
        after=read_models.products_arrived,
    ),
    "sales.market_days": States(
        topics.SCHEDULING_MARKET_DAYS,
        tables.market_days,
        MarketDayState,
        read_models.market_day_row,
        after=read_models.market_days_arrived,
    ),
}


def consumers(db: Database, settings: ServiceSettings) -> list[BatchConsumer]:
    settings = SalesSettings.of(settings)
    retries = settings.retry_options()
    for_read_models = read_model_consumers(db.unit_of_work, db.inbox, retries, READ_MODELS)
    if settings.master_key() is None:
        log.warning("OTOP_SALES_SIGNING_MASTER_KEY is not set: the POS ingress topic is not consumed")
        return for_read_models
    return [
        *for_read_models,
        BatchConsumer(
            group_id="sales.ingress",
            topic=topics.SALES_INGRESS,
            unit_of_work=db.unit_of_work,
            handler=partial(ingress.ingest_records, settings),
            max_records=settings.sales_ingest_max_records,
            **retries,
        ),
    ]


class HeldSalesRetry:
    """Re-evaluates held POS sales while the service runs (handlers.ingress.retry_held), one unit of work a
    pass, and dead-letters the sales it refuses before that unit commits, so a failure loses nothing. The
    database or Kafka away (a transient failure) is waited out, backing off, with `status` not ready; any
    other failure is logged and tried again later. A held sale is dead-lettered only by its own verdict,
    never for a failure."""

    def __init__(
        self, db: Database, broker: KafkaBroker, settings: SalesSettings, poll_s: float = 1.0
    ) -> None:
        self._db, self._broker, self._settings, self._poll_s = db, broker, settings, poll_s
        self._backoff = Backoff(poll_s, settings.consumer_max_backoff_s)
        self.status = Status("held-sales", "worker")

    async def run(self) -> None:
        while True:
            try:
                busy = (
                    await until_done(
                        self.retry_due, status=self.status, backoff=self._backoff, label="held sales"
                    )
                    > 0
                )
            except Exception:
                log.error("re-evaluating held sales failed; trying again", exc_info=True)
                busy = False
            if not busy:
                await asyncio.sleep(self._poll_s)

    async def retry_due(self) -> int:
        """One pass over the held sales that are due; how many there were."""
        async with self._db.unit_of_work() as uow:
            count, refused = await ingress.retry_held(uow, self._settings)
            for rejection in refused:
                await dead_letter(
                    self._broker,
                    rejection.record,
                    rejection.reason,
                    code=rejection.code,
                    group_id=ingress.HELD_SALES_GROUP,
                    attempts=rejection.attempts,
                    sessions=self._db.sessions,
                )
        return count


def background(db: Database, broker: KafkaBroker, settings: ServiceSettings) -> list[HeldSalesRetry]:
    return [HeldSalesRetry(db, broker, SalesSettings.of(settings))]
