"""The sales pipeline benchmark: the sales and monitoring services as real processes (uvicorn), fed
signed POS messages on the ingress topic, against a raw baseline that consumes the same messages.

- baseline (a): plain aiokafka consume of the ingress messages + asyncpg COPY into one table, offsets
  committed after each batch's COPY;
- pipeline (b): ingress topic -> sales DB (signature, schema, dedupe) -> outbox -> otop.sales.recorded
  -> monitoring's sales read model (the rows its reports aggregate);
- latency: a producer paced at a fixed rate, each sale's send time against the time the bench first
  sees it in monitoring's read model (polled every POLL_S);
- reports: the national roll-up and one province-month over many sales written straight into
  monitoring's tables (bench.reports);
- peak RSS of each service process (VmHWM of /proc/<pid>/status).

`Params.replicas` runs that many processes of each service (the same database, the same consumer groups,
as `deploy.local.stack --replicas N`); the broker count is the caller's (bench/__main__.py `--brokers`).
"""

import asyncio
import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.reports import fill, time_reports
from deploy.kafka.provision import service_specs
from deploy.local.processes import ServiceProcess
from services.monitoring.consumers import GROUPS as MONITORING_GROUPS
from services.sales.domain import pos_sale_id
from shared import topics
from shared.kafka_admin import ensure_topics
from tests import harness
from tests.conftest import bearer, consume_from_now, eventually
from tests.harness import KafkaFixture, free_port
from tests.sales.support import MASTER_KEY, market_day, pos_body, pos_sale, product, publish, signed

PROVINCE = "72"
SALE_AMOUNT = Decimal("90.00")  # pos_sale's default: 2 x 45.00
POLL_S = 0.02
OFFICER, DEPARTMENT = bearer("province_officer", PROVINCE), bearer("department")
SALES_GROUPS = {
    "sales.products": topics.REGISTRY_PRODUCTS,
    "sales.market_days": topics.SCHEDULING_MARKET_DAYS,
    "sales.ingress": topics.SALES_INGRESS,
}


@dataclass(frozen=True)
class Params:
    sales: int = 20_000  # unique sales of the throughput run
    duplicate_share: float = 0.05  # of those sent a second time (the dedupe must drop them)
    rate: int = 1_000  # sales per second of the latency run
    latency_s: float = 30.0  # length of the latency run
    report_sales: int = 1_000_000  # sales stored in monitoring for the report timings
    service_env: tuple[tuple[str, str], ...] = ()  # extra OTOP_* settings for both services
    replicas: int = 1  # processes of each service, in the same consumer groups


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process used so far: unlike wall time, it hardly depends on what else
    runs on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: list[float | None], share: float) -> float | None:
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


class Bench:
    def __init__(self, kafka: KafkaFixture, server: str, params: Params, work_dir: Path) -> None:
        self.kafka, self.params, self.work_dir = kafka, params, work_dir
        run = uuid4().hex[:8]
        base = server.rsplit("/", 1)[0]
        self.server = server
        self.urls = {name: f"{base}/bench_{run}_{name}" for name in ("sales", "monitoring", "raw")}
        keycloak = harness.session_keycloak(server)  # the services check its tokens (bearer() below)
        env = {
            **keycloak.service_env(),
            **keycloak.sales_env(),
            **kafka.provisioner_env(),
            "OTOP_SALES_SIGNING_MASTER_KEY": MASTER_KEY,
            **dict(params.service_env),
        }
        # replica r of each service logs to <service>.log (the first) or <service>-<r>.log
        self.replicas = {
            name: [
                ServiceProcess(
                    name,
                    free_port(),
                    {**env, "OTOP_DATABASE_URL": self.urls[name]},
                    work_dir / (f"{name}.log" if r == 0 else f"{name}-{r + 1}.log"),
                )
                for r in range(params.replicas)
            ]
            for name in ("sales", "monitoring")
        }
        self.services = {name: processes[0] for name, processes in self.replicas.items()}
        self.peak_rss: dict[str, float] = {}
        self.run_id = run

    # --- set-up

    async def prepare(self) -> None:
        admin = await asyncpg.connect(self.server)
        try:
            for url in self.urls.values():
                await admin.execute(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
        finally:
            await admin.close()
        # The services see only this run's messages, even on a broker other runs used.
        await consume_from_now(self.kafka, {**SALES_GROUPS, **MONITORING_GROUPS})
        for name, processes in self.replicas.items():  # each with its own principal, as deployed
            kafka_env = await self.kafka.service_env(service_specs()[name])
            for service in processes:
                service.env |= kafka_env
                service.start()
        for service in self.processes():
            await asyncio.to_thread(service.wait_ready)
        # Registering makes the integration's Keycloak client too: seconds on a busy machine.
        async with httpx.AsyncClient(base_url=self.services["sales"].url, timeout=60) as http:
            created = await http.post(
                f"/provinces/{PROVINCE}/integrations", json={"name": "bench POS"}, headers=OFFICER
            )
            created.raise_for_status()
            self.key = created.json()
        self.product, self.day = product(), market_day(day=date(2019, 7, 15))
        await publish(self.kafka, self.product, self.day, province=PROVINCE)
        await eventually(
            lambda: self._fetchval(
                "sales",
                "SELECT EXISTS (SELECT FROM products WHERE id = $1) "
                "AND EXISTS (SELECT FROM market_days WHERE id = $2)",
                self.product.product_id,
                self.day.market_day_id,
            ),
            timeout=60,
        )

    def message(self, integration_sale_id: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        body = pos_body(pos_sale(integration_sale_id, self.product.product_id, self.day.market_day_id))
        return integration_sale_id.encode(), body, signed(body, self.key["key_id"], self.key["signing_key"])

    def sale_id(self, integration_sale_id: str) -> UUID:
        return pos_sale_id(PROVINCE, UUID(self.key["integration_id"]), integration_sale_id)

    async def _fetchval(self, db: str, sql: str, *args):
        conn = await asyncpg.connect(self.urls[db])
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    def processes(self, name: str | None = None) -> list[ServiceProcess]:
        """Every replica of `name`, or of both services."""
        return [p for n, processes in self.replicas.items() if name in (None, n) for p in processes]

    def _note_rss(self) -> None:
        """The peak RSS of each service: its largest replica's."""
        for service in self.processes():
            if service.process and service.process.poll() is None:
                self.peak_rss[service.name] = max(
                    self.peak_rss.get(service.name, 0.0), peak_rss_mb(service.process.pid)
                )

    # --- throughput: the same messages through the baseline and through the pipeline

    async def throughput(self) -> dict:
        n = self.params.sales
        ids = [f"{self.run_id}-t{i}" for i in range(n)]
        messages = [self.message(i) for i in ids]
        messages += messages[: int(n * self.params.duplicate_share)]  # sent again: counted once
        self._note_rss()
        for service in self.processes("sales"):  # the messages wait on the topic, as after an outage
            service.stop()
        starts = await end_offsets(self.kafka, topics.SALES_INGRESS)
        await send_all(self.kafka, messages)
        baseline_s, baseline_cpu_s = await raw_baseline(self.kafka, starts, len(messages), self.urls["raw"])

        for service in self.processes("sales"):
            service.start()
        # The clock starts with the first message a sales process takes (its otop_records_received_total),
        # as the baseline's starts with its first fetch; not after the first batch is stored. Watched while
        # the processes start: with replicas, the first one ready may take every record before the next is.
        first_received = asyncio.create_task(self._first_received())

        monitoring_before: float | None = None

        async def ready(service: ServiceProcess) -> float:
            """The process's CPU seconds once it is ready (its start-up is not the pipeline's work).
            Monitoring's are taken when the first sales process is ready: before that no sale can reach
            it, and what it spends idling while the sales processes start is not the pipeline's work."""
            nonlocal monitoring_before
            await asyncio.to_thread(service.wait_ready)
            if monitoring_before is None:
                monitoring_before = sum(cpu_seconds(p.started.pid) for p in self.processes("monitoring"))
            return cpu_seconds(service.started.pid)

        sales_before = sum(await asyncio.gather(*map(ready, self.processes("sales"))))
        assert monitoring_before is not None
        pids = {name: [p.started.pid for p in processes] for name, processes in self.replicas.items()}
        cpu_before = {"sales": sales_before, "monitoring": monitoring_before}
        day = self.day.market_day_id
        first = await first_received
        stored = done = None
        deadline = time.monotonic() + 120 + n / 50
        while done is None:
            now = time.monotonic()
            in_sales = await self._fetchval(
                "sales", "SELECT count(*) FROM sales WHERE market_day_id = $1", day
            )
            in_monitoring = await self._fetchval(
                "monitoring", "SELECT count(*) FROM sales WHERE market_day_id = $1", day
            )
            stored = stored or (now if in_sales >= n else None)
            done = now if in_monitoring >= n else None
            if now > deadline:
                raise TimeoutError(
                    f"after {now - first:.0f}s: {in_sales} of {n} sales stored, {in_monitoring} in monitoring"
                )
            await asyncio.sleep(POLL_S)
        self._note_rss()
        assert stored is not None  # monitoring has every sale only after sales stored them
        pipeline_s = max(done - first, POLL_S)  # a tiny run can finish within one poll
        per_1000 = 1000 / len(messages)
        cpu = {
            f"{name}_cpu_ms_per_1000": (sum(map(cpu_seconds, ps)) - cpu_before[name]) * 1000 * per_1000
            for name, ps in pids.items()
        }
        return {
            "messages": len(messages),
            "unique_sales": n,
            "baseline_s": baseline_s,
            "baseline_sales_per_s": len(messages) / baseline_s,
            "baseline_cpu_ms_per_1000": baseline_cpu_s * 1000 * per_1000,
            **cpu,
            "pipeline_s": pipeline_s,
            "pipeline_sales_per_s": len(messages) / pipeline_s,
            "sales_db_stored_after_s": stored - first,
            "ratio_b_over_a": baseline_s / pipeline_s,
            **await self.counted(ids),
        }

    async def _first_received(self, timeout: float = 60) -> float:
        """The moment a sales replica's ingress consumer has taken its first record (polled every
        POLL_S)."""
        sample = f'otop_records_received_total{{consumer="sales.ingress",topic="{topics.SALES_INGRESS}"}}'
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=10) as http:
            while time.monotonic() < deadline:
                for service in self.processes("sales"):
                    try:
                        metrics = (await http.get(f"{service.url}/internal/metrics")).text
                    except httpx.TransportError:  # still starting
                        continue
                    now = time.monotonic()
                    if any(
                        line.startswith(sample) and float(line.split()[-1]) > 0
                        for line in metrics.splitlines()
                    ):
                        return now
                await asyncio.sleep(POLL_S)
        raise TimeoutError(f"the sales service took no record within {timeout} s")

    async def counted(self, ids: list[str]) -> dict:
        """How many times each sale is counted in the sales DB and in monitoring's aggregate."""
        wanted = [self.sale_id(i) for i in ids]
        sales = await asyncpg.connect(self.urls["sales"])
        monitoring = await asyncpg.connect(self.urls["monitoring"])
        try:
            in_sales = await sales.fetchrow(
                "SELECT count(*) AS rows, count(DISTINCT integration_sale_id) AS distinct_ids, "
                "coalesce(sum(amount_thb), 0) AS thb FROM sales WHERE sale_id = ANY($1::uuid[])",
                wanted,
            )
            in_monitoring = await monitoring.fetchrow(
                "SELECT count(*) AS rows, coalesce(sum(amount_thb), 0) AS thb FROM sales "
                "WHERE id = ANY($1::uuid[]) AND NOT voided",
                wanted,
            )
        finally:
            await sales.close()
            await monitoring.close()
        return {
            "sales_db_rows": in_sales["rows"],
            "sales_db_distinct": in_sales["distinct_ids"],
            "sales_db_thb": str(in_sales["thb"]),
            "monitoring_rows": in_monitoring["rows"],
            "monitoring_thb": str(in_monitoring["thb"]),
            "expected_thb": str(SALE_AMOUNT * len(ids)),
        }

    # --- latency at a fixed rate

    async def latency(self) -> dict:
        rate, count = self.params.rate, int(self.params.rate * self.params.latency_s)
        ids = [f"{self.run_id}-l{i}" for i in range(count)]
        messages = [self.message(i) for i in ids]
        sent: dict[UUID, float] = {}
        seen: dict[UUID, float] = {}
        producer = AIOKafkaProducer(**self.kafka.options(), acks="all")
        await producer.start()

        async def produce() -> float:
            started = time.monotonic()
            futures = []
            for index, (key, value, headers) in enumerate(messages):
                delay = started + index / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent[self.sale_id(ids[index])] = time.monotonic()
                futures.append(await producer.send(topics.SALES_INGRESS, value, key=key, headers=headers))
            await asyncio.gather(*futures)
            return time.monotonic() - started

        async def observe() -> None:
            conn = await asyncpg.connect(self.urls["monitoring"])
            deadline = time.monotonic() + self.params.latency_s + 60
            try:
                while len(seen) < count and time.monotonic() < deadline:
                    pending = [sale for sale in sent if sale not in seen]
                    if pending:
                        rows = await conn.fetch("SELECT id FROM sales WHERE id = ANY($1::uuid[])", pending)
                        now = time.monotonic()
                        seen.update((row["id"], now) for row in rows)
                    await asyncio.sleep(POLL_S)
            finally:
                await conn.close()

        try:
            sending_s, _ = await asyncio.gather(produce(), observe())
        finally:
            await producer.stop()
        self._note_rss()
        # A sale not seen before the deadline counts as slower than all: its percentile is None.
        latencies = sorted(seen[sale] - sent[sale] for sale in seen) + [None] * (count - len(seen))
        return {
            "rate_asked": rate,
            "rate_sent": count / sending_s,
            "sales": count,
            "observed": len(seen),
            "p50_s": percentile(latencies, 0.50),
            "p99_s": percentile(latencies, 0.99),
            "max_s": latencies[-1],
            "poll_interval_s": POLL_S,
        }

    # --- reports over many stored sales

    async def reports(self) -> dict:
        started = time.monotonic()
        await fill(self.urls["monitoring"], self.params.report_sales)
        load_s = time.monotonic() - started
        async with httpx.AsyncClient(base_url=self.services["monitoring"].url, timeout=120) as http:
            timings = await time_reports(http, DEPARTMENT, OFFICER)
        self._note_rss()
        national = timings["national"].pop("body")
        province = timings["province"].pop("body")
        stored = await self._fetchval(
            "monitoring",
            "SELECT count(*) FROM sales s JOIN market_days d "
            "ON d.id = s.market_day_id WHERE NOT s.voided AND d.day < '2019-07-01'",
        )
        return {
            "stored_sales": self.params.report_sales,
            "load_s": load_s,
            **timings,
            "national_counted_sales": national["totals"]["sales"],
            "expected_counted_sales": stored,
            "provinces": len(national["provinces"]),
            "province_sales_thb": province["results"]["summary"]["sales_thb"],
        }

    def stop(self) -> None:
        self._note_rss()
        for service in self.processes():
            service.stop()


async def end_offsets(kafka: KafkaFixture, topic: str) -> dict[TopicPartition, int]:
    await ensure_topics(kafka.admin, [topic], partitions=6)
    reader = AIOKafkaConsumer(topic, **kafka.options())
    await reader.start()
    try:
        return await reader.end_offsets(list(reader.assignment()))
    finally:
        await reader.stop()


async def send_all(kafka: KafkaFixture, messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    producer = AIOKafkaProducer(**kafka.options(), acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = [
            await producer.send(topics.SALES_INGRESS, value, key=key, headers=headers)
            for key, value, headers in messages
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


RAW_TABLE = """CREATE TABLE IF NOT EXISTS raw_sales (
    integration_sale_id text, province_code text, product_id uuid, market_day_id uuid, quantity numeric,
    unit_price_thb numeric, sold_at timestamptz)"""


async def raw_baseline(
    kafka: KafkaFixture, starts: dict[TopicPartition, int], count: int, database_url: str
) -> tuple[float, float]:
    """The floor any ingestion pays: consume `count` messages from `starts` in batches of 500, read the
    JSON, COPY the sales into one table, commit the offsets after each COPY. Seconds from the first
    batch fetched to the last offsets committed, and the CPU seconds this process used meanwhile."""
    db = await asyncpg.connect(database_url)
    await db.execute(RAW_TABLE)
    consumer = AIOKafkaConsumer(
        **kafka.options(), group_id=f"bench.raw.{uuid4().hex[:6]}", enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(starts))
        for tp, offset in starts.items():
            consumer.seek(tp, offset)
        copied, started = 0, None
        while copied < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            if batches and started is None:
                started, cpu_started = time.monotonic(), time.process_time()
            rows = []
            for records in batches.values():
                for record in records:
                    envelope = json.loads(record.value)
                    sale = envelope["payload"]
                    rows.append(
                        (
                            sale["integration_sale_id"],
                            envelope["province_code"],
                            UUID(sale["product_id"]),
                            UUID(sale["market_day_id"]),
                            Decimal(sale["quantity"]),
                            Decimal(sale["unit_price_thb"]),
                            datetime.fromisoformat(sale["sold_at"]),
                        )
                    )
            if rows:
                await db.copy_records_to_table("raw_sales", records=rows)
                await consumer.commit()
                copied += len(rows)
        assert started is not None, "no record was fetched"
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
        assert await db.fetchval("SELECT count(*) FROM raw_sales") == count
        return elapsed, cpu
    finally:
        await consumer.stop()
        await db.close()


PHASES = ("throughput", "latency", "reports")


async def run(
    kafka: KafkaFixture, server: str, params: Params, work_dir: Path, phases: tuple[str, ...] = PHASES
) -> dict:
    """The benchmark's `phases` on a running broker (or cluster) and PostgreSQL server; returns the
    figures."""
    work_dir.mkdir(parents=True, exist_ok=True)
    bench = Bench(kafka, server, params, work_dir)
    results: dict = {"params": asdict(params), "started_at": datetime.now(UTC).isoformat()}
    try:
        await bench.prepare()
        for phase in phases:
            print(f"[bench] {phase} ...", flush=True)
            results[phase] = await getattr(bench, phase)()
    finally:
        bench.stop()
    results["peak_rss_mb"] = bench.peak_rss
    return results
