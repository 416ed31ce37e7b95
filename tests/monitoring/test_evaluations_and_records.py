"""Committees, activities, issues and evaluations over HTTP, against real Kafka and PostgreSQL: roles,
province isolation, field errors, the EvaluationSubmitted event, completeness and timeliness."""

import json
from datetime import timedelta
from uuid import uuid4

import pytest

from services.monitoring.main import spec
from shared.contracts.scheduling import MarketDayCancelled, MarketDayHeld, MarketDayScheduled
from shared.thailand import thai_today
from shared.topics import MONITORING_EVALUATIONS
from tests.conftest import bearer, eventually, running_service
from tests.integration.test_reliability import read_topic
from tests.monitoring.support import OFFICER, publish, skip_earlier_events
from tests.monitoring.test_read_models_and_results import market_day

pytestmark = pytest.mark.integration
MEMBER = bearer("committee_member", "72")  # subject committee_member-72
SCORES = {"display": 4, "variety": 3, "customer_interest": 5, "organisation": 4}


def evaluation(market_day_id, **changes) -> dict:
    return {
        "market_day_id": str(market_day_id),
        "producers_attending": 18,
        "products_shown": 22,
        "customers_estimate": 150,
        "sales_observed_thb": "12500.00",
        "scores": SCORES,
        "overall_score": 4,
        "problems": [{"category": "raw_material_shortage", "text": "ผู้ผลิตบางรายขาดวัตถุดิบ"}],
        "suggestions": [{"category": "publicity", "text": "ประชาสัมพันธ์ทางวิทยุชุมชน"}],
        **changes,
    }


async def test_committee_crud_roles_and_field_errors(database_url, kafka):
    async with running_service(spec, database_url, kafka) as http:
        created = await http.post(
            "/provinces/72/committees",
            json={"appointed_on": "2019-06-25", "order_ref": "คำสั่งจังหวัด ที่ 1/2562"},
            headers=OFFICER,
        )
        assert created.status_code == 201, created.text
        committee = created.json()
        assert committee["name"] == "คณะกรรมการติดตามโครงการ OTOP เคลื่อนที่ (OTOP Mobile) ระดับจังหวัด"
        path = f"/provinces/72/committees/{committee['id']}"
        member = await http.post(
            f"{path}/members",
            json={"name": "นายสมชาย", "role": "otop_network", "account": "committee_member-72"},
            headers=OFFICER,
        )
        assert member.status_code == 201, member.text
        again = await http.post(
            f"{path}/members",
            json={"name": "คนอื่น", "role": "otop_network", "account": "committee_member-72"},
            headers=OFFICER,
        )
        assert again.status_code == 409
        bad = await http.post(
            f"{path}/members", json={"name": "", "role": "chair", "extra": 1}, headers=OFFICER
        )
        assert bad.status_code == 422
        assert {e["loc"][-1] for e in bad.json()["detail"]} == {"name", "role", "extra"}

        changed = await http.put(
            f"{path}/members/{member.json()['id']}",
            headers=OFFICER,
            json={"name": "นายสมชาย ใจดี", "role": "district_cdd_officer", "account": "committee_member-72"},
        )
        assert changed.status_code == 200 and changed.json()["role"] == "district_cdd_officer"
        listed = await http.get("/provinces/72/committees", headers=MEMBER)  # members read
        assert [m["name"] for m in listed.json()[0]["members"]] == ["นายสมชาย ใจดี"]
        assert (
            await http.post("/provinces/72/committees", json={"appointed_on": "2019-06-25"}, headers=MEMBER)
        ).status_code == 403  # but do not write
        other = bearer("province_officer", "10")
        assert (await http.get(path, headers=other)).status_code == 403
        assert (await http.put(path, json={"appointed_on": "2019-07-01"}, headers=other)).status_code == 403
        assert (await http.get(f"/provinces/72/committees/{uuid4()}", headers=OFFICER)).status_code == 404
        assert (
            await http.get(
                f"/provinces/10/committees/{committee['id']}", headers=bearer("province_officer", "10")
            )
        ).status_code == 404

        activity = {
            "title": "ประชุม",
            "held_on": "2019-06-24",
            "venue": "โรงแรมเลิศธานี",
            "starts_at": "16:30",
            "ends_at": "08:30",
            "target_group": "คณะกรรมการ",
            "participants": 40,
            "purpose": "เพื่อ",
        }
        refused = await http.post("/provinces/72/activities", json=activity, headers=OFFICER)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "ends_at"]
        made = await http.post(
            "/provinces/72/activities",
            json={**activity, "starts_at": "08:30", "ends_at": "16:30"},
            headers=OFFICER,
        )
        assert made.status_code == 201
        june = await http.get("/provinces/72/activities", params={"year": 2562, "month": 6}, headers=MEMBER)
        july = await http.get("/provinces/72/activities", params={"year": 2562, "month": 7}, headers=MEMBER)
        assert len(june.json()) == 1 and july.json() == []
        assert (
            await http.get("/provinces/72/activities", params={"year": 2562}, headers=OFFICER)
        ).status_code == 422
        assert (
            await http.delete(f"/provinces/72/activities/{made.json()['id']}", headers=OFFICER)
        ).status_code == 204
        assert (
            await http.get(f"/provinces/72/activities/{made.json()['id']}", headers=OFFICER)
        ).status_code == 404

        issue = await http.post(
            "/provinces/72/issues",
            headers=OFFICER,
            json={
                "kind": "recommendation",
                "category": "raw_material_shortage",
                "text": "x",
                "year": 2562,
                "month": 6,
            },
        )
        assert issue.status_code == 422 and issue.json()["detail"][0]["loc"] == ["body", "category"]

        assert (await http.delete(path, headers=OFFICER)).status_code == 204
        assert (await http.get("/provinces/72/committees", headers=OFFICER)).json() == []


async def test_evaluations_events_issues_and_completeness(database_url, kafka):
    await skip_earlier_events(kafka)
    today = thai_today()
    days = {
        name: today - timedelta(days=n)
        for name, n in (
            ("late", 10),
            ("on_time", 1),
            ("pending", 2),
            ("missing", 20),
            ("past_unconfirmed", 30),
        )
    }
    held = {
        name: market_day(day, MarketDayHeld, "held", 2)
        for name, day in days.items()
        if name != "past_unconfirmed"
    }
    past = market_day(days["past_unconfirmed"], MarketDayScheduled, "scheduled", 1)
    future = market_day(today + timedelta(days=5), MarketDayScheduled, "scheduled", 1)
    cancelled = market_day(today - timedelta(days=3), MarketDayCancelled, "cancelled", 2)
    foreign = market_day(today - timedelta(days=1), MarketDayHeld, "held", 2)
    async with running_service(spec, database_url, kafka) as http:
        await publish(kafka, *held.values(), past, future, cancelled)
        await publish(kafka, foreign, province="10")
        committee = (
            await http.post("/provinces/72/committees", json={"appointed_on": str(today)}, headers=OFFICER)
        ).json()
        path = f"/provinces/72/committees/{committee['id']}/members"
        me = (
            await http.post(
                path,
                json={
                    "name": "นางสาวมาลี",
                    "role": "pracharat_working_group",
                    "account": "committee_member-72",
                },
                headers=OFFICER,
            )
        ).json()
        colleague = (
            await http.post(
                path, json={"name": "นายประเสริฐ", "role": "district_cdd_officer"}, headers=OFFICER
            )
        ).json()

        async def known():
            answer = await http.get("/provinces/72/evaluations/completeness", headers=OFFICER)
            return answer.json() if len(answer.json()["items"]) == 7 else None

        await eventually(known, timeout=60)

        submitted = await http.post(
            "/provinces/72/evaluations", json=evaluation(held["on_time"].market_day_id), headers=MEMBER
        )
        assert submitted.status_code == 201, submitted.text
        body = submitted.json()
        assert (body["member_id"], body["member_name"], body["scores"]) == (me["id"], "นางสาวมาลี", SCORES)
        assert [p["text"] for p in body["problems"]] == ["ผู้ผลิตบางรายขาดวัตถุดิบ"]
        [record] = await read_topic(kafka, MONITORING_EVALUATIONS, 1, key=body["id"].encode())
        event = json.loads(record.value)
        assert (event["type"], event["province_code"]) == ("monitoring.evaluation.submitted", "72")
        assert (
            event["payload"]["overall_score"],
            event["payload"]["on_time"],
            event["payload"]["member_role"],
        ) == (4, True, "pracharat_working_group")
        assert event["payload"]["problem_categories"] == ["raw_material_shortage"]

        again = await http.post(
            "/provinces/72/evaluations", json=evaluation(held["on_time"].market_day_id), headers=MEMBER
        )
        assert again.status_code == 409
        # An officer enters the colleague's evaluation of the same market day, and a late one.
        by_officer = await http.post(
            "/provinces/72/evaluations",
            headers=OFFICER,
            json=evaluation(
                held["on_time"].market_day_id,
                member_id=colleague["id"],
                overall_score=2,
                problems=[],
                suggestions=[],
            ),
        )
        assert by_officer.status_code == 201, by_officer.text
        late = await http.post(
            "/provinces/72/evaluations", json=evaluation(held["late"].market_day_id), headers=MEMBER
        )
        assert late.status_code == 201
        past_evaluated = await http.post(
            "/provinces/72/evaluations", json=evaluation(past.market_day_id), headers=MEMBER
        )
        assert past_evaluated.status_code == 201  # its day is past: it can be evaluated (late)

        refusals = [
            (MEMBER, evaluation(future.market_day_id), 409),
            (MEMBER, evaluation(cancelled.market_day_id), 409),
            (MEMBER, evaluation(uuid4()), 404),
            (MEMBER, evaluation(foreign.market_day_id), 404),  # another province's market day
            (
                MEMBER,
                evaluation(held["missing"].market_day_id, member_id=colleague["id"]),
                403,
            ),  # not their own
            (OFFICER, evaluation(held["missing"].market_day_id), 422),  # an officer must name the member
            (bearer("integration", "72"), evaluation(held["missing"].market_day_id), 403),
            (bearer("committee_member", "10"), evaluation(held["missing"].market_day_id), 403),
            ({"Authorization": _token_for("someone-else")}, evaluation(held["missing"].market_day_id), 403),
        ]
        for headers, refused, expected in refusals:
            answer = await http.post("/provinces/72/evaluations", json=refused, headers=headers)
            assert answer.status_code == expected, (expected, answer.text)
        officer_without_member = await http.post(
            "/provinces/72/evaluations", headers=OFFICER, json=evaluation(held["missing"].market_day_id)
        )
        assert officer_without_member.json()["detail"][0]["loc"] == ["body", "member_id"]
        bad = await http.post(
            "/provinces/72/evaluations",
            headers=MEMBER,
            json=evaluation(
                held["missing"].market_day_id,
                scores={**SCORES, "display": 6},
                overall_score=0,
                customers_estimate=-1,
                problems=[{"category": "publicity", "text": "x"}],
            ),
        )
        assert bad.status_code == 422
        assert {tuple(e["loc"][1:]) for e in bad.json()["detail"]} == {
            ("scores", "display"),
            ("overall_score",),
            ("customers_estimate",),
            ("problems", 0, "category"),
        }

        completeness = (await http.get("/provinces/72/evaluations/completeness", headers=MEMBER)).json()
        states = {item["market_day_id"]: item["state"] for item in completeness["items"]}
        assert states == {
            str(held["on_time"].market_day_id): "on_time",
            str(held["late"].market_day_id): "late",
            str(held["pending"].market_day_id): "pending",
            str(held["missing"].market_day_id): "missing",
            str(past.market_day_id): "late",
            str(future.market_day_id): "not_expected",
            str(cancelled.market_day_id): "not_expected",
        }
        assert (
            completeness["due_days"],
            completeness["expected"],
            completeness["on_time"],
            completeness["late"],
            completeness["missing"],
            completeness["pending"],
        ) == (3, 5, 1, 2, 1, 1)
        missing = await http.get(
            "/provinces/72/evaluations/completeness", params={"state": "missing"}, headers=OFFICER
        )
        assert [i["market_day_id"] for i in missing.json()["items"]] == [str(held["missing"].market_day_id)]

        listed = await http.get(
            "/provinces/72/evaluations",
            params={"market_day_id": str(held["on_time"].market_day_id)},
            headers=MEMBER,
        )
        assert sorted(e["overall_score"] for e in listed.json()) == [2, 4]
        one = await http.get(f"/provinces/72/evaluations/{body['id']}", headers=OFFICER)
        assert one.status_code == 200 and one.json()["suggestions"][0]["text"] == "ประชาสัมพันธ์ทางวิทยุชุมชน"
        assert (await http.get(f"/provinces/72/evaluations/{uuid4()}", headers=OFFICER)).status_code == 404

        # The evaluations' problems and suggestions join section ๓ of their month's report, once each.
        issues = (await http.get("/provinces/72/issues", headers=OFFICER)).json()
        from_evaluations = [i for i in issues if i["evaluation_id"]]
        assert len(from_evaluations) == 6  # three evaluations with one problem and one suggestion each
        changed = await http.put(
            f"/provinces/72/issues/{from_evaluations[0]['id']}",
            headers=OFFICER,
            json={
                "kind": "problem",
                "category": "other",
                "text": "แก้",
                "year": today.year,
                "month": today.month,
            },
        )
        assert changed.status_code == 409
        month = f"/provinces/72/reports/{days['on_time'].year}/{days['on_time'].month}"
        report = (await http.get(month, headers=OFFICER)).json()
        evaluated_here = sum(
            1
            for d in (days["on_time"], days["late"], days["past_unconfirmed"])
            if (d.year, d.month) == (days["on_time"].year, days["on_time"].month)
        )
        [problem] = report["issues"]["problems"]
        assert (problem["text"], problem["entries"], problem["from_evaluations"]) == (
            "ผู้ผลิตบางรายขาดวัตถุดิบ",
            evaluated_here,
            evaluated_here,
        )
        assert report["progress"]["evaluations"]["evaluations"] >= 2


def _token_for(username: str) -> str:
    """A committee member of 72 with this username (the subject of their token)."""
    return bearer("committee_member", "72", username)["Authorization"]
