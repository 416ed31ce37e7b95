"""Events published by the registry service.

Producer and product events carry the aggregate's full state and a `revision` (1, 2, ...), so a read
model applies an event only when its revision is newer than what it holds: redelivery and
reordering leave it correct.
"""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from shared import topics
from shared.events import Payload, contract


class ProducerType(StrEnum):
    COMMUNITY_GROUP = "community_group"  # กลุ่มผู้ผลิตชุมชน
    SINGLE_OWNER = "single_owner"  # ผู้ผลิตชุมชนที่เป็นเจ้าของรายเดียว
    SME = "sme"  # วิสาหกิจขนาดกลางและขนาดย่อม


class ProductCategory(StrEnum):
    FOOD = "food"  # อาหาร
    BEVERAGE = "beverage"  # เครื่องดื่ม
    TEXTILE = "textile"  # ผ้าและเครื่องแต่งกาย
    HOUSEWARE = "houseware"  # ของใช้ ของตกแต่ง ของที่ระลึก
    HERBAL = "herbal"  # สมุนไพรที่ไม่ใช่อาหาร


class Quadrant(StrEnum):
    A = "A"  # กลุ่มพัฒนาสู่สากล
    B = "B"  # กลุ่มเอกลักษณ์สร้างคุณค่า
    C = "C"  # กลุ่มพัฒนาสู่ความพร้อม
    D = "D"  # กลุ่มปรับตัวสู่การพัฒนา: the programme's first priority


class ProductStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class ProducerState(Payload):
    producer_id: UUID
    revision: int = Field(ge=1)
    name: str = Field(min_length=1)
    producer_type: ProducerType
    amphoe_code: str | None = Field(default=None, pattern=r"^[0-9]{4}$")
    tambon_code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    experienced: bool = Field(description="False for a new producer, or one without selling experience")
    available: bool = True
    unavailable_reason: str | None = Field(default=None, description="e.g. raw-material shortage")
    unavailable_until: date | None = None
    unavailable_from: date | None = None
    contact_name: str | None = None
    phone: str | None = None
    public_contact_consent: bool = Field(
        default=False, description="The producer agreed to show their contact name and phone on public pages"
    )

    def key(self) -> str:
        return str(self.producer_id)


@contract("registry.producer.registered", 1, topics.REGISTRY_PRODUCERS)
class ProducerRegistered(ProducerState):
    pass


@contract("registry.producer.updated", 1, topics.REGISTRY_PRODUCERS)
class ProducerUpdated(ProducerState):
    """Any change, availability included: the full new state."""


class ProductState(Payload):
    product_id: UUID
    revision: int = Field(default=1, ge=1)
    producer_id: UUID | None = None
    name: str = Field(min_length=1)
    category: ProductCategory
    star_level: int = Field(ge=1, le=5)
    star_year: int | None = Field(default=None, description="Year (BE) the star level was graded")
    quadrant: Quadrant
    nawatwithi: bool = Field(description="Product of an OTOP Nawatwithi tourism community")
    price_thb: Decimal = Field(ge=0)
    unit: str = Field(min_length=1)
    status: ProductStatus = ProductStatus.ACTIVE
    photo_id: UUID | None = Field(
        default=None, description="The product's photo (registry's /photos/{photo_id}/{size}.jpg)"
    )

    def key(self) -> str:
        return str(self.product_id)


@contract("registry.product.registered", 1, topics.REGISTRY_PRODUCTS)
class ProductRegistered(ProductState):
    pass


@contract("registry.product.updated", 1, topics.REGISTRY_PRODUCTS)
class ProductUpdated(ProductState):
    """Any change, withdrawal included: the full new state."""


class MentoringGroupStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class MentoringGroupState(Payload):
    """A group in which experienced producers mentor new ones of the same province and category
    (the seed's recommendation: กลุ่มแลกเปลี่ยนเรียนรู้ระหว่างผู้ประกอบการรายเก่าและรายใหม่)."""

    group_id: UUID
    revision: int = Field(ge=1)
    name: str = Field(min_length=1)
    category: ProductCategory
    mentor_ids: list[UUID] = Field(min_length=1, description="Experienced producers")
    mentee_ids: list[UUID] = Field(min_length=1, description="New producers")
    status: MentoringGroupStatus = MentoringGroupStatus.ACTIVE

    def key(self) -> str:
        return str(self.group_id)


@contract("registry.mentoring_group.formed", 1, topics.REGISTRY_MENTORING)
class MentoringGroupFormed(MentoringGroupState):
    pass


@contract("registry.mentoring_group.updated", 1, topics.REGISTRY_MENTORING)
class MentoringGroupUpdated(MentoringGroupState):
    """Any change, membership and closing included: the full new state."""
