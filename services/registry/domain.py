"""Registry rules and value objects: no I/O here."""

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.registry import ProductCategory, Quadrant


class NewProduct(BaseModel):
    """What an officer submits to register a product."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=300, description="Product name (Thai)")
    category: ProductCategory
    star_level: int = Field(ge=1, le=5, description="OTOP Product Champion star level")
    quadrant: Quadrant
    nawatwithi: bool = Field(description="Product of an OTOP Nawatwithi tourism community")
    price_thb: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    unit: str = Field(min_length=1, max_length=50)
