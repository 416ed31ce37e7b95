"""The budget's rules without I/O: lines, what a purchase may spend, what a market day packs, receipts."""

import io
from decimal import Decimal

import pytest
from PIL import Image

from services.budget import domain
from services.budget.inputs import read_receipt
from shared.contracts.budget import BudgetCategory, BudgetLine, MaterialKind
from shared.errors import Invalid, Refused


def line(approved: str, committed: str = "0", spent: str = "0") -> domain.LineSpending:
    return domain.LineSpending(
        BudgetCategory.MATERIALS, Decimal(approved), Decimal(committed), Decimal(spent)
    )


def test_a_purchase_fits_its_line_to_the_satang():
    domain.within_line(line("100.00", "30.10", "39.80"), Decimal("30.10"))
    with pytest.raises(Refused) as refused:
        domain.within_line(line("100.00", "30.10", "39.80"), Decimal("30.11"))
    assert refused.value.code == "exceeds_line"
    # Buying what was requested releases the request's own estimate.
    domain.within_line(line("100.00", "30.10", "39.80"), Decimal("60.20"), released=Decimal("30.10"))
    with pytest.raises(Refused):
        domain.within_line(None, Decimal("1"))
    with pytest.raises(Invalid):
        domain.within_line(line("100"), Decimal("-1"))


def test_lines_are_one_per_category_and_exact():
    amounts = domain.check_lines(
        [
            BudgetLine(category="materials", amount_thb="0.10"),
            BudgetLine(category="transport", amount_thb="0.20"),
        ]
    )
    assert domain.total(amounts.values()) == Decimal("0.30")
    with pytest.raises(Invalid):
        domain.check_lines([BudgetLine(category="materials", amount_thb="1")] * 2)


def test_a_lineup_needs_a_table_for_two_products_and_a_tent_for_four():
    needs = domain.packing_needs(21)
    assert (needs[MaterialKind.TABLE], needs[MaterialKind.TENT], needs[MaterialKind.FLAG]) == (11, 6, 1)
    assert domain.shortfall(needs, {MaterialKind.TABLE: 10, MaterialKind.TENT: 6}) == {
        MaterialKind.TABLE: 1,
        MaterialKind.FLAG: 1,
        MaterialKind.BANNER: 1,
        MaterialKind.TABLECLOTH: 11,
    }


def test_a_receipt_is_an_image_or_a_pdf_by_its_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    assert read_receipt(buffer.getvalue()).content_type == "image/jpeg"
    assert read_receipt(b"%PDF-1.7\n...\n%%EOF\n").content_type == "application/pdf"
    gif = io.BytesIO()
    Image.new("P", (8, 8)).save(gif, format="GIF")
    for bad in (b"<html>", gif.getvalue(), b"%PDF-1.7 truncated"):
        with pytest.raises(Refused):
            read_receipt(bad)
