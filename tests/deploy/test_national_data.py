"""The national season's data (no I/O): the country's real size spread over the 77 provinces, each province
importable by the registry and schedulable by the scheduling service (the load itself:
tests/deploy/test_national_demo.py)."""

import random
from collections import Counter
from decimal import Decimal

import geothai
import pytest

from deploy.local.national_data import (
    MIN_PRODUCTS,
    NATIONAL_PRODUCERS,
    NATIONAL_PRODUCTS,
    province_season,
    province_sizes,
    sales_for,
)
from services.monitoring.inputs import ActivityIn, CommitteeIn, IssueIn, MemberIn
from services.registry import spreadsheets
from services.registry.domain import sheet
from services.registry.domain.catalogue import Availability
from services.scheduling.inputs import PlanIn, VenueIn


def test_the_real_size_is_the_countrys_and_suphanburi_keeps_its_own_figures():
    sizes = province_sizes()
    assert len(sizes) == 77 and {s.code for s in sizes} == {p.code for p in geothai.provinces()}
    assert sum(s.producers for s in sizes) == NATIONAL_PRODUCERS == 97_800
    assert sum(s.products for s in sizes) == NATIONAL_PRODUCTS == 220_800
    suphanburi = next(s for s in sizes if s.code == "72")
    assert (suphanburi.producers, suphanburi.products) == (963, 2_158)


def test_provinces_are_spread_by_their_tambons():
    by_code = {s.code: s for s in province_sizes()}
    others = [s for s in by_code.values() if s.code != "72"]
    tambons = sum(s.tambons for s in others)
    for size in others:  # proportional, up to rounding
        assert abs(size.producers - (NATIONAL_PRODUCERS - 963) * size.tambons / tambons) < 1
        assert abs(size.products - (NATIONAL_PRODUCTS - 2_158) * size.tambons / tambons) < 1
    assert by_code["30"].products == max(
        s.products for s in by_code.values()
    )  # Nakhon Ratchasima, 289 tambons
    assert by_code["83"].products == min(s.products for s in by_code.values())  # Phuket, 17


def test_a_fraction_scales_producers_and_products_but_never_below_a_lineups_needs():
    tenth, tiny = province_sizes(0.1), province_sizes(0.0001)
    assert 0.09 * NATIONAL_PRODUCTS < sum(s.products for s in tenth) < 0.11 * NATIONAL_PRODUCTS
    assert all(s.products == MIN_PRODUCTS and s.producers >= 20 for s in tiny)


@pytest.mark.parametrize("code", ["72", "30", "83"])
def test_a_province_imports_plans_and_records_as_the_services_take_it(code):
    size = next(s for s in province_sizes() if s.code == code)
    province = province_season(size)
    assert province_season(size).rows == province.rows  # the same every time
    rows = []
    for first_row, body in province.sheets(2_500):
        table = spreadsheets.read_table(body, "text/csv")
        assert len(table) - 1 <= 2_500 and first_row == len(rows)
        rows += sheet.sheet_rows(table)
    plan = sheet.plan_import(code, rows, {}, {})  # every row valid, producers new and named once
    assert len(plan.products) == size.products and len(plan.producers) == size.producers
    starts = [start for start, _ in province.sheets(2_500)] + [len(province.rows)]
    files = [
        {r["producer_name"] for r in province.rows[a:b]} for a, b in zip(starts, starts[1:], strict=False)
    ]
    assert sum(len(f) for f in files) == size.producers  # a producer's rows never split over two files
    assert len(province.paused) >= 1
    for pause in province.paused.values():
        Availability.model_validate(pause)
    for venue in province.venues:
        VenueIn.model_validate(venue).check_province(code)
    assert PlanIn.model_validate(province.plan).products_per_market_day >= 20
    months = Counter(day.day.month for day in province.market_days)
    assert months == {6: 4, 7: 4, 8: 4, 9: 4} and len({d.day for d in province.market_days}) == 16
    CommitteeIn.model_validate({k: v for k, v in province.committee.items() if k != "members"})
    for member in province.committee["members"]:
        MemberIn.model_validate(member)
    for activity in province.activities:
        ActivityIn.model_validate(activity)
    for issue in province.issues:
        IssueIn.model_validate(issue)


def test_products_vary_as_the_programme_needs():
    rows = province_season(next(s for s in province_sizes() if s.code == "72")).rows
    quadrants, stars = Counter(r["quadrant"] for r in rows), Counter(r["star_level"] for r in rows)
    assert set(quadrants) == set("ABCD") and quadrants["D"] == max(quadrants.values())
    assert sum(stars[s] for s in (1, 2, 3)) > len(rows) / 2
    assert set(Counter(r["category"] for r in rows)) == {"food", "beverage", "textile", "houseware", "herbal"}
    per_producer = Counter(r["producer_name"] for r in rows)
    assert min(per_producer.values()) == 1 and max(per_producer.values()) <= 12


def test_sales_per_product_and_day_fall_with_the_price():
    rng = random.Random(1)
    cheap = [len(sales_for(Decimal("45.00"), rng)) for _ in range(2_000)]
    dear = [len(sales_for(Decimal("1200.00"), rng)) for _ in range(2_000)]
    assert 15 < sum(cheap) / len(cheap) < 21 and sum(dear) / len(dear) < 1.5
    assert all(items >= 1 for _ in range(100) for items in sales_for(Decimal("45.00"), rng))
