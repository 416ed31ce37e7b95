"""A small season, small enough to work out by hand (the expected figures are written out in the tests):

market days: D1 2019-06-08 Pracharat market, D2 2019-06-15 tourist spot, D3 2019-07-06 Pracharat market
producers: A new (mentee of group G), B new (no group), C experienced (G's mentor), E experienced,
           X new (never invited)
products:  a1 of A food 2 stars Quadrant D        (intended)
           b1 of B textile 4 stars C Nawatwithi  (intended)
           c1 of C food 5 stars A                (not intended)
           e1 of E food 3 stars B                (intended)
           x1 of X herbal 1 star D               (intended, never invited: its one invitation withdrawn)
invitations (status): D1 a1 accepted, b1 declined busy, c1 accepted, e1 accepted
                      D2 a1 accepted, b1 accepted, c1 accepted, e1 declined no_raw_material
                      D3 a1 declined worried_about_sales, b1 accepted, c1 accepted, e1 accepted,
                         x1 withdrawn
attendance: D1 A C E (a1 c1 e1); D2 A B C (a1 b1 c1); D3 B C E (b1 c1 e1)
sales (baht): D1 a1 100, c1 500, e1 200; D2 a1 300, c1 700 (b1 sold nothing); D3 b1 150, c1 600, e1 400
"""

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid5

from shared.contracts.scheduling import VenueKind

NS = UUID("2f4a5a52-6d47-4e5f-9c0e-1f0f5b0c0d25")
PROVINCE = "72"


def uid(name: str) -> UUID:
    return uuid5(NS, name)


DAYS = {
    "D1": (date(2019, 6, 8), VenueKind.PRACHARAT_MARKET),
    "D2": (date(2019, 6, 15), VenueKind.TOURIST_SPOT),
    "D3": (date(2019, 7, 6), VenueKind.PRACHARAT_MARKET),
}
PRODUCERS = {"A": False, "B": False, "C": True, "E": True, "X": False}  # name -> experienced
PRODUCTS = {  # name -> producer, category, stars, quadrant, nawatwithi
    "a1": ("A", "food", 2, "D", False),
    "b1": ("B", "textile", 4, "C", True),
    "c1": ("C", "food", 5, "A", False),
    "e1": ("E", "food", 3, "B", False),
    "x1": ("X", "herbal", 1, "D", False),
}
INVITATIONS = [  # day, product, status, reason
    ("D1", "a1", "accepted", None),
    ("D1", "b1", "declined", "busy"),
    ("D1", "c1", "accepted", None),
    ("D1", "e1", "accepted", None),
    ("D2", "a1", "accepted", None),
    ("D2", "b1", "accepted", None),
    ("D2", "c1", "accepted", None),
    ("D2", "e1", "declined", "no_raw_material"),
    ("D3", "a1", "declined", "worried_about_sales"),
    ("D3", "b1", "accepted", None),
    ("D3", "c1", "accepted", None),
    ("D3", "e1", "accepted", None),
    ("D3", "x1", "withdrawn", None),
]
ATTENDANCE = {
    "D1": ("ACE", ["a1", "c1", "e1"]),
    "D2": ("ABC", ["a1", "b1", "c1"]),
    "D3": ("BCE", ["b1", "c1", "e1"]),
}
SALES = [("D1", "a1", 100), ("D1", "c1", 500), ("D1", "e1", 200), ("D2", "a1", 300), ("D2", "c1", 700)]
SALES += [("D3", "b1", 150), ("D3", "c1", 600), ("D3", "e1", 400)]
GROUP = ("G", ["C"], ["A"])  # name, mentors, mentees


def money(value: int | str) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))
