"""Events published by the registry service."""

from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from shared import topics
from shared.events import Payload, contract


class ProductCategory(StrEnum):
    FOOD = "food"  # อาหาร
    BEVERAGE = "beverage"  # เครื่องดื่ม
    TEXTILE = "textile"  # ผ้าและเครื่องแต่งกาย
    HOUSEWARE = "houseware"  # ของใช้ ของตกแต่ง ของที่ระลึก
    HERBAL = "herbal"  # สมุนไพรที่ไม่ใช่อาหาร


class Quadrant(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"  # กลุ่มปรับตัวสู่การพัฒนา: the programme's first priority


@contract("registry.product.registered", 1, topics.REGISTRY_PRODUCTS)
class ProductRegistered(Payload):
    product_id: UUID
    name: str = Field(min_length=1)
    category: ProductCategory
    star_level: int = Field(ge=1, le=5)
    quadrant: Quadrant
    nawatwithi: bool
    price_thb: Decimal = Field(ge=0)
    unit: str = Field(min_length=1)

    def key(self) -> str:
        return str(self.product_id)
