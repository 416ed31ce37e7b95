"""Sales events: the canonical stream the sales service publishes, and the ingress contract that
external POS integrations publish (HMAC-signed; see README)."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared import topics
from shared.events import Payload, contract


class SaleChannel(StrEnum):
    OFFICER = "officer"
    INTEGRATION = "integration"


class SaleState(Payload):
    sale_id: UUID
    revision: int = Field(ge=1)
    market_day_id: UUID
    product_id: UUID
    producer_id: UUID | None = None
    quantity: Decimal = Field(gt=0)
    unit_price_thb: Decimal = Field(ge=0)
    amount_thb: Decimal = Field(ge=0)
    sold_at: datetime
    channel: SaleChannel
    voided: bool = False

    def key(self) -> str:
        return str(self.sale_id)


@contract("sales.sale.recorded", 1, topics.SALES_RECORDED)
class SaleRecorded(SaleState):
    pass


@contract("sales.sale.corrected", 1, topics.SALES_RECORDED)
class SaleCorrected(SaleState):
    reason: str


@contract("sales.sale.voided", 1, topics.SALES_RECORDED)
class SaleVoided(SaleState):
    reason: str


@contract("sales.pos.sale", 1, topics.SALES_INGRESS)
class PosSale(Payload):
    """One sale as an external POS integration reports it. `integration_sale_id` is the idempotency key."""

    integration_sale_id: str = Field(min_length=1, max_length=100)
    market_day_id: UUID
    product_id: UUID
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    unit_price_thb: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    sold_at: AwareDatetime

    def key(self) -> str:
        return self.integration_sale_id
