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
    """One sale as an external POS integration reports it. `integration_sale_id` is the idempotency key.

    Published on the ingress topic inside the standard envelope (whose `province_code` is the
    integration's province), signed with the integration's key: see README, "POS integration contract".
    """

    integration_sale_id: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00]+$",
        description=(
            "The integration's own id for this sale, unique within the integration: the idempotency key "
            "(the same id sent again is counted once)"
        ),
    )
    market_day_id: UUID = Field(description="The market day (from the scheduling service's events)")
    product_id: UUID = Field(description="The product (from the registry service's events)")
    quantity: Decimal = Field(
        gt=0, max_digits=12, decimal_places=3, description="Units sold, in the product's unit"
    )
    unit_price_thb: Decimal = Field(
        ge=0, max_digits=12, decimal_places=2, description="Price of one unit, in baht"
    )
    sold_at: AwareDatetime = Field(description="When the sale was made, with its UTC offset (e.g. +07:00)")

    def key(self) -> str:
        return self.integration_sale_id
