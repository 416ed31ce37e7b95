"""Monitoring rules: periods, planned market days, evaluation completeness, what officers may submit."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError

from services.monitoring.domain import (
    Evaluation,
    EvaluationNote,
    EvaluationState,
    Evaluator,
    IssueKind,
    Period,
    check_evaluable,
    evaluation_state,
    planned_market_days,
    products_shown,
)
from services.monitoring.inputs import ActivityIn, IssueIn
from shared.errors import Conflict

DAY = date(2019, 6, 15)


def test_month_and_fiscal_quarter_periods():
    june = Period.month(2562, 6)
    assert (june.first_day, june.last_day) == (date(2019, 6, 1), date(2019, 6, 30))
    assert june.label(True) == "เดือนมิถุนายน ๒๕๖๒"
    q4 = Period.fiscal_quarter(2562, 4)
    assert (q4.first_day, q4.last_day) == (date(2019, 7, 1), date(2019, 9, 30))
    assert q4.months == [date(2019, 7, 1), date(2019, 8, 1), date(2019, 9, 1)]
    assert q4.label(False) == "ไตรมาส 4 ปีงบประมาณ 2562 (กรกฎาคม 2562 - กันยายน 2562)"
    q1 = Period.fiscal_quarter(2019, 1)
    assert (q1.first_day, q1.last_day) == (date(2018, 10, 1), date(2018, 12, 31))


def test_planned_market_days_count_only_the_plans_months_in_the_period():
    june_to_september = (date(2019, 6, 1), date(2019, 9, 1))
    assert planned_market_days(4, *june_to_september, Period.month(2019, 6)) == 4
    assert planned_market_days(4, *june_to_september, Period.month(2019, 5)) == 0
    assert (
        planned_market_days(4, *june_to_september, Period.fiscal_quarter(2562, 3)) == 4
    )  # Apr-Jun: June only
    assert planned_market_days(4, *june_to_september, Period.fiscal_quarter(2562, 4)) == 12


@pytest.mark.parametrize(
    ("status", "day", "submitted", "today", "expected"),
    [
        ("held", DAY, date(2019, 6, 18), date(2019, 7, 1), EvaluationState.ON_TIME),  # 3 days after: on time
        ("held", DAY, date(2019, 6, 19), date(2019, 7, 1), EvaluationState.LATE),
        ("held", DAY, None, date(2019, 6, 18), EvaluationState.PENDING),  # still within the 3 days
        ("held", DAY, None, date(2019, 6, 19), EvaluationState.MISSING),
        ("scheduled", DAY, None, date(2019, 6, 20), EvaluationState.MISSING),  # past but never marked held
        ("scheduled", DAY, None, DAY, EvaluationState.NOT_EXPECTED),  # not over yet
        ("scheduled", DAY, None, date(2019, 6, 1), EvaluationState.NOT_EXPECTED),
        ("cancelled", DAY, None, date(2019, 7, 1), EvaluationState.NOT_EXPECTED),
        ("held", DAY, None, DAY, EvaluationState.PENDING),  # held today
    ],
)
def test_every_held_or_past_market_day_expects_an_evaluation_within_due_days(
    status, day, submitted, today, expected
):
    assert evaluation_state(status, day, submitted, today, due_days=3) is expected


def test_due_days_are_configurable():
    assert (
        evaluation_state("held", DAY, date(2019, 6, 22), date(2019, 7, 1), due_days=7)
        is EvaluationState.ON_TIME
    )
    assert (
        evaluation_state("held", DAY, date(2019, 6, 16), date(2019, 7, 1), due_days=0) is EvaluationState.LATE
    )


def test_only_held_or_past_market_days_can_be_evaluated():
    check_evaluable("held", DAY, DAY)
    check_evaluable("scheduled", DAY, DAY)  # today: the committee is there
    with pytest.raises(Conflict, match="cancelled"):
        check_evaluable("cancelled", DAY, date(2019, 7, 1))
    with pytest.raises(Conflict, match="not been held"):
        check_evaluable("scheduled", DAY, date(2019, 6, 14))


def test_products_shown_prefers_the_attendance_record():
    assert products_shown(22, 18) == 22
    assert products_shown(None, 18) == 18
    assert products_shown(None, None) is None


def _activity(**changes) -> dict:
    return {
        "title": "ประชุม",
        "held_on": "2019-06-24",
        "venue": "โรงแรมเลิศธานี",
        "starts_at": "08:30",
        "ends_at": "16:30",
        "target_group": "คณะกรรมการ",
        "participants": 40,
        "purpose": "เพื่อสร้างความเข้าใจ",
        **changes,
    }


def test_activity_times_come_in_order_and_together():
    assert ActivityIn.model_validate(_activity()).ends_at == time(16, 30)
    assert ActivityIn.model_validate(_activity(starts_at=None, ends_at=None)).starts_at is None
    for bad in ({"ends_at": "08:00"}, {"ends_at": None}, {"participants": -1}):
        with pytest.raises(ValidationError) as error:
            ActivityIn.model_validate(_activity(**bad))
        assert {e["loc"][0] for e in error.value.errors()} <= {"ends_at", "participants"}
    starts_only = {name: value for name, value in _activity().items() if name != "ends_at"}
    with pytest.raises(ValidationError) as error:  # found by schemathesis: was stored, then every read failed
        ActivityIn.model_validate(starts_only)
    assert [e["loc"] for e in error.value.errors()] == [("ends_at",)]


def test_issue_category_must_fit_its_kind_and_years_may_be_buddhist_era():
    issue = IssueIn(kind="problem", category="raw_material_shortage", text="ขาดวัตถุดิบ", year=2562, month=6)
    assert issue.year == 2019
    with pytest.raises(ValidationError) as error:
        IssueIn(kind="recommendation", category="raw_material_shortage", text="x", year=2019, month=6)
    assert [e["loc"] for e in error.value.errors()] == [("category",)]
    with pytest.raises(ValidationError) as error:
        IssueIn(kind="problem", category="other", text="x", year=1990, month=13)
    assert {e["loc"] for e in error.value.errors()} == {("year",), ("month",)}


def test_an_evaluation_gives_its_row_its_issues_and_its_event():
    member = Evaluator(uuid4(), "นางสาวมาลี", "otop_network")
    evaluation = Evaluation(
        id=uuid4(),
        province_code="72",
        market_day_id=uuid4(),
        market_day=DAY,
        member=member,
        submitted_by="mali",
        submitted_at=datetime(2019, 6, 18, 20, 0, tzinfo=UTC),  # 19 June in Thailand: 4 days after
        producers_attending=12,
        products_shown=25,
        customers_estimate=300,
        sales_observed_thb=Decimal("15400.50"),
        scores={"display": 4, "variety": 3, "customer_interest": 5, "organisation": 4},
        overall_score=4,
        note=None,
        notes=[
            EvaluationNote(IssueKind.PROBLEM, "raw_material_shortage", "ขาดวัตถุดิบ"),
            EvaluationNote(IssueKind.RECOMMENDATION, "publicity", "ประชาสัมพันธ์เพิ่ม"),
        ],
    )
    row = evaluation.row()
    assert (row["member_id"], row["score_display"], row["score_customer_interest"]) == (member.id, 4, 5)
    issues = evaluation.issue_rows()
    assert [(i["kind"], i["month"], i["evaluation_id"]) for i in issues] == [
        ("problem", date(2019, 6, 1), evaluation.id),
        ("recommendation", date(2019, 6, 1), evaluation.id),
    ]
    event = evaluation.submitted(due_days=3)
    assert event.on_time is False and evaluation.submitted(due_days=4).on_time is True
    assert (event.problem_categories, event.recommendation_categories) == (
        ["raw_material_shortage"],
        ["publicity"],
    )
    assert event.scores == {"display": 4, "variety": 3, "customer_interest": 5, "organisation": 4}
