"""What the browser tests start from, entered through the gateway's APIs with the officer's Keycloak token, as
an officer would: Suphanburi's producers and products (the demo's import sheet), three venues, a plan around
this month, the committee (one member is the committee test user), a meeting, this month's problems and
recommendations, and four market days: two weeks ago (held, lineup, attendance, sales, an evaluation), today
(lineup accepted, held: the sales capture's), next week and the week after (scheduled, no lineup yet)."""

import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import httpx

from deploy.local.demo_data import demo_province
from tests.web.stack import USERS, WebStack

THAILAND = timezone(timedelta(hours=7))
P = "/provinces/72"


def thai_today() -> date:
    return datetime.now(THAILAND).date()


def ok(response: httpx.Response) -> dict | list | None:
    assert response.is_success, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


def until(what: str, attempt, timeout: float = 120.0):
    """attempt() until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = attempt()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not there after {timeout} s"
        time.sleep(0.3)


def month_add(day: date, months: int) -> str:
    index = day.year * 12 + day.month - 1 + months
    return f"{index // 12}-{index % 12 + 1:02d}"


def seed(stack: WebStack) -> dict:
    demo = demo_province()
    today = thai_today()
    with stack.client(USERS["officer"]) as api:
        imported = ok(
            api.post(
                f"/registry{P}/products/import",
                content=demo.sheet_csv(),
                headers={"Content-Type": "text/csv"},
            )
        )
        venues = [ok(api.post(f"/scheduling{P}/venues", json=v))["id"] for v in demo.venues[:3]]
        ok(
            api.post(
                f"/scheduling{P}/plans",
                json={**demo.plan, "first_month": month_add(today, -1), "last_month": month_add(today, 2)},
            )
        )
        days = {}
        for name, offset, venue in (("past", -14, 0), ("today", 0, 1), ("future", 7, 2), ("later", 14, 0)):
            days[name] = ok(
                api.post(
                    f"/scheduling{P}/market-days",
                    json={
                        "venue_id": venues[venue],
                        "day": (today + timedelta(days=offset)).isoformat(),
                        "starts_at": "08:00",
                        "ends_at": "16:00",
                    },
                )
            )["id"]
        committee = ok(
            api.post(
                f"/monitoring{P}/committees", json={k: v for k, v in demo.committee.items() if k != "members"}
            )
        )["id"]
        members = [
            ok(api.post(f"/monitoring{P}/committees/{committee}/members", json=m))["id"]
            for m in demo.committee["members"][:3]
        ]
        ok(
            api.post(
                f"/monitoring{P}/committees/{committee}/members",
                json={
                    "name": "นาง" + USERS["committee"].name,
                    "role": "otop_network",
                    "position": "กรรมการ",
                    "account": USERS["committee"].username,
                },
            )
        )  # the token's subject is the username (shared/auth.py)
        ok(
            api.post(
                f"/monitoring{P}/activities",
                json={**demo.activities[0], "held_on": (today - timedelta(days=3)).isoformat()},
            )
        )
        for issue in demo.issues[:5]:
            ok(api.post(f"/monitoring{P}/issues", json={**issue, "year": today.year, "month": today.month}))

        products = imported["products_created"]
        until(
            "scheduling knows the products",
            lambda: (
                len(
                    ok(
                        api.get(
                            f"/scheduling{P}/market-days/{days['today']}/proposal", params={"limit": 1000}
                        )
                    )["candidates"]
                )
                >= products - 40
            ),
        )
        for name in ("past", "today"):
            ok(api.post(f"/scheduling{P}/market-days/{days[name]}/lineup/fill"))
            for invitation in ok(api.get(f"/scheduling{P}/market-days/{days[name]}/lineup"))["invitations"]:
                ok(api.post(f"/scheduling{P}/invitations/{invitation['id']}/accept"))
            ok(api.post(f"/scheduling{P}/market-days/{days[name]}/held"))
        lineup = ok(api.get(f"/scheduling{P}/market-days/{days['past']}/lineup"))["invitations"]
        ok(
            api.put(
                f"/scheduling{P}/market-days/{days['past']}/attendance",
                json={"product_ids": [i["product_id"] for i in lineup[:18]]},
            )
        )
        sold_at = datetime.combine(today - timedelta(days=14), datetime.min.time(), THAILAND) + timedelta(
            hours=10
        )
        sales = [
            {
                "product_id": i["product_id"],
                "market_day_id": days["past"],
                "quantity": str(n % 4 + 1),
                "sold_at": sold_at.isoformat(),
            }
            for n, i in enumerate(lineup[:12])
        ]

        def recorded():
            answer = api.post(f"/sales{P}/sales/batch", json={"sales": sales})
            return ok(answer) if answer.status_code != 422 else None  # until the sales service knows the day

        amount = sum(Decimal(s["amount_thb"]) for s in until("the past day's sales", recorded)["sales"])

        def evaluated():
            answer = api.post(
                f"/monitoring{P}/evaluations",
                json={
                    "market_day_id": days["past"],
                    "member_id": members[0],
                    "producers_attending": 17,
                    "products_shown": 18,
                    "customers_estimate": 350,
                    "sales_observed_thb": str(amount),
                    "scores": {"display": 4, "variety": 4, "customer_interest": 3, "organisation": 5},
                    "overall_score": 4,
                    "problems": [
                        {"category": "worried_about_sales", "text": "ผู้ประกอบการบางรายกังวลว่าจะจำหน่ายสินค้าไม่ได้"}
                    ],
                    "suggestions": [{"category": "publicity", "text": "ประชาสัมพันธ์ทางวิทยุชุมชนและสื่อออนไลน์"}],
                },
            )
            return ok(answer) if answer.status_code != 404 else None  # until monitoring knows the day

        until("the past day's evaluation", evaluated)
    return {"days": days, "products": products, "past_amount": amount, "today": today}
