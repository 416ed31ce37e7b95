"""What callers send the budget service: request bodies, and the receipt files they upload."""

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from PIL import Image, UnidentifiedImageError
from pydantic import Field

from shared.contracts.budget import Activity, Baht, BudgetCategory, BudgetLine, MaterialKind
from shared.errors import Invalid, Refused
from shared.inputs import Input

RECEIPT_MAX_BYTES = 5_000_000
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class ProposalIn(Input):
    """A version of the season's proposal: the plan table and the budget lines."""

    name: str = Field(min_length=1, max_length=300, examples=["โครงการ OTOP เคลื่อนที่ (OTOP Mobile)"])
    fiscal_year: int = Field(ge=2500, le=2700, description="Buddhist Era, e.g. 2562")
    activities: list[Activity] = Field(min_length=1, max_length=50)
    lines: list[BudgetLine] = Field(min_length=1, max_length=20)


class DecisionIn(Input):
    comment: str | None = Field(default=None, max_length=2000)


class ReturnIn(Input):
    comment: str = Field(min_length=1, max_length=2000, description="What the province must change")


class PurchaseIn(Input):
    """Items requested under an approved line: `quantity` × `unit_cost_thb`."""

    category: BudgetCategory
    name: str = Field(min_length=1, max_length=300, examples=["ธงญี่ปุ่น ขนาด 150 × 50 ซม."])
    kind: MaterialKind | None = None
    quantity: int = Field(ge=1, le=100_000)
    unit_cost_thb: Baht
    market_day_id: UUID | None = None


class BoughtIn(Input):
    bought_on: date
    supplier: str = Field(min_length=1, max_length=300)
    amount_thb: Baht


class ReceivedIn(Input):
    received_on: date


class StockIn(Input):
    """Reusable materials the province already owns (bought in an earlier season)."""

    kind: MaterialKind
    quantity: int = Field(ge=1, le=100_000)
    reason: str = Field(min_length=1, max_length=500)


class WriteOffIn(Input):
    quantity: int = Field(ge=1, le=100_000)
    reason: str = Field(min_length=1, max_length=500, examples=["ชำรุด ขาดระหว่างขนย้าย"])


class PackingCheckIn(Input):
    kind: MaterialKind
    loaded: bool | None = None
    returned: bool | None = None


@dataclass(frozen=True)
class Receipt:
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def read_receipt(body: bytes) -> Receipt:
    """A scan of a receipt: an image Pillow can read whole, or a PDF, within RECEIPT_MAX_BYTES. The type is
    what the bytes are, not what the caller claimed."""
    if not body:
        raise Invalid.at(("body",), "the receipt is empty")
    if len(body) > RECEIPT_MAX_BYTES:
        raise Refused("receipt_too_large", f"a receipt is at most {RECEIPT_MAX_BYTES} bytes", 413)
    if body.startswith(b"%PDF-"):
        if b"%%EOF" not in body[-1024:]:
            raise Refused("receipt_incomplete", "the PDF is incomplete (no %%EOF at its end)", 415)
        return Receipt("application/pdf", body)
    try:
        with Image.open(io.BytesIO(body)) as image:
            found = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise Refused("receipt_not_accepted", "send a JPEG, PNG or WebP image or a PDF", 415) from error
    if found not in IMAGE_TYPES:
        raise Refused(
            "receipt_not_accepted", f"{found} images are not accepted: send JPEG, PNG, WebP or PDF", 415
        )
    return Receipt(IMAGE_TYPES[found], body)
