"""The restore drill of docs/operations.md: the monitoring database is lost and restored from a backup, it
catches up from Kafka, and every report is the same as before the loss.

    python -m deploy.local.restore_drill --state-dir /tmp/otop-stack [ports] [--load --scale 0.001 ...]

It runs the local stack's Kafka, PostgreSQL, Keycloak and services from a stopped stack's state directory
(`--load` first loads a national demo into it through the APIs, as the demo department user), then:

1. backup: the monitoring consumer groups' committed offsets, then `pg_dump --format=custom` of
   otop_monitoring (offsets first: Kafka offsets are committed after the database transaction, so every
   event before them is in the dump);
2. life goes on after the backup: late POS sales for every province's last market day (a new integration
   per province), a product's price changed and a producer paused in the registry;
3. the reports of every province and month, and the national months, as the department sees them;
4. the loss: monitoring stops, its database is dropped and restored from the dump (`pg_restore`);
5. control: monitoring starts again as it is: its groups' offsets are past what the dump holds, so the
   reports must now differ (the check can fail);
6. the procedure: lost again and restored again, the groups' offsets set back to those saved with the
   backup, monitoring starts, replays what came since (the inbox skips what the dump already holds), and
   every report must equal step 3's.

Prints each step with its time and writes a JSON summary (`--out`).
"""

import argparse
import asyncio
import glob
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from deploy.kafka.kafka_runner import LocalKafka
from deploy.kafka.provision import ProvisionSettings, provision
from deploy.keycloak.admin import AccessToken, password_grant
from deploy.keycloak.keycloak_runner import LocalKeycloak
from deploy.keycloak.realm import CLI_CLIENT
from deploy.local.accounts import one_time_codes
from deploy.local.demo_data import MONTHS, YEAR
from deploy.local.national import Http, Pipeline, load_national, pos_message
from deploy.local.processes import REPO, ServiceProcess, local_urls
from deploy.local.stack import (
    kafka_passwords,
    kafka_provisioner,
    kept_secret,
    keycloak_administrator,
    service_databases,
    service_envs,
    service_processes,
)
from services.monitoring.consumers import GROUPS as MONITORING_GROUPS
from shared.kafka_client import kafka_options
from shared.settings import KafkaSettings

LATE_SALES_PER_PROVINCE = 40


def pg_tool(name: str) -> str:
    """A PostgreSQL client program of the server's version (pg.sh runs the newest installed)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else name


async def committed_offsets(kafka: KafkaSettings) -> dict[str, dict[str, int]]:
    """Each monitoring consumer group's committed offsets: group -> "topic:partition" -> offset."""
    admin = AIOKafkaAdminClient(**kafka_options(kafka))
    await admin.start()
    try:
        return {
            group: {
                f"{tp.topic}:{tp.partition}": meta.offset
                for tp, meta in (await admin.list_consumer_group_offsets(group)).items()
            }
            for group in MONITORING_GROUPS
        }
    finally:
        await admin.close()


async def set_offsets(kafka: KafkaSettings, offsets: dict[str, dict[str, int]]) -> int:
    """Commits the saved offsets for each group (its consumers stopped); partitions the backup had no
    offset for go back to the start. Answers how many records each group will read again, in total."""
    replayed = 0
    for group, topic in MONITORING_GROUPS.items():
        reader = AIOKafkaConsumer(topic, **kafka_options(kafka))
        await reader.start()
        try:
            ends = await reader.end_offsets(list(reader.assignment()))
        finally:
            await reader.stop()
        saved = offsets.get(group, {})
        wanted = {tp: saved.get(f"{tp.topic}:{tp.partition}", 0) for tp in ends}
        committer = AIOKafkaConsumer(**kafka_options(kafka), group_id=group, enable_auto_commit=False)
        await committer.start()
        try:
            committer.assign(list(wanted))
            await committer.commit(wanted)
        finally:
            await committer.stop()
        replayed += sum(ends[tp] - offset for tp, offset in wanted.items())
    return replayed


class Drill:
    def __init__(
        self, state: Path, http_port: int, kafka_port: int, pg_port: int, say: Callable[[str], None]
    ) -> None:
        self.state, self.say = state, say
        self.kafka = LocalKafka(
            state / "kafka", kafka_port, controller_port=kafka_port + 1, ssl_port=kafka_port + 2
        )
        self.http_port, self.pg_port = http_port, pg_port
        self.server = f"postgresql://postgres@127.0.0.1:{pg_port}"
        # Keycloak as the stack ran it (its address and issuer kept in keycloak.json)
        kept = json.loads((state / "keycloak.json").read_text())
        self.keycloak = LocalKeycloak(
            state / "keycloak",
            urlsplit(kept["url"]).port,
            f"{self.server}/keycloak",
            admin_username=keycloak_administrator(state),
            admin_password=kept_secret(state / "keycloak_admin_password"),
            sales_client_secret=kept_secret(state / "keycloak_sales_secret"),
            public_url=kept["issuer"].rsplit("/realms/", 1)[0],
        )
        self.urls = local_urls(http_port)
        self.steps: dict[str, float] = {}
        self.results: dict = {}
        self.processes: dict[str, ServiceProcess] = {}
        self.provisioner: ServiceProcess | None = None

    def step(self, name: str, started: float) -> None:
        self.steps[name] = round(time.monotonic() - started, 1)
        self.say(f"  {name}: {self.steps[name]:.1f} s")

    # --- the system

    def start(self) -> None:
        """The stack's Kafka (its principals provisioned again: idempotent), PostgreSQL, Keycloak and one
        process of each service, from the stopped stack's state directory; the department's token from
        Keycloak."""
        self.kafka.start()
        self.admin = KafkaSettings(
            kafka_bootstrap=self.kafka.bootstrap,
            kafka_username=self.kafka.admin_username,
            kafka_password=self.kafka.admin_password,
        )
        principals = asyncio.run(
            provision(
                ProvisionSettings(**self.admin.model_dump()),
                kafka_passwords(self.state),
            )
        )
        self.provisioner = kafka_provisioner(self.state, principals)
        self.provisioner.start()
        subprocess.run(
            [
                REPO / "deploy" / "postgres" / "pg.sh",
                "start",
                "--data-dir",
                self.state / "pg",
                "--port",
                str(self.pg_port),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.keycloak.start()
        (self.state / "logs").mkdir(parents=True, exist_ok=True)
        self.processes = {
            p.name: p
            for p in service_processes(
                self.http_port,
                1,
                service_envs(self.state, self.keycloak, principals, self.provisioner),
                service_databases(self.state, self.server),
                self.state / "logs",
            )
        }
        for process in self.processes.values():
            process.start()
        for process in self.processes.values():
            process.wait_ready(180)
        password = json.loads((self.state / "demo-users.json").read_text())["demo-department"]
        codes = one_time_codes(self.state, "demo-department")
        self.token = AccessToken(
            lambda: password_grant(
                self.keycloak.token_url(), CLI_CLIENT, "demo-department", password, codes() if codes else None
            )
        )

    def stop(self) -> None:
        for process in [*self.processes.values(), *([self.provisioner] if self.provisioner else [])]:
            process.stop()
        self.keycloak.stop()
        self.kafka.stop()
        subprocess.run(
            [REPO / "deploy" / "postgres" / "pg.sh", "stop", "--data-dir", self.state / "pg"], check=False
        )

    @property
    def monitoring(self) -> ServiceProcess:
        return self.processes["monitoring"]

    def pipeline(self) -> Pipeline:
        return Pipeline(self.admin, self.kafka.ssl_bootstrap, self.kafka.ca_file)

    async def settled(self, what: str) -> None:
        http, pipeline = (
            Http(self.urls, self.token, 4),
            Pipeline(self.admin, self.kafka.ssl_bootstrap, self.kafka.ca_file),
        )
        await pipeline.start()
        try:
            await pipeline.settled(http, self.say, what)
        finally:
            await pipeline.stop()
            await http.close()

    # --- the steps

    async def backup(self, directory: Path) -> None:
        started = time.monotonic()
        directory.mkdir(parents=True, exist_ok=True)
        offsets = await committed_offsets(self.admin)
        (directory / "monitoring-offsets.json").write_text(json.dumps(offsets, indent=2))
        dump = directory / "otop_monitoring.dump"
        subprocess.run(
            [
                pg_tool("pg_dump"),
                "--format=custom",
                f"--file={dump}",
                f"--dbname={self.server}/otop_monitoring",
            ],
            check=True,
        )
        self.results["backup"] = {
            "dump_bytes": dump.stat().st_size,
            "at": datetime.now(UTC).isoformat(),
            "offsets": sum(len(v) for v in offsets.values()),
        }
        self.step("1. backup (offsets, then pg_dump)", started)
        self.dump, self.offsets = dump, offsets

    async def life_goes_on(self) -> None:
        """What monitoring must learn from Kafka after the backup: late POS sales, a price change, a pause."""
        started = time.monotonic()
        http, pipeline = (
            Http(self.urls, self.token, 8),
            Pipeline(self.admin, self.kafka.ssl_bootstrap, self.kafka.ca_file),
        )
        await pipeline.start()
        late = Decimal(0)
        try:
            provinces = await self.provinces(http)
            for code in provinces:
                days = await http(
                    "scheduling", "GET", f"/provinces/{code}/market-days", params={"status": "held"}
                )
                if not days:
                    continue
                day = max(days, key=lambda d: d["day"])
                present = await http(
                    "scheduling", "GET", f"/provinces/{code}/market-days/{day['id']}/attendance"
                )
                products = [
                    await http("registry", "GET", f"/provinces/{code}/products/{product_id}")
                    for product_id in present["product_ids"][:4]
                ]
                key = await http(
                    "sales", "POST", f"/provinces/{code}/integrations", json={"name": "POS ส่งยอดย้อนหลัง"}
                )
                messages = []
                for n in range(LATE_SALES_PER_PROVINCE):
                    product = products[n % len(products)]
                    messages.append(
                        pos_message(
                            code,
                            key,
                            {
                                "integration_sale_id": f"LATE-{code}-{day['id'][:8]}-{n:03d}",
                                "market_day_id": day["id"],
                                "product_id": product["id"],
                                "quantity": "1",
                                "unit_price_thb": product["price_thb"],
                                "sold_at": f"{day['day']}T12:00:00+07:00",
                            },
                        )
                    )
                    late += Decimal(product["price_thb"])
                await pipeline.send(key, messages)
                changed = {
                    k: v
                    for k, v in products[0].items()
                    if k
                    in (
                        "name",
                        "category",
                        "star_level",
                        "star_year",
                        "quadrant",
                        "nawatwithi",
                        "unit",
                        "status",
                        "producer_id",
                    )
                }
                await http(
                    "registry",
                    "PUT",
                    f"/provinces/{code}/products/{products[0]['id']}",
                    json={**changed, "price_thb": str(Decimal(products[0]["price_thb"]) + 5)},
                )
                await http(
                    "registry",
                    "PUT",
                    f"/provinces/{code}/producers/{products[1]['producer_id']}/availability",
                    json={"available": False, "unavailable_reason": "ขาดวัตถุดิบ (หลังสำรองข้อมูล)"},
                )
        finally:
            await pipeline.stop()
            await http.close()
        await self.settled("the changes after the backup counted")
        self.results["after_backup"] = {
            "late_sales": pipeline.sent,
            "late_sales_thb": str(late),
            "price_changes": len(provinces),
            "producers_paused": len(provinces),
        }
        self.step("2. changes after the backup (late POS sales, a price, a pause per province)", started)

    async def provinces(self, http: Http) -> list[str]:
        national = await http("monitoring", "GET", f"/national/reports/{YEAR}/{MONTHS[0]}")
        return [row["province_code"] for row in national["provinces"] if row["market_days_held"]]

    async def reports(self) -> dict[str, dict]:
        """Every province-month report and every national month, as JSON."""
        http = Http(self.urls, self.token, 8)
        try:
            provinces = await self.provinces(http)
            paths = [f"/provinces/{code}/reports/{YEAR}/{month}" for code in provinces for month in MONTHS]
            paths += [f"/national/reports/{YEAR}/{month}" for month in MONTHS]
            bodies = await asyncio.gather(*(http("monitoring", "GET", path) for path in paths))
            return dict(zip(paths, bodies, strict=True))
        finally:
            await http.close()

    async def lose_and_restore(self) -> float:
        started = time.monotonic()
        self.monitoring.stop()
        admin = await asyncpg.connect(f"{self.server}/postgres")
        try:
            await admin.execute("DROP DATABASE otop_monitoring WITH (FORCE)")
        finally:
            await admin.close()
        # A new database owned by monitoring's role, restored as that role: its tables are the role's.
        restored = await asyncio.to_thread(service_databases, self.state, self.server, ["monitoring"])
        subprocess.run(
            [
                pg_tool("pg_restore"),
                "--exit-on-error",
                "--no-owner",
                f"--dbname={restored['monitoring']}",
                str(self.dump),
            ],
            check=True,
        )
        return time.monotonic() - started

    async def restart_monitoring(self, what: str) -> float:
        started = time.monotonic()
        self.monitoring.start()
        await asyncio.to_thread(self.monitoring.wait_ready, 180)
        await self.settled(what)
        return time.monotonic() - started

    async def run(self, out: Path) -> dict:
        await self.settled("the system at rest before the drill")
        await self.backup(out)
        await self.life_goes_on()
        started = time.monotonic()
        before = await self.reports()
        self.step(f"3. {len(before)} reports read", started)

        restored_s = await self.lose_and_restore()
        await self.restart_monitoring("monitoring restarted without the rewind")
        control = differing(before, await self.reports())
        self.results["control"] = {
            "restore_s": round(restored_s, 1),
            "reports_differing": len(control),
            "example": control[:3],
        }
        self.say(
            f"  5. control, restored without setting the offsets back: {len(control)} of {len(before)} "
            "reports differ (as they must)"
        )

        restored_s = await self.lose_and_restore()
        started = time.monotonic()
        replayed = await set_offsets(self.admin, self.offsets)
        rewind_s = time.monotonic() - started
        catch_up_s = await self.restart_monitoring("monitoring catching up from Kafka")
        after = await self.reports()
        different = differing(before, after)
        self.results["restore"] = {
            "restore_s": round(restored_s, 1),
            "rewind_s": round(rewind_s, 1),
            "records_replayed": replayed,
            "catch_up_s": round(catch_up_s, 1),
            "reports_compared": len(before),
            "reports_differing": len(different),
            "example": different[:3],
        }
        self.say(
            f"  6. restored ({restored_s:.1f} s), offsets set back ({replayed:,} records to read again), "
            f"caught up in {catch_up_s:.1f} s: {len(before) - len(different)} of {len(before)} "
            "reports the same"
        )
        return {"steps_s": self.steps, **self.results, "same_reports": not different and bool(control)}


def differing(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    """Paths whose report changed; `as_of` (the day it was made) aside."""

    def comparable(body: dict) -> dict:
        return {k: v for k, v in body.items() if k != "as_of"}

    return [path for path in before if comparable(before[path]) != comparable(after.get(path, {}))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--state-dir", type=Path, required=True, help="a (stopped) local stack's state directory"
    )
    parser.add_argument("--http-port", type=int, default=8001)
    parser.add_argument("--kafka-port", type=int, default=19092)
    parser.add_argument("--pg-port", type=int, default=15432)
    parser.add_argument(
        "--load", action="store_true", help="first load a national demo (--scale, --provinces, --months)"
    )
    parser.add_argument("--scale", type=float, default=0.001)
    parser.add_argument("--provinces", nargs="*", default=None)
    parser.add_argument("--months", nargs="*", type=int, default=None)
    parser.add_argument(
        "--out", type=Path, help="backup and summary directory (default <state dir>/restore-drill)"
    )
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    state = args.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)
    out = args.out or state / "restore-drill"
    if not (state / "keycloak.json").exists():
        raise SystemExit(
            f"{state} is no local stack's state directory: start the stack on it once "
            "(python -m deploy.local.stack --state-dir ... --no-demo --exit-after-start)"
        )
    drill = Drill(state, args.http_port, args.kafka_port, args.pg_port, say)
    say(f"restore drill on {state}: starting Kafka, PostgreSQL and the services ...")
    try:
        drill.start()
        if args.load:
            asyncio.run(
                load_national(
                    drill.urls,
                    drill.token,
                    drill.admin,
                    drill.kafka.ssl_bootstrap,
                    drill.kafka.ca_file,
                    scale=args.scale,
                    provinces=args.provinces,
                    months=args.months,
                    say=say,
                )
            )
        summary = asyncio.run(drill.run(out))
    finally:
        drill.stop()
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if not summary["same_reports"]:
        raise SystemExit("the restore drill failed: see the summary")


if __name__ == "__main__":
    main()
