"""The registry's producers and products and the sales service's recent sales, from their events
(selection ranks from them; no synchronous calls to other services)."""

from collections.abc import Sequence

from aiokafka import ConsumerRecord
from sqlalchemy import Table

from services.scheduling import tables
from shared.batch import Rejection, claimed_events
from shared.contracts.registry import ProducerState, ProductState
from shared.contracts.sales import SaleState, SaleVoided
from shared.events import Envelope
from shared.read_models import keep_newest
from shared.unit_of_work import UnitOfWork


def producer_row(envelope: Envelope, event: ProducerState) -> dict:
    """The producers read model's row of a producer event (kept by shared.read_models.newest_state)."""
    return {
        "id": event.producer_id,
        "province_code": envelope.province_code,
        **event.model_dump(
            include={
                "revision",
                "name",
                "available",
                "unavailable_reason",
                "unavailable_from",
                "unavailable_until",
            }
        ),
    }


def product_row(envelope: Envelope, event: ProductState) -> dict:
    return {
        "id": event.product_id,
        "province_code": envelope.province_code,
        **event.model_dump(
            include={
                "revision",
                "producer_id",
                "name",
                "category",
                "star_level",
                "quadrant",
                "nawatwithi",
                "status",
            }
        ),
    }


async def sales_changed(
    inbox: Table, consumer: str, uow: UnitOfWork, records: Sequence[ConsumerRecord]
) -> list[Rejection]:
    """The recent-sales read model, a batch of sale events at a time (the busiest stream): each sale's
    newest revision (corrections and voids replace it), so recent totals stay exact."""
    events, rejections = await claimed_events(uow.session, inbox, consumer, records, SaleState)
    rows = [
        {
            "id": event.sale_id,
            "province_code": envelope.province_code,
            "voided": event.voided or isinstance(event, SaleVoided),
            **event.model_dump(include={"revision", "product_id", "market_day_id", "amount_thb", "sold_at"}),
        }
        for envelope, event in events
    ]
    await keep_newest(uow.session, tables.sales, rows)
    return rejections
