"""The public pages' benchmark (docs/benchmarks.md, "The public pages"): the province page and a market-day
page through the gateway (Debian's nginx with deploy/gateway/otop.conf.template) at a fixed rate, with the
gateway's 10 s cache of /p/, without it (the service's one-second page memo only) and with neither; their
size (HTML with its inlined CSS, gzipped as the gateway sends it); and Lighthouse's phone audit of both.

What runs: a PostgreSQL of its own, the publicity service (uvicorn, as deployed) and the gateway. Its read
models are filled as its consumers would fill them, with the demo province (deploy/local/demo_data.py: 100
producers, ~310 products) moved to this season: 16 market days from two weeks ago on, each with a lineup of
24 products. Kafka is not started: the pages read only the service's own database (the service serves HTTP
while its consumers wait for a broker).

The load: an open-loop generator (asyncio + httpx, keep-alive connections): one request every 1/rate s on a
fixed schedule, each timed from the moment it was due, so a slow answer cannot hold the next requests back
and hide its own delay (coordinated omission, which closed-loop tools such as Debian's wrk have). It runs on
the same two cores as nginx, the service and PostgreSQL, so its own CPU counts against the figures.

    python -m bench.public_pages [--rate 200] [--seconds 30] [--modes cached uncached bare]
                                 [--lighthouse docs/lighthouse]
"""

import argparse
import asyncio
import gzip
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from deploy.local.demo_data import demo_province
from deploy.local.gateway import LocalGateway
from deploy.local.processes import REPO, ServiceProcess
from shared.service_names import SERVICES
from shared.thailand import thai_today
from tests import harness

PROVINCE = "72"
LINEUP = 24
MODES = ("cached", "uncached", "bare")
LIGHTHOUSE = REPO / "bench" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"


def _id(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def province_rows(today: Any) -> dict[str, list[tuple]]:
    """The demo province as the publicity read models hold it, its market days moved around `today`."""
    rng = random.Random(72)
    demo = demo_province()
    producers: dict[str, tuple] = {}
    products = []
    for product in demo.products:
        row = product.row
        producer = producers.get(row["producer_name"])
        if producer is None:
            producer = (_id(rng), 1, PROVINCE, row["producer_name"], row["producer_type"])
            producer += (row["amphoe_code"], row["tambon_code"], None, None)  # none agreed to show a contact
            producers[row["producer_name"]] = producer
        products.append(
            (_id(rng), 1, PROVINCE, producer[0], row["name"], row["category"], int(row["star_level"]))
            + (row["nawatwithi"] == "true", product.price, row["unit"], row["status"] == "active", None)
        )
    venues = [
        (_id(rng), 1, PROVINCE, v["name"], v["kind"], v["amphoe_code"], v["tambon_code"])
        + ("หน้าที่ว่าการอำเภอ", 14.47 + i / 100, 100.11 + i / 100)
        for i, v in enumerate(demo.venues)
    ]
    first_month = (today - timedelta(days=20)).replace(day=1)
    plan = (
        uuid4(),
        1,
        PROVINCE,
        "โครงการ OTOP เคลื่อนที่",
        first_month,
        (today + timedelta(days=75)).replace(day=1),
    )
    days, lineup = [], []
    for n in range(16):
        venue = venues[n % len(venues)]
        day = today + timedelta(days=7 * n // 2 - 14)
        status = "held" if day < today else ("cancelled" if n == 9 else "scheduled")
        days.append(
            (_id(rng), 1, PROVINCE, plan[0], venue[0], venue[3], venue[4], day, clock(8), clock(16), status)
            + (n == 11, None, None, None, datetime.now(UTC))
        )
        for chosen in rng.sample(products, LINEUP):
            lineup.append(
                (uuid4(), PROVINCE, days[-1][0], chosen[0], chosen[3], "accepted", datetime.now(UTC))
            )
    return {
        "producers": list(producers.values()),
        "products": products,
        "venues": venues,
        "plans": [plan],
        "market_days": days,
        "lineup": lineup,
    }


async def fill(database_url: str) -> dict[str, list[tuple]]:
    rows = province_rows(thai_today())
    conn = await asyncpg.connect(database_url)
    try:
        for table, values in rows.items():
            columns = [
                r["column_name"]
                for r in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
                    "ORDER BY ordinal_position",
                    table,
                )
            ]
            await conn.copy_records_to_table(table, records=values, columns=columns)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return rows


async def load(url: str, rate: float, seconds: float) -> dict[str, Any]:
    """`rate` GETs a second for `seconds` on a fixed schedule; latencies from each request's due time."""
    latencies: list[float] = []
    failures: list[str] = []
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(timeout=10, limits=limits, headers={"Accept-Encoding": "gzip"}) as http:

        async def one(due: float) -> None:
            try:
                answer = await http.get(url)
                if answer.status_code != 200:
                    failures.append(str(answer.status_code))
            except httpx.HTTPError as error:
                failures.append(type(error).__name__)
            latencies.append(time.perf_counter() - due)

        for _ in range(int(rate)):  # a second of warm-up: connections open, caches filled
            await http.get(url)
        tasks = []
        start = time.perf_counter()
        for n in range(int(rate * seconds)):
            due = start + n / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {
        "requests": len(latencies),
        "achieved_rate": round(len(latencies) / elapsed, 1),
        "failures": len(failures),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
    }


def sizes(url: str) -> dict[str, int]:
    """The page as the gateway sends it to a browser asking for gzip, and unzipped (the CSS is inlined)."""
    with httpx.Client() as http:
        with http.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as answer:
            sent = b"".join(answer.iter_raw())
            encoding = answer.headers.get("content-encoding")
    html = gzip.decompress(sent) if encoding == "gzip" else sent
    return {
        "gzipped_bytes": len(sent) if encoding == "gzip" else len(gzip.compress(html)),
        "html_bytes": len(html),
    }


def lighthouse(url: str, out: Path, name: str) -> dict[str, Any]:
    """Lighthouse's default (phone) profile: a Moto G class screen, simulated slow 4G and a 4x slower CPU."""
    report = Path(tempfile.mkdtemp()) / f"{name}.json"
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--output=json",
            f"--output-path={report}",
            "--only-categories=performance,accessibility,best-practices,seo",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            "--quiet",
        ],
        check=True,
        env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"},
        timeout=300,
    )
    full = json.loads(report.read_text())
    audits = full["audits"]
    summary = {
        "url": url,
        "lighthouse": full["lighthouseVersion"],
        "form_factor": full["configSettings"]["formFactor"],
        "throttling": full["configSettings"]["throttlingMethod"],
        "scores": {key: round(category["score"] * 100) for key, category in full["categories"].items()},
        "metrics": {
            key: audits[key]["displayValue"]
            for key in (
                "first-contentful-paint",
                "largest-contentful-paint",
                "total-blocking-time",
                "cumulative-layout-shift",
                "speed-index",
            )
        },
        "failed_audits": sorted(
            key
            for key, audit in audits.items()
            if audit.get("score") is not None
            and audit["score"] < 0.9
            and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
        ),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user and system), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running(state: Path, database_url: str) -> Iterator[dict[str, tuple[LocalGateway, ServiceProcess]]]:
    """The publicity service twice (with its one-second page memo, and without) and three gateways in front:
    `cached` (the gateway's 10 s cache of /p/, then the service's memo), `uncached` (the memo only) and
    `bare` (neither: every request rendered); each with the service behind it."""
    env = {
        "OTOP_DATABASE_URL": database_url,
        "OTOP_KAFKA_BOOTSTRAP": f"127.0.0.1:{harness.free_port()}",  # no broker: the pages need none
        "OTOP_KAFKA_USERNAME": "svc-publicity",
        "OTOP_KAFKA_PASSWORD": "unused",
        "OTOP_OIDC_ISSUER": "http://127.0.0.1/unused",
        "OTOP_LOG_LEVEL": "ERROR",
    }
    services = {
        memo: ServiceProcess(
            "publicity",
            harness.free_port(),
            {**env, "OTOP_PAGE_MEMO_S": memo},
            state / f"publicity-{memo}.log",
        )
        for memo in ("1", "0")
    }
    root = state / "web"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>app</title>")
    nowhere = "http://127.0.0.1:9"
    upstreams = {name: nowhere for name in (*SERVICES, "keycloak")}
    gateways = {
        kind: LocalGateway(
            state / f"gateway-{kind}",
            harness.free_port(),
            {**upstreams, "publicity": services[memo].url},
            state / f"gateway-{kind}.log",
            root=root,
            public_cache=kind == "cached",
        )
        for kind, memo in (("cached", "1"), ("uncached", "1"), ("bare", "0"))
    }
    for service in services.values():
        service.start()
    try:
        for service in services.values():
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(f"{service.url}/health/live").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"publicity did not start; see {service.log_path}")
                time.sleep(0.3)
        for gateway in gateways.values():
            gateway.start()
            gateway.wait_ready()
        yield {
            kind: (gateway, services["0" if kind == "bare" else "1"]) for kind, gateway in gateways.items()
        }
    finally:
        for gateway in gateways.values():
            gateway.stop()
        for service in services.values():
            service.stop()


async def _create_database(server: str) -> str:
    admin = await asyncpg.connect(server)
    try:
        await admin.execute("CREATE DATABASE bench_publicity")
    finally:
        await admin.close()
    return server.rsplit("/", 1)[0] + "/bench_publicity"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200, help="requests a second")
    parser.add_argument("--seconds", type=float, default=30, help="per page and gateway")
    parser.add_argument(
        "--modes",
        nargs="*",
        choices=MODES,
        default=list(MODES),
        help="which gateways to load: cached (the gateway's cache and the memo), uncached (the memo only), "
        "bare (neither); none with --lighthouse: Lighthouse only",
    )
    parser.add_argument("--lighthouse", type=Path, help="run Lighthouse too; its summaries go to this folder")
    parser.add_argument("--out", type=Path, help="write the figures (JSON) here too")
    args = parser.parse_args()
    state = harness.scratch_dir("otop-public-bench-")  # world-traversable: nginx's workers run as nobody
    results: dict[str, Any] = {"rate": args.rate, "seconds": args.seconds, "cpus": os.cpu_count()}
    with harness.postgres() as server:
        database_url = asyncio.run(_create_database(server))
        with running(state, database_url) as gateways:
            rows = asyncio.run(fill(database_url))
            ahead = [d for d in rows["market_days"] if d[7] >= thai_today() and d[10] == "scheduled"]
            pages = {"province": f"/p/{PROVINCE}", "market_day": f"/p/{PROVINCE}/days/{ahead[0][0]}"}
            results["sizes"] = {name: sizes(gateways["cached"][0].url + path) for name, path in pages.items()}
            uncached = gateways["uncached"][0]
            for kind in args.modes:
                gateway, service = gateways[kind]
                for name, path in pages.items():
                    before = cpu_seconds(service.started.pid)
                    figures = asyncio.run(load(gateway.url + path, args.rate, args.seconds))
                    # the service's own CPU for the row (its warm-up second included): contention on a
                    # shared machine moves the latencies far more than this
                    figures["service_cpu_s"] = round(cpu_seconds(service.started.pid) - before, 2)
                    results[f"{name}_{kind}"] = figures
                    print(f"{name:<11} {kind:<9} {json.dumps(figures)}", flush=True)
            if args.lighthouse:
                results["lighthouse"] = {
                    name: lighthouse(uncached.url + path, args.lighthouse, name)
                    for name, path in pages.items()
                }
    print(json.dumps(results, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
