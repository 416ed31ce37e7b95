"""The outcome figures of the hand-computed season (tests/monitoring/outcome_season.py), and the
statistics' rules: sample sizes, 'not enough data', deterministic intervals."""

import random
from datetime import date
from decimal import Decimal

from services.monitoring.domain import outcomes as o
from services.monitoring.domain.statistics import MIN_SAMPLE, compare, estimate, share
from tests.monitoring import outcome_season as s
from tests.monitoring.outcome_season import money, uid


def season(shuffle: int | None = None) -> o.Season:
    invitations = [
        o.Invitation(uid(day), uid(product), uid(s.PRODUCTS[product][0]), status, reason)
        for day, product, status, reason in s.INVITATIONS
    ]
    sales = [o.ProductDaySales(uid(day), uid(product), money(amount)) for day, product, amount in s.SALES]
    attendance = [
        o.Attendance(uid(day), frozenset(map(uid, producers)), frozenset(map(uid, products)))
        for day, (producers, products) in s.ATTENDANCE.items()
    ]
    market_days = [o.MarketDay(uid(name), day, kind) for name, (day, kind) in s.DAYS.items()]
    if shuffle is not None:
        for facts in (invitations, sales, attendance, market_days):
            random.Random(shuffle).shuffle(facts)
    name, mentors, mentees = s.GROUP
    return o.Season(
        province_code=s.PROVINCE,
        market_days=market_days,
        products={
            uid(p): o.Product(uid(p), uid(producer), p, category, stars, quadrant, nawat, True, s.PROVINCE)
            for p, (producer, category, stars, quadrant, nawat) in s.PRODUCTS.items()
        },
        producers={uid(p): o.Producer(uid(p), p, experienced) for p, experienced in s.PRODUCERS.items()},
        invitations=invitations,
        attendance=attendance,
        sales=sales,
        groups=[
            o.MentoringGroup(uid(name), name, frozenset(map(uid, mentors)), frozenset(map(uid, mentees)))
        ],
    )


def test_each_producers_record_worked_out_by_hand():
    found = {r.name: r for r in o.province_outcomes(season()).producers}
    assert sorted(found) == ["A", "B", "C", "E"]  # X was never in a lineup nor at market
    june, july = date(2019, 6, 1), date(2019, 7, 1)
    # name: invited, attended, declined, reasons, sales, per market day, months, trend, group
    expected = {
        "A": (3, 2, 1, {"worried_about_sales": 1}, 400, 200, {june: 200}, None, "G"),
        "B": (3, 2, 1, {"busy": 1}, 150, 75, {june: 0, july: 150}, 150, None),
        "C": (3, 3, 0, {}, 1800, 600, {june: 600, july: 600}, 0, None),
        "E": (3, 2, 1, {"no_raw_material": 1}, 600, 300, {june: 200, july: 400}, 200, None),
    }
    for name, (
        invited,
        attended,
        declined,
        reasons,
        sales,
        per_day,
        months,
        trend,
        group,
    ) in expected.items():
        record = found[name]
        assert (record.invited, record.attended, record.declined) == (invited, attended, declined), name
        assert record.decline_reasons == reasons, name
        assert record.sales_thb == money(sales), name
        assert record.sales_per_market_day == money(per_day), name
        assert {m.month: m.sales_per_market_day for m in record.months} == {
            k: money(v) for k, v in months.items()
        }, name
        assert record.trend == (None if trend is None else money(trend)), name
        assert record.mentoring_group == group, name
    assert [found[n].experienced for n in "ABCE"] == [False, False, True, True]


def test_new_against_experienced_by_month():
    result = o.province_outcomes(season())
    # season: new A 200, B 75 -> 137.50; experienced C 600, E 300 -> 450; two each: no interval
    season_wide = result.new_vs_experienced
    assert (season_wide.a.n, season_wide.a.mean, season_wide.b.n, season_wide.b.mean) == (
        2,
        money("137.50"),
        2,
        money(450),
    )
    assert season_wide.a.low is None and season_wide.b.low is None and season_wide.difference.low is None
    assert season_wide.difference.mean == money("-312.50")
    # June: new A 200, B 0 -> 100; experienced C 600, E 200 -> 400. July: new B 150; experienced 600, 400
    months = {m.month: m.new_vs_experienced for m in result.new_vs_experienced_by_month}
    assert [(c.a.n, c.a.mean, c.b.n, c.b.mean) for c in months.values()] == [
        (2, money(100), 2, money(400)),
        (1, money(150), 2, money(500)),
    ]
    assert list(months) == [date(2019, 6, 1), date(2019, 7, 1)] == result.months
    assert result.market_days == 3 and result.first_day == date(2019, 6, 8)


def test_the_programme_question():
    programme = o.province_outcomes(season()).programme
    # 12 invitations in the lineup (x1's was withdrawn): a1, b1, c1, e1 three times each.
    # Quadrant D: a1 -> 3; 1-3 stars: a1, e1 -> 6; Nawatwithi: b1 -> 3; intended: a1 b1 e1 -> 9.
    # Low sellers (June, per market day at market): a1 200, b1 0, c1 600, e1 200; median 200, half 100:
    # b1 only -> 3. Wilson 90 % intervals worked out with z = 1.6449.
    shares = {c.criterion: c.share for c in programme.shares}
    assert programme.lineup == 12
    expected = {
        "quadrant_d": (3, "25.00", "10.47", "48.73"),
        "stars_1_3": (6, "50.00", "28.55", "71.45"),
        "nawatwithi": (3, "25.00", "10.47", "48.73"),
        "low_seller": (3, "25.00", "10.47", "48.73"),
        "intended": (9, "75.00", "51.27", "89.53"),
    }
    for criterion, (count, percent, low, high) in expected.items():
        found = shares[criterion]
        assert (found.count, found.n) == (count, 12), criterion
        assert (found.percent, found.low, found.high) == (Decimal(percent), Decimal(low), Decimal(high))
    # intended products' producers A, B, E: June A 200, B 0, E 200 -> 133.33; July B 150, E 400 -> 275
    assert [(m.estimate.n, m.estimate.mean) for m in programme.intended_producers_by_month] == [
        (3, money("133.33")),
        (2, money(275)),
    ]
    assert programme.first_to_last_month is not None
    assert programme.first_to_last_month.difference.mean == money("141.67")


def test_mentoring_venues_and_fairness():
    result = o.province_outcomes(season())
    mentoring = result.mentoring
    assert [(g.name, g.mentors, g.mentees) for g in mentoring.groups] == [("G", 1, 1)]
    # new producers: A in G, B in none. A 200 a day, B 75; each invited 3, at market on 2 of them, declined 1
    sales = mentoring.sales_per_market_day
    assert (sales.a.n, sales.a.mean, sales.b.n, sales.b.mean) == (1, money(200), 1, money(75))
    assert (mentoring.attendance_percent.a.mean, mentoring.attendance_percent.b.mean) == (
        money("66.67"),
        money("66.67"),
    )
    assert mentoring.decline_percent.difference.mean == money(0)
    # food at Pracharat markets: 100, 500, 200, 600, 400 -> 360 (five: an interval); at the tourist spot
    # 300, 700 -> 500 (two: none). Textile: 150 at a market, 0 at the tourist spot.
    venues = {v.category: v.pracharat_vs_tourist for v in result.venues}
    assert list(venues) == ["food", "textile"]
    food = venues["food"]
    assert (food.a.n, food.a.mean, food.b.n, food.b.mean) == (5, money(360), 2, money(500))
    assert food.a.low is not None and food.a.high is not None
    assert money(100) <= food.a.low <= food.a.mean <= food.a.high <= money(600)
    assert food.b.low is None and food.difference.low is None
    assert (venues["textile"].a.mean, venues["textile"].b.mean) == (money(150), money(0))
    # intended products a1 b1 e1 x1: three invitations each, x1 none (its one invitation withdrawn)
    fairness = result.fairness
    assert fairness.eligible == 4 and fairness.distribution == {0: 1, 3: 3}
    assert (fairness.invited.count, fairness.invited.n, fairness.invited.percent) == (3, 4, money(75))
    assert [(p.name, p.producer_name, p.quadrant) for p in fairness.never_invited] == [("x1", "X", "D")]


def test_reordered_facts_give_the_same_figures():
    first = o.province_outcomes(season())
    for seed in (1, 2, 3):
        assert o.province_outcomes(season(shuffle=seed)) == first


def test_statistics_sample_sizes_and_intervals():
    assert estimate([]).mean is None
    small = estimate([money(v) for v in range(MIN_SAMPLE - 1)])
    assert small.n == MIN_SAMPLE - 1 and small.low is None and small.method is None
    values = [money(v) for v in (10, 20, 30, 40, 50, 60, 70, 80)]
    found = estimate(values)
    assert found.mean == money(45) and found.method == "bootstrap"
    assert money(10) < found.low < money(45) < found.high < money(80)
    assert estimate(list(reversed(values))) == found  # seeded and order-free: the same interval
    # a large sample: the normal approximation, 45 +- 1.6449 * sd / sqrt(8000), sd 22.914 -> 0.4214
    large = estimate(values * 1000)
    assert large.method == "normal" and large.n == 8000
    assert (large.low, large.high) == (money("44.58"), money("45.42"))
    difference = compare(values, [v + 10 for v in values])
    assert difference.difference.mean == money(-10) and difference.difference.low < money(-10)
    assert share(0, 0).percent is None and share(1, 4).low is None
