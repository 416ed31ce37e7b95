"""Producers and products: what an officer submits, the rules it must follow, and where it is.

No I/O here; locations are checked against the DOPA codes the `geothai` package ships (offline data).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import geothai
from pydantic import Field, ValidationInfo, field_validator, model_validator

from shared.contracts.registry import ProducerType, ProductCategory, ProductStatus, Quadrant
from shared.errors import Invalid
from shared.events import ProvinceCode
from shared.inputs import Input
from shared.thailand import BE_OFFSET

FIRST_STAR_YEAR = 2546  # OTOP Product Champion star grading began in 2546 (2003)
AmphoeCode = Annotated[
    str, Field(pattern=r"^[1-9][0-9]{3}$", description="DOPA district (amphoe) code, e.g. 7201")
]
TambonCode = Annotated[
    str, Field(pattern=r"^[1-9][0-9]{5}$", description="DOPA subdistrict (tambon) code, e.g. 720101")
]


@dataclass(frozen=True)
class Problem:
    """Why input is refused: where (`loc`, as FastAPI names it), what, and a stable `type` word."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = "invalid"

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"loc": list(self.loc), "msg": self.msg, "type": self.type}
        if (
            self.loc[0] == "row"
        ):  # a row of an imported file: its number (as the spreadsheet shows it) and column
            found |= {"row": self.loc[1], "field": self.loc[2]}
        return found


class Problems(Invalid):
    """Input that breaks a rule: answered 422 with every problem (by row and column for an imported file)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__([p.as_dict() for p in problems])
        self.problems = problems


class ProducerFields(Input):
    """A producer as an officer registers or replaces it (availability has its own endpoint)."""

    name: str = Field(
        min_length=1, max_length=300, description="Name of the group, person or enterprise (Thai)"
    )
    producer_type: ProducerType
    experienced: bool = Field(description="False for a new producer, or one without selling experience")
    amphoe_code: AmphoeCode | None = Field(default=None, description="Filled from the tambon when left out")
    tambon_code: TambonCode | None = None
    contact_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(
        default=None, pattern=r"^\+?[0-9][0-9 -]{5,19}$", description="e.g. 081-234-5678"
    )
    public_contact_consent: bool = Field(
        default=False, description="The producer agreed to show the contact name and phone on public pages"
    )

    @model_validator(mode="after")
    def _amphoe_from_tambon(self) -> "ProducerFields":
        if self.tambon_code and not self.amphoe_code:
            self.amphoe_code = self.tambon_code[:4]
        return self


class Availability(Input):
    """Whether a producer can take part now, e.g. paused for a raw-material shortage (ขาดวัตถุดิบ)."""

    available: bool = True
    unavailable_reason: str | None = Field(
        default=None,
        max_length=500,
        validate_default=True,
        description="Required when unavailable, e.g. ขาดวัตถุดิบ",
    )
    unavailable_from: date | None = None
    unavailable_until: date | None = Field(default=None, description="Expected date of return")

    @field_validator("unavailable_reason", "unavailable_from", "unavailable_until")
    @classmethod
    def _only_when_unavailable(cls, value: Any, info: ValidationInfo) -> Any:
        available = info.data.get("available", True)
        if available and value is not None:
            raise ValueError("only for an unavailable producer")
        if not available and info.field_name == "unavailable_reason" and not value:
            raise ValueError("say why the producer is unavailable")
        start = info.data.get("unavailable_from")
        if info.field_name == "unavailable_until" and value and start and value < start:
            raise ValueError("must not be before unavailable_from")
        return value


class NewProduct(Input):
    """A product as an officer registers or replaces it."""

    name: str = Field(min_length=1, max_length=300, description="Product name (Thai)")
    category: ProductCategory
    star_level: int = Field(ge=1, le=5, description="OTOP Product Champion star level")
    star_year: int | None = Field(
        default=None, description="Year (Buddhist Era, e.g. 2562) the stars were graded"
    )
    quadrant: Quadrant
    nawatwithi: bool = Field(description="Product of an OTOP Nawatwithi tourism community")
    price_thb: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    unit: str = Field(min_length=1, max_length=50)
    producer_id: UUID | None = Field(default=None, description="A producer of the same province")
    status: ProductStatus = ProductStatus.ACTIVE

    @field_validator("star_year")
    @classmethod
    def _buddhist_era(cls, year: int | None) -> int | None:
        this_year = date.today().year + BE_OFFSET
        if year is not None and not FIRST_STAR_YEAR <= year <= this_year:
            hint = (
                f" (a Buddhist Era year: {year + BE_OFFSET}?)"
                if FIRST_STAR_YEAR - BE_OFFSET <= year < 2200
                else ""
            )
            raise ValueError(f"must be a year from {FIRST_STAR_YEAR} to {this_year}{hint}")
        return year


PRODUCER_FIELDS = tuple(ProducerFields.model_fields)
AVAILABILITY_FIELDS = tuple(Availability.model_fields)
PRODUCT_FIELDS = tuple(NewProduct.model_fields)


def province_exists(province_code: str) -> bool:
    return geothai.province(province_code) is not None


def location_problems(
    province_code: ProvinceCode,
    amphoe_code: str | None,
    tambon_code: str | None,
    at: tuple[str | int, ...] = ("body",),
    names: dict[str, str] | None = None,
) -> list[Problem]:
    """The amphoe must be one of the province's, the tambon one of the amphoe's (DOPA codes)."""
    names = names or {}
    problems = []
    if amphoe_code is not None:
        amphoe = geothai.district(amphoe_code)
        if amphoe is None or amphoe.province_code != province_code:
            problems.append(
                Problem(
                    (*at, names.get("amphoe_code", "amphoe_code")),
                    f"{amphoe_code} is not an amphoe of province {province_code}",
                    "location",
                )
            )
    if tambon_code is not None:
        tambon = geothai.subdistrict(tambon_code)
        if tambon is None or tambon.district_code != amphoe_code:
            problems.append(
                Problem(
                    (*at, names.get("tambon_code", "tambon_code")),
                    f"{tambon_code} is not a tambon of amphoe {amphoe_code}",
                    "location",
                )
            )
    return problems


def normalized_name(name: str) -> str:
    """Names compare without regard to case or repeated spaces."""
    return " ".join(name.split()).casefold()
