"""The demo province's data (no I/O): the same every time, varied as the programme's products are, and
accepted by the services' own input rules (the end-to-end load is tests/deploy/test_local_stack.py)."""

import random
from collections import Counter
from datetime import date
from decimal import Decimal
from uuid import uuid4

from deploy.local.demo_data import MONTHS, YEAR, demo_province, evaluation, report_mismatch, sent_totals
from services.monitoring.inputs import ActivityIn, CommitteeIn, EvaluationIn, IssueIn, MemberIn
from services.registry import spreadsheets
from services.registry.domain import sheet
from services.registry.domain.catalogue import Availability
from services.scheduling.inputs import PlanIn, VenueIn


def test_the_demo_is_the_same_every_time_and_another_seed_changes_it():
    assert demo_province().sheet_csv() == demo_province().sheet_csv()
    assert demo_province(seed=1).sheet_csv() != demo_province().sheet_csv()


def test_the_registry_would_import_the_demo_sheet_as_new_producers_and_products():
    demo = demo_province()
    plan = sheet.plan_import(
        "72", sheet.sheet_rows(spreadsheets.read_table(demo.sheet_csv(), "text/csv")), {}, {}
    )
    assert len(plan.producers) == 100 and all(new for _, new, _ in plan.producers)
    assert len(plan.products) == len(demo.products) and 280 <= len(demo.products) <= 340
    assert len({p.name for p in demo.products}) == len(demo.products)  # the loader finds them by name
    for pause in demo.paused.values():
        Availability.model_validate(pause)
    producers_with_products = {p.row["producer_name"] for p in demo.products}
    assert len(demo.paused) == 8 and set(demo.paused) <= producers_with_products


def test_the_products_vary_as_the_programme_needs():
    rows = [p.row for p in demo_province().products]
    assert set(Counter(r["category"] for r in rows)) == {"food", "beverage", "textile", "houseware", "herbal"}
    quadrants, stars = Counter(r["quadrant"] for r in rows), Counter(r["star_level"] for r in rows)
    assert set(quadrants) == set("ABCD") and quadrants["D"] == max(quadrants.values())
    assert set(stars) == {1, 2, 3, 4, 5} and sum(stars[s] for s in (1, 2, 3)) > len(rows) / 2
    assert 0 < sum(r["nawatwithi"] == "true" for r in rows) < len(rows)
    producers = {r["producer_name"]: r for r in rows}.values()
    assert 0 < sum(p["experienced"] == "false" for p in producers) < len(producers)
    assert {p["producer_type"] for p in producers} == {"community_group", "single_owner", "sme"}


def test_the_season_is_four_market_days_a_month_june_to_september_2562():
    demo = demo_province()
    PlanIn.model_validate(demo.plan)
    assert Counter(d.day.month for d in demo.market_days) == dict.fromkeys(MONTHS, 4)
    assert all(d.day.year == YEAR and d.day.weekday() == 5 for d in demo.market_days)
    assert len({(d.venue, d.day) for d in demo.market_days}) == 16
    venues = [VenueIn.model_validate(v) for v in demo.venues]
    assert {v.kind for v in venues} == {"pracharat_market", "tourist_spot"}
    for venue in venues:
        venue.check_province("72")
    sold = demo.market_days[0].sold_at(random.Random(1))
    assert demo.market_days[0].starts_at <= sold.timetz().replace(tzinfo=None) < demo.market_days[0].ends_at


def test_the_committee_meetings_and_issues_are_what_monitoring_takes():
    demo = demo_province()
    CommitteeIn.model_validate({k: v for k, v in demo.committee.items() if k != "members"})
    members = [MemberIn.model_validate(m) for m in demo.committee["members"]]
    assert len({m.role for m in members}) == 4  # every role the seed names
    activities = [ActivityIn.model_validate(a) for a in demo.activities]
    assert activities[0].held_on == date(YEAR, 6, 24) and activities[0].participants == 40
    issues = [IssueIn.model_validate(i) for i in demo.issues]
    assert {(i.month, i.kind) for i in issues} == {
        (m, k) for m in MONTHS for k in ("problem", "recommendation")
    }


def test_the_report_check_finds_a_month_that_counts_one_sale_or_one_satang_less():
    days = [
        {"sales": 40, "amount": Decimal("1200.50"), "evaluations": 1},
        {"sales": 2, "amount": Decimal(30)},
    ]
    sent = sent_totals(days)
    assert sent == {"market_days": 2, "sales": 42, "amount_thb": Decimal("1230.50"), "evaluations": 1}

    def report(sales: int, sales_thb: str) -> dict:
        summary = {"market_days_held": 2, "markets_counted": 2, "sales": sales, "sales_thb": sales_thb}
        return {"results": {"summary": summary}, "progress": {"evaluations": {"evaluations": 1}}}

    assert report_mismatch(report(42, "1230.50"), sent) is None
    assert report_mismatch(report(41, "1230.50"), sent) is not None
    assert report_mismatch(report(42, "1230.49"), sent) is not None


def test_a_drawn_evaluation_is_one_the_monitoring_service_accepts():
    day = {"producers": 18, "attended": 21, "amount": Decimal("5230.75")}
    body = evaluation(random.Random(3), uuid4(), uuid4(), day)
    accepted = EvaluationIn.model_validate(body)
    assert (accepted.producers_attending, accepted.products_shown) == (18, 21)
    assert accepted.sales_observed_thb == Decimal("5231")
    assert body == evaluation(random.Random(3), body["market_day_id"], body["member_id"], day)


def test_the_demo_budget_is_the_seeds_proposal_and_its_purchases_fit_their_lines():
    from collections import defaultdict

    from deploy.local.demo_data import BUDGET_PROPOSAL, BUDGET_PURCHASES
    from services.budget.domain import check_lines
    from services.budget.inputs import BoughtIn, ProposalIn, PurchaseIn

    proposal = ProposalIn.model_validate(BUDGET_PROPOSAL)
    assert {a.budget_source for a in proposal.activities} == {"งบบุคลากรฯ"}
    lines = check_lines(proposal.lines)
    spent: defaultdict = defaultdict(Decimal)
    for item, day, supplier, amount in BUDGET_PURCHASES:
        bought = BoughtIn(bought_on=day, supplier=supplier, amount_thb=amount)
        spent[PurchaseIn.model_validate(item).category] += bought.amount_thb
        assert bought.bought_on.month == 6
    assert all(spent[category] <= lines[category] for category in spent)
    kinds = {item.get("kind") for item, *_ in BUDGET_PURCHASES}
    assert {"flag", "tent", "table"} <= kinds
