"""What a caller may search by: query-string models (unknown parameters are refused)."""

from uuid import UUID

from pydantic import Field

from services.registry.domain.catalogue import AmphoeCode, TambonCode
from shared.contracts.registry import (
    MentoringGroupStatus,
    ProducerType,
    ProductCategory,
    ProductStatus,
    Quadrant,
)
from shared.events import ProvinceCode
from shared.inputs import Input


class Paged(Input):
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)


class ProductFilter(Input):
    q: str | None = Field(
        default=None, min_length=1, max_length=100, description="Part of the product or producer name"
    )
    category: list[ProductCategory] = []
    star_min: int | None = Field(default=None, ge=1, le=5)
    star_max: int | None = Field(default=None, ge=1, le=5)
    quadrant: list[Quadrant] = []
    nawatwithi: bool | None = None
    available: bool | None = Field(
        default=None, description="Whether its producer is available (no producer: yes)"
    )
    status: list[ProductStatus] = []
    producer_id: UUID | None = None
    amphoe_code: AmphoeCode | None = Field(default=None, description="Of its producer")


class ProductSearch(ProductFilter, Paged):
    pass


class NationalProductSearch(ProductSearch):
    province: list[ProvinceCode] = Field(default=[], description="Only these provinces (all if none)")


class ProducerSearch(Paged):
    q: str | None = Field(default=None, min_length=1, max_length=100, description="Part of the name")
    producer_type: list[ProducerType] = []
    experienced: bool | None = None
    available: bool | None = None
    amphoe_code: AmphoeCode | None = None
    tambon_code: TambonCode | None = None
    category: list[ProductCategory] = Field(default=[], description="Has an active product of one of these")


class MentoringSearch(Paged):
    category: list[ProductCategory] = []
    status: list[MentoringGroupStatus] = []
    producer_id: UUID | None = Field(
        default=None, description="Groups this producer mentors or is mentored in"
    )
