"""Load the demo province (deploy/local/demo_data.py) into running services, only through their HTTP APIs,
as officers and the committee would enter it, with a line of progress per step.

Order matters where the services react to each other through Kafka: the registry's products must reach
the scheduling service before it proposes a lineup, a market day and its products the sales service
before officers' sales are accepted, and market days the monitoring service before evaluations. Each
wait polls the API that shows it (never a blind sleep). Months are run in order, each month's lineups
before its market days are held, so a lineup is proposed knowing the earlier months' sales ("lowest sales
first") and the invitations so far.

    load_demo(local_urls(8001), AccessToken(...))  # -> summary: counts, and sales per month as sent
"""

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from itertools import groupby
from typing import Any
from uuid import uuid4

import httpx

from deploy.local.demo_data import (
    BUDGET_PROPOSAL,
    BUDGET_PURCHASES,
    DECLINE_REASONS,
    PROVINCE,
    THAILAND,
    YEAR_BE,
    DemoProvince,
    MarketDay,
    demo_province,
    evaluation,
    report_mismatch,
    rng_for,
    sent_totals,
)

DEMO_PROVINCE = PROVINCE
RECENT_DAYS = (
    90  # scheduling ranks by sales in the 90 days before a market day (services/scheduling/domain.py)
)
WAIT_S = 60.0


class NotYet(Exception):
    """A service has not heard of something yet (its read model lags): ask again shortly."""


def poll(what: str, attempt: Callable[[], object], timeout: float = WAIT_S) -> object:
    """attempt() until it returns without NotYet; TimeoutError naming `what` after `timeout` seconds."""
    deadline, pause = time.monotonic() + timeout, 0.05
    while True:
        try:
            return attempt()
        except NotYet as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: still not there after {timeout:.0f} s ({exc})") from exc
            time.sleep(pause)
            pause = min(pause * 1.5, 0.5)  # soon at first, then without loading the service


def _checked(response: httpx.Response) -> object:
    if response.is_error:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: "
            f"{response.text[:1000]}"
        )
    return response.json() if response.content else None


class Api:
    """One client per service, on the demo province's routes, with the officer's token and one correlation
    id for the whole load (the events it causes carry it)."""

    def __init__(self, urls: dict[str, str], auth: httpx.Auth) -> None:
        self.correlation_id = str(uuid4())
        headers = {"X-Correlation-Id": self.correlation_id}
        self.clients = {
            name: httpx.Client(base_url=f"{url}/provinces/{PROVINCE}", timeout=60, headers=headers, auth=auth)
            for name, url in urls.items()
        }

    def __call__(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer (a dict or a list) of a request that must succeed."""
        return _checked(self.clients[service].request(method, path, **kwargs))

    def raw(self, service: str, method: str, path: str, **kwargs) -> httpx.Response:
        return self.clients[service].request(method, path, **kwargs)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def _amount(quantity: int, price: Decimal) -> Decimal:
    return (quantity * price).quantize(Decimal("0.01"), ROUND_HALF_UP)


class DemoLoad:
    def __init__(
        self, api: Api, demo: DemoProvince, progress: Callable[[str], None], approver: Api | None = None
    ) -> None:
        self.api, self.demo, self.progress = api, demo, progress
        self.approver = approver  # the department's (approves the budget), if given
        self.product_ids: dict[str, str] = {}  # product name -> id
        self.products = {p.name: p for p in demo.products}
        self.market_days: list[tuple[MarketDay, str]] = []  # with their ids
        self.members: list[str] = []
        self.sold: list[tuple[str, datetime, Decimal]] = []  # product id, sold at, amount
        self.per_day: dict[str, dict] = {}  # market day id -> what happened there
        self.counts: Counter[str] = Counter()

    def step(self, number: int, title: str, run: Callable[[], str]) -> None:
        started = time.monotonic()
        said = run()
        self.progress(f"  [{number}/7] {title}: {said} ({time.monotonic() - started:.1f} s)")

    def run(self) -> dict:
        started = time.monotonic()
        self.step(1, "registry", self.registry)
        self.step(2, "scheduling", self.scheduling)
        self.step(3, "monitoring records", self.records)
        self.step(4, "market days", self.run_market_days)
        self.step(5, "monitoring caught up", self.wait_for_reports)
        self.step(6, "budget", self.budget)
        summary = self.summary(time.monotonic() - started)
        self.progress(f"  [7/7] demo loaded in {summary['seconds']:.1f} s")
        return summary

    # --- 1. producers and products, paused producers, mentoring groups

    def registry(self) -> str:
        imported = self.api(
            "registry",
            "POST",
            "/products/import",
            content=self.demo.sheet_csv(),
            headers={"Content-Type": "text/csv"},
        )
        for product, row in zip(
            self.demo.products, sorted(imported["rows"], key=lambda r: r["row"]), strict=True
        ):
            self.product_ids[product.name] = row["product_id"]
        producers = self.api("registry", "GET", "/producers", params={"limit": 500})["items"]
        producer_ids = {p["name"]: p["id"] for p in producers}
        for name, availability in self.demo.paused.items():
            self.api("registry", "PUT", f"/producers/{producer_ids[name]}/availability", json=availability)
        suggested = self.api("registry", "GET", "/mentoring-groups/suggestions")["groups"]
        for group in suggested[:4]:
            self.api("registry", "POST", "/mentoring-groups", json=group)
        self.counts.update(
            producers=imported["producers_created"],
            products=imported["products_created"],
            paused=len(self.demo.paused),
            mentoring_groups=len(suggested[:4]),
        )
        return (
            f"{imported['producers_created']} producers, {imported['products_created']} products imported; "
            f"{len(self.demo.paused)} producers paused (ขาดวัตถุดิบ); {len(suggested[:4])} mentoring groups"
        )

    # --- 2. venues, the plan, market days

    def scheduling(self) -> str:
        venue_ids = [
            self.api("scheduling", "POST", "/venues", json=venue)["id"] for venue in self.demo.venues
        ]
        self.api("scheduling", "POST", "/plans", json=self.demo.plan)
        for day in self.demo.market_days:
            created = self.api(
                "scheduling",
                "POST",
                "/market-days",
                json={
                    "venue_id": venue_ids[day.venue],
                    "day": day.day.isoformat(),
                    "starts_at": day.starts_at.isoformat(),
                    "ends_at": day.ends_at.isoformat(),
                },
            )
            self.market_days.append((day, created["id"]))
        return (
            f"{len(venue_ids)} venues, a plan June-September {YEAR_BE}, {len(self.market_days)} market days"
        )

    # --- 3. the committee, meetings, the months' problems and recommendations

    def records(self) -> str:
        committee = {k: v for k, v in self.demo.committee.items() if k != "members"}
        committee_id = self.api("monitoring", "POST", "/committees", json=committee)["id"]
        self.members = [
            self.api("monitoring", "POST", f"/committees/{committee_id}/members", json=member)["id"]
            for member in self.demo.committee["members"]
        ]
        for activity in self.demo.activities:
            self.api("monitoring", "POST", "/activities", json=activity)
        for issue in self.demo.issues:
            self.api("monitoring", "POST", "/issues", json=issue)
        return (
            f"a committee of {len(self.members)}, {len(self.demo.activities)} meetings, "
            f"{len(self.demo.issues)} problems and recommendations"
        )

    # --- 4. each market day: lineup, answers, held, attendance, sales

    def run_market_days(self) -> str:
        """Month by month, as officers work: the month's lineups first (proposed knowing the earlier
        months' sales), then the market days are held, their sales recorded and evaluated."""
        for _, of_month in groupby(self.market_days, key=lambda d: d[0].day.month):
            days = list(of_month)
            for day, market_day_id in days:
                self.wait_for_scheduling(day.day, market_day_id)
                self.invite(day, market_day_id)
            with ThreadPoolExecutor(
                len(days)
            ) as pool:  # answers to different market days do not wait on each other
                list(pool.map(self.accept, [market_day_id for _, market_day_id in days]))
            for day, market_day_id in days:
                self.sell(day, market_day_id, self.hold(day, market_day_id))
                facts = self.per_day[market_day_id]
                self.progress(
                    f"        {day.day.isoformat()} {self.demo.venues[day.venue]['name']}: "
                    f"{facts['accepted']} products ({facts['declined']} declined and replaced), "
                    f"{facts['sales']} sales, {facts['amount']:,.2f} baht"
                )
            self.evaluate(days)  # while the scheduling service takes in the month's sales
        return (
            f"{self.counts['invited']} invitations ({self.counts['declined']} declined), "
            f"{self.counts['sales']} sales, {self.counts['evaluations']} evaluations"
        )

    def wait_for_scheduling(self, day: date, market_day_id: str) -> None:
        """Until the scheduling service's read models hold every product that may come that day (and no
        paused one) with the sales made in the 90 days before it, as sent."""
        expected = {self.product_ids[p.name] for p in self.demo.products if self.demo.available(p, day)}
        since = datetime.combine(day - timedelta(days=RECENT_DAYS), datetime.min.time(), THAILAND)
        before = datetime.combine(day, datetime.min.time(), THAILAND)
        recent: defaultdict[str, Decimal] = defaultdict(Decimal)
        for product_id, sold_at, amount in self.sold:
            if since <= sold_at < before:
                recent[product_id] += amount

        def ready() -> None:
            candidates = self.api(
                "scheduling", "GET", f"/market-days/{market_day_id}/proposal", params={"limit": 1000}
            )["candidates"]
            seen = {c["product_id"] for c in candidates}
            if seen != expected:
                raise NotYet(
                    f"{len(seen & expected)} of {len(expected)} products, {len(seen - expected)} too many"
                )
            lagging = sum(Decimal(c["recent_sales_thb"]) != recent[c["product_id"]] for c in candidates)
            if lagging:
                raise NotYet(f"recent sales of {lagging} products not yet as sent")

        poll(f"scheduling's products and sales for {day}", ready)

    def invite(self, day: MarketDay, market_day_id: str) -> None:
        """The service's proposal, some producers declining (the reasons the seed names), and the
        replacements the next proposal brings."""
        invited = self.api("scheduling", "POST", f"/market-days/{market_day_id}/lineup/fill")["invited"]
        rng = rng_for("declines", day.day)
        by_name = sorted(invited, key=lambda i: i["product_name"])
        declining = rng.sample(by_name, min(len(by_name), rng.choice([0, 1, 2, 2, 3])))
        for invitation in declining:
            reason = rng.choices(list(DECLINE_REASONS), weights=list(DECLINE_REASONS.values()))[0]
            self.api(
                "scheduling", "POST", f"/invitations/{invitation['id']}/decline", json={"reason": reason}
            )
        replacements = self.api("scheduling", "POST", f"/market-days/{market_day_id}/lineup/fill")["invited"]
        self.counts.update(invited=len(invited) + len(replacements), declined=len(declining))
        self.per_day[market_day_id] = {"declined": len(declining)}

    def accept(self, market_day_id: str) -> None:
        """Every producer still invited says yes."""
        lineup = self.api("scheduling", "GET", f"/market-days/{market_day_id}/lineup")
        for invitation in lineup["invitations"]:
            if invitation["status"] == "sent":
                self.api("scheduling", "POST", f"/invitations/{invitation['id']}/accept")
        self.per_day[market_day_id]["accepted"] = lineup["in_lineup"]

    def hold(self, day: MarketDay, market_day_id: str) -> list[str]:
        """The market day was held; who came (now and then one accepted producer does not show up)."""
        self.api("scheduling", "POST", f"/market-days/{market_day_id}/held")
        lineup = self.api("scheduling", "GET", f"/market-days/{market_day_id}/lineup")
        accepted = sorted(
            (i for i in lineup["invitations"] if i["status"] == "accepted"), key=lambda i: i["product_name"]
        )
        rng = rng_for("attendance", day.day)
        if rng.random() < 0.3:
            accepted.pop(rng.randrange(len(accepted)))
        attended = [i["product_name"] for i in accepted]
        self.api(
            "scheduling",
            "PUT",
            f"/market-days/{market_day_id}/attendance",
            json={"product_ids": [self.product_ids[name] for name in attended]},
        )
        return attended

    def sell(self, day: MarketDay, market_day_id: str, attended: list[str]) -> None:
        """Officers record the day's tally, a sale line per product that sold, in one batch (retried until
        the sales service knows the market day and products)."""
        sales: list[dict[str, Any]] = []
        for name in attended:
            product, rng = self.products[name], rng_for("sales", day.day, name)
            quantity = (
                rng.choice([0, 1, 2, 3]) if product.price >= 300 else rng.choice([0, 2, 5, 8, 12, 20, 30])
            )
            if quantity:
                sales.append(
                    {
                        "product_id": self.product_ids[name],
                        "market_day_id": market_day_id,
                        "quantity": quantity,
                        "unit_price_thb": str(product.price),
                        "sold_at": day.sold_at(rng).isoformat(),
                    }
                )

        def record() -> None:
            response = self.api.raw("sales", "POST", "/sales/batch", json={"sales": sales})
            if response.status_code == 422 and all(
                e.get("type") == "unknown_reference" for e in response.json()["detail"]
            ):
                raise NotYet("market day or products unknown to the sales service")
            _checked(response)

        if sales:
            poll(f"sales of {day.day}", record)
        amount = sum((_amount(s["quantity"], Decimal(s["unit_price_thb"])) for s in sales), Decimal(0))
        for s in sales:
            self.sold.append(
                (
                    s["product_id"],
                    datetime.fromisoformat(s["sold_at"]),
                    _amount(s["quantity"], Decimal(s["unit_price_thb"])),
                )
            )
        producers = {self.products[name].row["producer_name"] for name in attended}
        self.per_day[market_day_id].update(
            sales=len(sales), amount=amount, attended=len(attended), producers=len(producers), day=day.day
        )
        self.counts.update(sales=len(sales))

    # --- the committee's evaluations

    def evaluate(self, days: list[tuple[MarketDay, str]]) -> None:
        """Two committee members evaluate each market day (entered by the officer)."""
        for day, market_day_id in days:
            facts, rng = self.per_day[market_day_id], rng_for("evaluation", day.day)
            for member_id in rng.sample(self.members, 2):
                body = evaluation(rng, market_day_id, member_id, facts)

                def submit(body=body) -> None:
                    response = self.api.raw("monitoring", "POST", "/evaluations", json=body)
                    if response.status_code == 404:
                        raise NotYet("market day unknown to the monitoring service")
                    _checked(response)

                poll(f"evaluation of {day.day}", submit)
                facts["evaluations"] = facts.get("evaluations", 0) + 1
                self.counts["evaluations"] += 1

    # --- 5. the reports show everything sent

    def months(self) -> dict[str, dict]:
        """Sales as sent, by month (YYYY-MM)."""
        days: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for facts in self.per_day.values():
            days[facts["day"].strftime("%Y-%m")].append(facts)
        return {month: sent_totals(days[month]) for month in sorted(days)}

    def wait_for_reports(self) -> str:
        """Until each month's report counts every market day held, attendance, sale and evaluation sent."""
        for month, sent in self.months().items():

            def caught_up(month=month, sent=sent) -> None:
                report = self.api("monitoring", "GET", f"/reports/{month[:4]}/{int(month[5:])}")
                if mismatch := report_mismatch(report, sent):
                    raise NotYet(f"{month}: {mismatch}")

            poll(f"monitoring report {month}", caught_up)
        return "every month's report counts all market days, sales and evaluations sent"

    # --- 6. the budget: the seed's proposal, approved; the flags and stall materials bought in June; each
    # market day's packing list checked off (loaded, and back)

    def budget(self) -> str:
        proposal = self.api("budget", "POST", "/proposals", json=BUDGET_PROPOSAL)
        if self.approver is None:
            return "the proposal submitted (no department account given to approve it)"
        path = f"/proposals/{proposal['id']}"
        self.approver("budget", "POST", f"{path}/versions/1/approve", json={"comment": "อนุมัติตามที่เสนอ"})
        for item, day, supplier, amount in BUDGET_PURCHASES:
            bought = self.api("budget", "POST", f"{path}/purchases", json=item)["id"]
            paid = {"bought_on": day, "supplier": supplier, "amount_thb": amount}
            self.api("budget", "POST", f"/purchases/{bought}/bought", json=paid)
            self.api("budget", "POST", f"/purchases/{bought}/received", json={"received_on": day})
        for _, market_day_id in self.market_days:
            packing: Any = poll(
                f"the budget service's lineup of {market_day_id}", partial(self.lineup, market_day_id)
            )
            for item in packing["items"]:
                marks = {"loaded": True, **({"returned": True} if item["reusable"] else {})}
                self.api(
                    "budget",
                    "POST",
                    f"/market-days/{market_day_id}/packing-list",
                    json={"kind": item["kind"], **marks},
                )
        self.counts.update(purchases=len(BUDGET_PURCHASES), packing_lists=len(self.market_days))
        spent = sum(Decimal(amount) for *_, amount in BUDGET_PURCHASES)
        return (
            f"the proposal approved, {len(BUDGET_PURCHASES)} purchases ({spent:,.2f} baht), "
            f"{len(self.market_days)} packing lists"
        )

    def lineup(self, market_day_id: str) -> dict:
        answer = self.api.raw("budget", "GET", f"/market-days/{market_day_id}/packing-list")
        if (
            answer.status_code == 404
            or answer.json()["lineup_size"] < self.per_day[market_day_id]["accepted"]
        ):
            raise NotYet("its market day or lineup")
        return answer.json()

    def summary(self, seconds: float) -> dict:
        return {
            "province_code": PROVINCE,
            "correlation_id": self.api.correlation_id,
            "seconds": round(seconds, 1),
            **self.counts,
            "market_days": len(self.market_days),
            "months": {m: {**v, "amount_thb": str(v["amount_thb"])} for m, v in self.months().items()},
        }


def load_demo(
    urls: dict[str, str],
    auth: httpx.Auth,
    progress: Callable[[str], None] = print,
    approver: httpx.Auth | None = None,
) -> dict:
    """Load the demo province into the services at `urls` (name -> base URL) as a province officer (or the
    department): `auth` sets their bearer token on each request (deploy.keycloak.admin.AccessToken renews
    it, the load takes longer than a token lasts); answers a summary of what was sent."""
    api = Api(urls, auth)
    department = Api(urls, approver) if approver is not None else None
    try:
        return DemoLoad(api, demo_province(), progress, department).run()
    finally:
        api.close()
        if department is not None:
            department.close()
