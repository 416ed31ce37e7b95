"""The budget's rules, no I/O: a proposal's lines, what a purchase may spend against its line, and what a
market day needs packed for its lineup."""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from shared.contracts.budget import BudgetCategory, BudgetLine, MaterialKind
from shared.errors import Invalid, Refused
from shared.labels import BUDGET_CATEGORY_TH

SATANG = Decimal("0.01")
ZERO = Decimal("0.00")

# Reusable materials go into the province's stock when received; the rest is used up.
REUSABLE = frozenset(
    {MaterialKind.FLAG, MaterialKind.BANNER, MaterialKind.TENT, MaterialKind.TABLE, MaterialKind.TABLECLOTH}
)


def baht(amount: Decimal) -> Decimal:
    """An amount in baht with satang, exactly (amounts are validated to two places before they get here)."""
    return amount.quantize(SATANG)


def check_lines(lines: Iterable[BudgetLine]) -> dict[BudgetCategory, Decimal]:
    """The amount of each line; a proposal has at least one line and one line per category."""
    amounts: dict[BudgetCategory, Decimal] = {}
    for index, line in enumerate(lines):
        if line.category in amounts:
            raise Invalid.at(("body", "lines", index, "category"), f"{line.category} is already a line")
        amounts[line.category] = baht(line.amount_thb)
    if not amounts:
        raise Invalid.at(("body", "lines"), "a budget needs at least one line")
    return amounts


def total(amounts: Iterable[Decimal]) -> Decimal:
    return baht(sum(amounts, ZERO))


@dataclass(frozen=True)
class LineSpending:
    """One line of the approved budget: what was approved, what is requested and not yet bought
    (committed), what was bought (spent), and what is left."""

    category: BudgetCategory
    approved: Decimal
    committed: Decimal
    spent: Decimal

    @property
    def remaining(self) -> Decimal:
        return baht(self.approved - self.committed - self.spent)


def within_line(line: LineSpending | None, amount: Decimal, released: Decimal = ZERO) -> None:
    """Refuses spending `amount` on `line` if it would go over what the line has left (`released`: what
    the same purchase already held on the line, e.g. its request's estimate when it is bought)."""
    if amount <= 0:
        raise Invalid.at(("body", "amount_thb"), "must be more than 0")
    if line is None or line.approved <= 0:
        raise Refused("no_approved_line", "this budget line has no approved amount", 409)
    left = baht(line.remaining + released)
    if amount > left:
        raise Refused(
            "exceeds_line",
            f"{amount} บาท exceeds what is left of {BUDGET_CATEGORY_TH[line.category]}: {left} บาท "
            f"(approved {line.approved}, spent {line.spent}, requested {line.committed})",
            409,
        )


def packing_needs(lineup_size: int) -> dict[MaterialKind, int]:
    """What a market day takes for a lineup of `lineup_size` products: the flag and the banner, a table (and
    its cloth) for every two products, a tent for every four, a price tag for each product."""
    if lineup_size <= 0:
        return {MaterialKind.FLAG: 1, MaterialKind.BANNER: 1}
    return {
        MaterialKind.FLAG: 1,
        MaterialKind.BANNER: 1,
        MaterialKind.TENT: math.ceil(lineup_size / 4),
        MaterialKind.TABLE: math.ceil(lineup_size / 2),
        MaterialKind.TABLECLOTH: math.ceil(lineup_size / 2),
        MaterialKind.PRICE_TAG: lineup_size,
    }


def shortfall(
    needed: Mapping[MaterialKind, int], on_hand: Mapping[MaterialKind, int]
) -> dict[MaterialKind, int]:
    """Reusable kinds needed beyond what the province owns (consumables are bought per day)."""
    return {
        kind: count - on_hand.get(kind, 0)
        for kind, count in needed.items()
        if kind in REUSABLE and count > on_hand.get(kind, 0)
    }
