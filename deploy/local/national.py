"""Load the whole country's season (deploy/local/national_data.py) into running services, as the provinces'
officers, committees and POS systems would enter it: producers and products through the registry's import,
venues, plans, market days, lineups with declines, attendance and evaluations through the services' HTTP APIs,
and every sale as a signed POS message on the ingress topic (the README's contract, followed as an outside
POS system would). Nothing is written into a service's tables.

    python -m deploy.local.cli national-demo [--scale 0.1] [--provinces 72 10] [--months 6 7]

Provinces are loaded side by side (asyncio, one HTTP/1.1 connection pool per service, at most
`concurrency` requests in flight); months in order. Between phases the loader waits until the system has
settled (`Pipeline.settled`: every service's outbox empty and every consumer group of the services at
the end of its topics), so the next month's lineups are proposed knowing every earlier sale, and the
committee evaluates market days the monitoring service already knows. At the end each province-month
report and the national reports must count exactly what was sent.
"""

import asyncio
import hashlib
import hmac
import importlib
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from deploy.local.demo_data import (
    BUDGET_PROPOSAL,
    DECLINE_REASONS,
    MONTHS,
    YEAR,
    evaluation,
    report_mismatch,
    sent_totals,
)
from deploy.local.national_data import (
    MarketDay,
    Province,
    ProvinceSize,
    province_season,
    province_sizes,
    province_th,
    rng_for,
    sales_for,
)
from shared.kafka_client import kafka_options
from shared.service_names import SERVICES
from shared.settings import KafkaSettings

INGRESS_TOPIC = "otop.sales.ingress"
IMPORT_ROWS = 2_500  # rows per import file (the registry takes up to 5,000)
GENERATING = 4  # provinces whose sheets are in memory at once (the whole country's would take some 250 MB)
TRANSIENT = {502, 503, 504}
SETTLE_TIMEOUT_S = 3_600.0


class LoadFailed(Exception):
    pass


def consumer_groups() -> dict[str, str]:
    """Every consumer group of every service and its topic, read from the services' own consumers() lists
    (built with stand-ins for the database: nothing connects)."""
    from services.sales.config import SalesSettings

    stand_in = SimpleNamespace(unit_of_work=None, inbox=None, relay=SimpleNamespace(wake=lambda: None))
    groups = {}
    for name in SERVICES:
        settings = SalesSettings(
            service_name=name,
            database_url="postgresql://unused",
            oidc_issuer="https://unused",
            kafka_username="unused",
            kafka_password="unused",
            sales_signing_master_key="x" * 32,
        )
        for consumer in importlib.import_module(f"services.{name}.consumers").consumers(stand_in, settings):
            groups[consumer.group_id] = consumer.topic
    return groups


class Http:
    """One connection pool per service, at most `concurrency` requests in flight over all of them;
    transient answers (502-504, connection errors) are retried with backoff, never more than 8 times."""

    def __init__(self, urls: dict[str, str], auth: httpx.Auth, concurrency: int) -> None:
        self.correlation_id = str(uuid.uuid4())
        headers = {"X-Correlation-Id": self.correlation_id}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        # `auth`: a department's token from Keycloak, renewed while the load runs
        # (deploy.keycloak.admin.AccessToken)
        self.clients = {
            name: httpx.AsyncClient(base_url=url, headers=headers, auth=auth, timeout=600, limits=limits)
            for name, url in urls.items()
        }
        self.slots = asyncio.Semaphore(concurrency)
        self.requests = 0

    async def raw(self, service: str, method: str, path: str, **kwargs) -> httpx.Response:
        pause = 0.2
        for attempt in range(8):
            try:
                async with self.slots:
                    response = await self.clients[service].request(method, path, **kwargs)
                self.requests += 1
                if response.status_code not in TRANSIENT:
                    return response
            except httpx.TransportError:
                if attempt == 7:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 10)
        return response

    async def __call__(self, service: str, method: str, path: str, **kwargs) -> Any:
        response = await self.raw(service, method, path, **kwargs)
        if response.is_error:
            raise LoadFailed(f"{method} {service}{path} -> {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else None

    async def metrics(self, service: str) -> list[tuple[str, dict[str, str], float]]:
        """The service's Prometheus samples: (name, labels, value)."""
        response = await self.raw(service, "GET", "/internal/metrics")
        response.raise_for_status()
        return [
            (s.name, s.labels, s.value)
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        ]

    async def close(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self.clients.values()))


class Pipeline:
    """The loader's Kafka side: signed POS messages out, each province's as its POS integration (its own
    principal, from the registration), and the check that the system has settled, as `kafka`'s principal
    (an operator's: it reads the consumer groups' offsets)."""

    def __init__(self, kafka: KafkaSettings, pos_bootstrap: str, pos_ca_file: Path | None) -> None:
        """`pos_bootstrap`: the integrations' TLS listener (the only one their principals log in on), its
        certificate checked against `pos_ca_file`."""
        self.kafka = kafka
        self.pos_listener = {
            "kafka_bootstrap": pos_bootstrap,
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": "SCRAM-SHA-512",
            "kafka_ca_file": pos_ca_file,
        }
        self.admin = AIOKafkaAdminClient(**kafka_options(kafka))
        self.producers: dict[str, AIOKafkaProducer] = {}  # integration's Kafka user -> its producer
        self.sent = 0

    async def start(self) -> None:
        await self.admin.start()

    async def stop(self) -> None:
        await asyncio.gather(*(producer.stop() for producer in self.producers.values()))
        await self.admin.close()

    async def send(
        self, integration: dict, messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]
    ) -> None:
        """POS messages (key, signed body, headers) as the registered `integration`, each acknowledged by the
        broker (acks=all)."""
        username = integration["kafka_username"]
        if username not in self.producers:
            pos = KafkaSettings(
                **{
                    **self.kafka.model_dump(),
                    **self.pos_listener,
                    "kafka_username": username,
                    "kafka_password": SecretStr(integration["kafka_password"]),
                }
            )
            producer = AIOKafkaProducer(
                **kafka_options(pos),
                acks="all",
                enable_idempotence=True,
                linger_ms=20,
                max_batch_size=262_144,
            )
            await producer.start()
            self.producers[username] = producer
        producer = self.producers[username]
        pending = [
            await producer.send(INGRESS_TOPIC, value, key=key, headers=headers)
            for key, value, headers in messages
        ]
        await asyncio.gather(*pending)
        self.sent += len(messages)

    async def _end_offsets(self, topics: set[str]) -> dict[TopicPartition, int]:
        reader = AIOKafkaConsumer(**kafka_options(self.kafka))
        await reader.start()
        try:
            partitions = [
                TopicPartition(t, p) for t in topics for p in (reader.partitions_for_topic(t) or ())
            ]
            if not partitions:
                await reader._client.force_metadata_update()
                partitions = [
                    TopicPartition(t, p) for t in topics for p in (reader.partitions_for_topic(t) or ())
                ]
            return await reader.end_offsets(partitions) if partitions else {}
        finally:
            await reader.stop()

    async def behind(self, group_topics: dict[str, set[str]]) -> dict[str, int]:
        """Records of its topics not yet committed by each consumer group (only groups that are behind)."""
        ends = await self._end_offsets(set().union(*group_topics.values()))
        lag = {}
        for group, topics in group_topics.items():
            committed = await self.admin.list_consumer_group_offsets(group)
            missing = sum(
                end - (committed[tp].offset if tp in committed else 0)
                for tp, end in ends.items()
                if tp.topic in topics
            )
            if missing > 0:
                lag[group] = missing
        return lag

    async def settled(
        self, http: Http, say: Callable[[str], None], what: str, timeout: float = SETTLE_TIMEOUT_S
    ) -> float:
        """Waits until every service's outbox is empty and every consumer group has committed the end of its
        topics, twice in a row; says every 10 s what is still moving. Returns the seconds it took. The groups
        are those the services' code subscribes (`consumer_groups`); a group that has not committed yet
        counts as behind by all its topic holds."""
        started = time.monotonic()
        quiet, last_said = 0, started
        group_topics = {group: {topic} for group, topic in consumer_groups().items()}
        while quiet < 2:
            backlog: dict[str, float] = {}
            for service in SERVICES:
                for name, _, value in await http.metrics(service):
                    if name == "otop_outbox_backlog":
                        backlog[service] = backlog.get(service, 0) + value
            lag = await self.behind(group_topics) if not any(backlog.values()) else {}
            busy = {f"{k} outbox": int(v) for k, v in backlog.items() if v} | lag
            quiet = 0 if busy else quiet + 1
            now = time.monotonic()
            if now - started > timeout:
                raise LoadFailed(f"{what}: not settled after {timeout:.0f} s: {busy}")
            if busy and now - last_said >= 10:
                say(
                    f"      ... {what}: {now - started:.0f} s, still moving: "
                    + ", ".join(f"{k} {v:,}" for k, v in sorted(busy.items()))
                )
                last_said = now
            await asyncio.sleep(0.5 if busy else 0.2)
        return time.monotonic() - started


def amount(items: int, price: Decimal) -> Decimal:
    return (items * price).quantize(Decimal("0.01"), ROUND_HALF_UP)


def pos_message(province: str, key: dict, sale: dict) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """A POS sale as the README's contract has an outside system send it: the envelope's exact bytes,
    signed with the integration's key, keyed by the integration's sale id."""
    envelope = {
        "event_id": str(uuid.uuid4()),
        "type": "sales.pos.sale",
        "version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "province_code": province,
        "source": f"pos-national-{province}",
        "payload": sale,
    }
    body = json.dumps(envelope, ensure_ascii=False).encode()
    signature = hmac.new(key["signing_key"].encode(), body, hashlib.sha256).hexdigest()
    return (
        sale["integration_sale_id"].encode(),
        body,
        [("x-otop-key-id", key["key_id"].encode()), ("x-otop-signature", signature.encode())],
    )


@dataclass
class Loaded:
    """A province being loaded: generated when its registry step starts, its sheet dropped once imported
    (the product ids and prices are all the rest needs)."""

    size: ProvinceSize
    generated: Province | None = None

    @property
    def province(self) -> Province:
        if self.generated is None:
            raise RuntimeError(f"province {self.size.code} used before its registry step generated it")
        return self.generated

    product_ids: list[str] = field(default_factory=list)  # by sheet row
    row_of: dict[str, int] = field(default_factory=dict)  # product id -> sheet row
    venue_ids: list[str] = field(default_factory=list)
    day_ids: dict[int, str] = field(default_factory=dict)  # market day index -> id
    members: list[str] = field(default_factory=list)
    key: dict = field(default_factory=dict)  # the POS integration's key id and signing key
    facts: dict[int, dict] = field(default_factory=dict)  # market day index -> what happened there


class NationalLoad:
    def __init__(
        self,
        http: Http,
        pipeline: Pipeline,
        sizes: list[ProvinceSize],
        months: list[int],
        say: Callable[[str], None],
    ) -> None:
        self.http, self.pipeline, self.say, self.months = http, pipeline, say, months
        self.provinces = [Loaded(size) for size in sizes]
        self.generating = asyncio.Semaphore(GENERATING)
        self.counts: Counter = Counter()
        self.phases: dict[str, float] = {}

    # --- driving

    async def phase(self, name: str, work: Callable[[Loaded], Any], progress: Callable[[], str]) -> None:
        """`work` for every province side by side, a progress line every 10 s, the time it took."""
        started, done = time.monotonic(), 0

        async def one(province: Loaded) -> None:
            nonlocal done
            await work(province)
            done += 1

        async def tick() -> None:
            while True:
                await asyncio.sleep(10)
                elapsed = time.monotonic() - started
                self.say(
                    f"      ... {name}: {elapsed:.0f} s, {done}/{len(self.provinces)} provinces, "
                    f"{progress()}, "
                    f"{self.http.requests / max(time.monotonic() - self.started, 1e-9):.0f} "
                    "requests/s overall"
                )

        ticker = asyncio.create_task(tick())
        try:
            await asyncio.gather(*(one(p) for p in self.provinces))
        finally:
            ticker.cancel()
        self.phases[name] = round(time.monotonic() - started, 1)
        self.say(f"    {name}: {progress()} ({self.phases[name]:.1f} s)")

    async def settle(self, what: str) -> None:
        seconds = await self.pipeline.settled(self.http, self.say, what)
        self.phases[f"settle: {what}"] = round(seconds, 1)
        self.say(f"    settled ({what}) in {seconds:.1f} s")

    async def run(self) -> dict:
        self.started = time.monotonic()
        self.say(f"  [1/5] registry: producers and products of {len(self.provinces)} provinces")
        await self.phase(
            "registry",
            self.registry,
            lambda: (
                f"{self.counts['producers']:,} producers, {self.counts['products']:,} products, "
                f"{self.counts['paused']:,} paused"
            ),
        )
        self.say("  [2/5] venues, plans, market days, committees, POS integrations")
        await self.phase(
            "set-up",
            self.set_up,
            lambda: (
                f"{self.counts['venues']} venues, {self.counts['market_days']} market days, "
                f"{self.counts['members']} committee members, {self.counts['integrations']} POS, "
                f"{self.counts['budgets']} budgets approved"
            ),
        )
        await self.settle("every service knows the products and market days")
        for number, month in enumerate(self.months, start=1):
            label = f"{YEAR}-{month:02d}"
            self.say(f"  [3/5] month {number}/{len(self.months)} ({label}): lineups, declines, held, sales")
            await self.phase(
                f"market days {label}",
                partial(self.market_month, month=month),
                lambda: (
                    f"{self.counts['days_held']} market days held, "
                    f"{self.counts['declined']} declined, {self.pipeline.sent:,} POS sales sent"
                ),
            )
            await self.settle(f"the sales of {label} recorded and counted")
            self.say(f"  [4/5] month {number}/{len(self.months)} ({label}): the committees' evaluations")
            await self.phase(
                f"evaluations {label}",
                partial(self.evaluate, month=month),
                lambda: f"{self.counts['evaluations']} evaluations",
            )
        await self.settle("the evaluations counted")
        self.say("  [5/5] every report counts what was sent")
        checked = await self.check_reports()
        seconds = time.monotonic() - self.started
        self.say(
            f"  national demo loaded in {seconds:.0f} s: {self.counts['products']:,} products, "
            f"{self.counts['days_held']} market days, {self.pipeline.sent:,} sales, {checked} reports checked"
        )
        return self.summary(seconds)

    # --- 1. the registry

    async def registry(self, loaded: Loaded) -> None:
        async with self.generating:
            loaded.generated = province = await asyncio.to_thread(province_season, loaded.size)
            base = f"/provinces/{province.code}"
            loaded.product_ids = [""] * len(province.rows)
            for first_row, body in province.sheets(IMPORT_ROWS):
                imported = await self.http(
                    "registry",
                    "POST",
                    f"{base}/products/import",
                    content=body,
                    headers={"Content-Type": "text/csv"},
                )
                for offset, row in enumerate(sorted(imported["rows"], key=lambda r: r["row"])):
                    loaded.product_ids[first_row + offset] = row["product_id"]
                self.counts.update(
                    producers=imported["producers_created"], products=imported["products_created"]
                )
        loaded.row_of = {product_id: row for row, product_id in enumerate(loaded.product_ids)}
        producer_ids: dict[str, str] = {}
        offset = 0
        while True:
            page = await self.http(
                "registry", "GET", f"{base}/producers", params={"limit": 500, "offset": offset}
            )
            producer_ids.update((p["name"], p["id"]) for p in page["items"])
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                break
        await asyncio.gather(
            *(
                self.http(
                    "registry",
                    "PUT",
                    f"{base}/producers/{producer_ids[name]}/availability",
                    json=availability,
                )
                for name, availability in province.paused.items()
            )
        )
        self.counts["paused"] += len(province.paused)
        province.rows = []  # the ids and prices are all the rest needs

    # --- 2. venues, the plan, market days; the committee and its records; the POS integration

    async def set_up(self, loaded: Loaded) -> None:
        province = loaded.province
        base = f"/provinces/{province.code}"
        for venue in province.venues:
            loaded.venue_ids.append(
                (await self.http("scheduling", "POST", f"{base}/venues", json=venue))["id"]
            )
        await self.http("scheduling", "POST", f"{base}/plans", json=province.plan)
        for day in self.days(loaded):
            created = await self.http(
                "scheduling",
                "POST",
                f"{base}/market-days",
                json={
                    "venue_id": loaded.venue_ids[day.venue],
                    "day": day.day.isoformat(),
                    "starts_at": day.starts_at.isoformat(),
                    "ends_at": day.ends_at.isoformat(),
                },
            )
            loaded.day_ids[day.index] = created["id"]
        committee = {k: v for k, v in province.committee.items() if k != "members"}
        committee_id = (await self.http("monitoring", "POST", f"{base}/committees", json=committee))["id"]
        for member in province.committee["members"]:
            loaded.members.append(
                (
                    await self.http(
                        "monitoring", "POST", f"{base}/committees/{committee_id}/members", json=member
                    )
                )["id"]
            )
        await asyncio.gather(
            *(self.http("monitoring", "POST", f"{base}/activities", json=a) for a in province.activities),
            *(self.http("monitoring", "POST", f"{base}/issues", json=i) for i in province.issues),
        )
        loaded.key = await self.http(
            "sales",
            "POST",
            f"{base}/integrations",
            json={"name": f"POS ตลาด OTOP {province_th(province.size)}"},
        )
        # The province's project proposal (the demo's, at the province's places), approved by the department.
        proposal = await self.http(
            "budget",
            "POST",
            f"{base}/proposals",
            json={
                **BUDGET_PROPOSAL,
                "activities": [
                    {**a, "places": f"ตลาดประชารัฐและแหล่งท่องเที่ยว{province_th(province.size)}"}
                    for a in BUDGET_PROPOSAL["activities"]
                ],
            },
        )
        await self.http("budget", "POST", f"{base}/proposals/{proposal['id']}/versions/1/approve", json={})
        self.counts.update(
            venues=len(loaded.venue_ids),
            market_days=len(loaded.day_ids),
            members=len(loaded.members),
            integrations=1,
            budgets=1,
        )

    def days(self, loaded: Loaded, month: int | None = None) -> list[MarketDay]:
        return [
            d
            for d in loaded.province.market_days
            if d.day.month in self.months and (month is None or d.day.month == month)
        ]

    # --- 3. a month's market days: lineups, declines and replacements, held, attendance, POS sales

    async def market_month(self, loaded: Loaded, month: int) -> None:
        days = self.days(loaded, month)
        for day in days:  # the month's lineups first, as officers plan them
            await self.lineup(loaded, day)
        await asyncio.gather(*(self.accept(loaded, day) for day in days))
        for day in days:
            await self.hold_and_sell(loaded, day)

    def row(self, loaded: Loaded, invitation: dict) -> int:
        return loaded.row_of[invitation["product_id"]]

    async def lineup(self, loaded: Loaded, day: MarketDay) -> None:
        """The scheduling service's proposal invited; some producers decline (the reasons the seed names), and
        the next proposal replaces them."""
        base = f"/provinces/{loaded.province.code}/market-days/{loaded.day_ids[day.index]}"
        invited = (await self.http("scheduling", "POST", f"{base}/lineup/fill"))["invited"]
        rng = rng_for("declines", loaded.province.code, day.index)
        ordered = sorted(invited, key=lambda i: self.row(loaded, i))
        declining = rng.sample(ordered, min(len(ordered), rng.choice([0, 1, 2, 2, 3])))
        replacements = []
        if declining:
            await self.http(
                "scheduling",
                "POST",
                f"{base}/answers",
                json={
                    "answers": [
                        {
                            "invitation_id": i["id"],
                            "accept": False,
                            "reason": rng.choices(
                                list(DECLINE_REASONS), weights=list(DECLINE_REASONS.values())
                            )[0],
                        }
                        for i in declining
                    ]
                },
            )
            replacements = (await self.http("scheduling", "POST", f"{base}/lineup/fill"))["invited"]
        loaded.facts[day.index] = {"declined": len(declining), "invited": len(invited) + len(replacements)}
        self.counts.update(declined=len(declining), invited=len(invited) + len(replacements))

    async def accept(self, loaded: Loaded, day: MarketDay) -> None:
        """Every producer still invited says yes (the officer enters the round of answers at once)."""
        base = f"/provinces/{loaded.province.code}/market-days/{loaded.day_ids[day.index]}"
        lineup = await self.http("scheduling", "GET", f"{base}/lineup")
        sent = [
            {"invitation_id": i["id"], "accept": True} for i in lineup["invitations"] if i["status"] == "sent"
        ]
        answered = (
            (await self.http("scheduling", "POST", f"{base}/answers", json={"answers": sent}))["invitations"]
            if sent
            else []
        )
        loaded.facts[day.index]["lineup"] = [
            i for i in lineup["invitations"] if i["status"] == "accepted"
        ] + answered

    async def hold_and_sell(self, loaded: Loaded, day: MarketDay) -> None:
        code, day_id = loaded.province.code, loaded.day_ids[day.index]
        base = f"/provinces/{code}/market-days/{day_id}"
        await self.http("scheduling", "POST", f"{base}/held")
        lineup = loaded.facts[day.index].pop("lineup")
        accepted = sorted(lineup, key=lambda i: self.row(loaded, i))
        in_lineup = len(accepted)
        rng = rng_for("attendance", code, day.index)
        if accepted and rng.random() < 0.3:  # now and then an accepted producer does not come
            accepted.pop(rng.randrange(len(accepted)))
        await self.http(
            "scheduling",
            "PUT",
            f"{base}/attendance",
            json={"product_ids": [i["product_id"] for i in accepted]},
        )
        messages, total = [], Decimal(0)
        for invitation in accepted:
            row = self.row(loaded, invitation)
            price = loaded.province.prices[row]
            rng = rng_for("sales", code, day.index, row)
            for number, items in enumerate(sales_for(price, rng)):
                sale = {
                    "integration_sale_id": f"POS-{code}-{day.index:02d}-{row:05d}-{number:03d}",
                    "market_day_id": day_id,
                    "product_id": invitation["product_id"],
                    "quantity": str(items),
                    "unit_price_thb": str(price),
                    "sold_at": day.sold_at(rng).isoformat(),
                }
                messages.append(pos_message(code, loaded.key, sale))
                total += amount(items, price)
        await self.pipeline.send(loaded.key, messages)
        loaded.facts[day.index].update(
            month=day.day.month,
            sales=len(messages),
            amount=total,
            attended=len(accepted),
            producers=len({i["producer_id"] for i in accepted}),
            accepted=in_lineup,
        )
        self.counts.update(days_held=1, sales=len(messages))

    # --- 4. the committee's evaluations (two members a market day, entered by the officer)

    async def evaluate(self, loaded: Loaded, month: int) -> None:
        code = loaded.province.code
        for day in self.days(loaded, month):
            facts, rng = loaded.facts[day.index], rng_for("evaluation", code, day.index)
            for member_id in rng.sample(loaded.members, 2):
                await self.http(
                    "monitoring",
                    "POST",
                    f"/provinces/{code}/evaluations",
                    json=evaluation(rng, loaded.day_ids[day.index], member_id, facts),
                )
                facts["evaluations"] = facts.get("evaluations", 0) + 1
                self.counts["evaluations"] += 1

    # --- 5. the reports count what was sent

    def sent(self, loaded: Loaded, month: int) -> dict:
        return sent_totals(f for f in loaded.facts.values() if f.get("month") == month)

    async def check_reports(self) -> int:
        problems: list[str] = []

        async def province_month(loaded: Loaded, month: int) -> None:
            report = await self.http(
                "monitoring", "GET", f"/provinces/{loaded.province.code}/reports/{YEAR}/{month}"
            )
            if mismatch := report_mismatch(report, self.sent(loaded, month)):
                problems.append(f"{loaded.province.code} {YEAR}-{month:02d}: {mismatch}")

        await asyncio.gather(*(province_month(p, m) for p in self.provinces for m in self.months))
        for month in self.months:
            national = (await self.http("monitoring", "GET", f"/national/reports/{YEAR}/{month}"))["totals"]
            sent = [self.sent(p, month) for p in self.provinces]
            wanted = (sum(s["sales"] for s in sent), sum((s["amount_thb"] for s in sent), Decimal(0)))
            if (national["sales"], Decimal(national["sales_thb"])) != wanted:
                problems.append(
                    f"national {YEAR}-{month:02d}: {national['sales']} sales, {national['sales_thb']} baht; "
                    f"sent {wanted}"
                )
        if problems:
            raise LoadFailed("the reports do not count what was sent:\n  " + "\n  ".join(problems))
        return len(self.provinces) * len(self.months) + len(self.months)

    def summary(self, seconds: float) -> dict:
        return {
            "seconds": round(seconds, 1),
            "phases_s": self.phases,
            "correlation_id": self.http.correlation_id,
            "requests": self.http.requests,
            **{k: v for k, v in sorted(self.counts.items())},
            "months": [f"{YEAR}-{m:02d}" for m in self.months],
            "provinces": {
                p.province.code: {
                    "name": p.province.size.name_en,
                    "producers": p.province.size.producers,
                    "products": p.province.size.products,
                    "months": {
                        f"{YEAR}-{m:02d}": {
                            k: str(v) if isinstance(v, Decimal) else v for k, v in self.sent(p, m).items()
                        }
                        for m in self.months
                    },
                }
                for p in self.provinces
            },
        }


async def ready(http: Http, say: Callable[[str], None], timeout: float = 300) -> None:
    """Until every service answers /health/ready (its database reachable and its Kafka consumers running)."""
    deadline = time.monotonic() + timeout

    async def answers(service: str) -> bool:
        try:
            return (await http.clients[service].get("/health/ready")).status_code == 200
        except httpx.TransportError:
            return False

    for service in SERVICES:
        if not await answers(service):
            say(f"  waiting for {service} to be ready ...")
        while not await answers(service):
            if time.monotonic() > deadline:
                raise LoadFailed(f"{service} is not ready after {timeout:.0f} s")
            await asyncio.sleep(1)


async def load_national(
    urls: dict[str, str],
    auth: httpx.Auth,
    kafka: KafkaSettings,
    pos_bootstrap: str,
    pos_ca_file: Path | None,
    *,
    scale: float = 1.0,
    provinces: list[str] | None = None,
    months: list[int] | None = None,
    concurrency: int = 12,
    say: Callable[[str], None] = print,
) -> dict:
    """Load the national season into the services at `urls` (name -> base URL) as a department user (`auth`,
    its token from Keycloak), sending sales to the Kafka of `kafka` (an operator's principal, for the settle
    check; the POS integrations use their own); answers a summary of what was sent and how long it took."""
    months = sorted(months or MONTHS)
    chosen = [size for size in province_sizes(scale) if not provinces or size.code in provinces]
    if not chosen:
        raise LoadFailed(f"no province among {provinces}")
    say(
        f"  {len(chosen)} provinces, {sum(s.producers for s in chosen):,} producers, "
        f"{sum(s.products for s in chosen):,} products (scale {scale}), months {months}"
    )
    http, pipeline = Http(urls, auth, concurrency), Pipeline(kafka, pos_bootstrap, pos_ca_file)
    await pipeline.start()
    try:
        await ready(http, say)
        for loaded in chosen:
            existing = await http(
                "registry", "GET", f"/provinces/{loaded.code}/products", params={"limit": 1}
            )
            if existing["total"]:
                raise LoadFailed(
                    f"province {loaded.code} has products already: the national demo loads into an "
                    "empty system (start the stack with --no-demo and a new --state-dir)"
                )
        load = NationalLoad(http, pipeline, chosen, months, say)
        summary = await load.run()
        return {"scale": scale, **summary}
    finally:
        await pipeline.stop()
        await http.close()


def by_month(rows: dict) -> dict[str, dict]:
    """The summary's sent totals added up by month over the provinces."""
    months: dict[str, dict] = defaultdict(lambda: {"market_days": 0, "sales": 0, "amount_thb": Decimal(0)})
    for province in rows.values():
        for month, sent in province["months"].items():
            months[month]["market_days"] += sent["market_days"]
            months[month]["sales"] += sent["sales"]
            months[month]["amount_thb"] += Decimal(sent["amount_thb"])
    return dict(months)
