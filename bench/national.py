"""Measure a running local stack after `python -m deploy.local.cli national-demo` (docs/benchmarks.md,
"The whole country"): the load's time by phase (from the load's summary, <state dir>/national.json), the
proposal for one market day, province and national reports (median of 5 after a warm-up), the department's
first paint of the web application (bench.first_paint, through the gateway), each service process's peak RSS,
Kafka's and PostgreSQL's disk use, and the rows and bytes of each service's largest tables (for
docs/operations.md's capacity planning).

    python -m bench.national --state-dir /tmp/otop-stack --http-port 8001 --gateway-port 8000 \
        --pg-port 15432 [--out results.json]

The stack's processes are found by their command lines (`services.<name>.main:app ... --port <port>`), so
replicas (`--replicas N`) are measured too. Reads only: nothing is written.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from bench import first_paint
from bench.pipeline import peak_rss_mb
from deploy.local.cli import auth_from
from deploy.local.processes import REPO, local_urls
from shared.service_names import SERVICES

YEAR = 2019
REPEATS = 5


def service_pids(http_port: int, replicas: int = 9) -> dict[str, list[int]]:
    """Each service's processes of the stack whose first port is `http_port` (any replica)."""
    ports = {
        str(http_port + len(SERVICES) * r + i): name
        for r in range(replicas)
        for i, name in enumerate(SERVICES)
    }
    found: dict[str, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in args]
        if "--port" in words and any(w.startswith("services.") and w.endswith(".main:app") for w in words):
            name = ports.get(words[words.index("--port") + 1])
            if name:
                found.setdefault(name, []).append(int(proc.name))
    return found


def du_bytes(path: Path) -> int:
    """Disk blocks in use (not the apparent size: Kafka preallocates its index files sparsely)."""
    done = subprocess.run(
        ["du", "-s", "--block-size=1", str(path)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[0])


def kafka_disk(state: Path) -> dict:
    """Bytes on disk of the broker's log directory, and per topic (its partitions' directories)."""
    logs = state / "kafka" / "logs"
    topics: dict[str, int] = {}
    for partition in logs.iterdir():
        if partition.is_dir() and "-" in partition.name:
            topic = partition.name.rsplit("-", 1)[0]
            topics[topic] = topics.get(topic, 0) + du_bytes(partition)
    return {
        "total_bytes": du_bytes(logs),
        "topics_bytes": dict(sorted(topics.items(), key=lambda kv: -kv[1])),
    }


async def postgres_disk(server: str, state: Path) -> dict:
    """Each service database's size and its largest tables (rows, bytes with indexes and TOAST), and the
    whole cluster directory (WAL included)."""
    databases = {}
    for name in SERVICES:
        db = await asyncpg.connect(f"{server}/otop_{name}")
        try:
            size = await db.fetchval("SELECT pg_database_size(current_database())")
            tables = await db.fetch("""
                SELECT c.relname AS table, c.reltuples::bigint AS rows, pg_total_relation_size(c.oid) AS bytes
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY bytes DESC LIMIT 8""")
            databases[name] = {"bytes": size, "tables": [dict(t) for t in tables]}
        finally:
            await db.close()
    return {"databases": databases, "cluster_dir_bytes": du_bytes(state / "pg")}


async def timed(http: httpx.AsyncClient, path: str, repeats: int = REPEATS) -> dict:
    """Median and best of `repeats` GETs after a warm-up one; the answer's size."""
    answer = await http.get(path)
    answer.raise_for_status()
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = await http.get(path)
        runs.append(time.perf_counter() - started)
        answer.raise_for_status()
    return {
        "path": path,
        "median_s": statistics.median(runs),
        "best_s": min(runs),
        "bytes": len(answer.content),
    }


async def measure(urls: dict[str, str], auth: httpx.Auth, provinces: list[str]) -> dict:
    results: dict = {"proposal": [], "province_reports": [], "national_reports": []}
    async with httpx.AsyncClient(auth=auth, timeout=600) as http:
        for code in provinces:
            days = (
                await http.get(
                    f"{urls['scheduling']}/provinces/{code}/market-days",
                    params={"from": f"{YEAR}-09-01", "to": f"{YEAR}-09-30"},
                )
            ).json()
            products = (
                await http.get(f"{urls['registry']}/provinces/{code}/products", params={"limit": 1})
            ).json()
            if days:  # the season's last market day: ranked against the most sales (90 days before it)
                proposal = await timed(
                    http,
                    f"{urls['scheduling']}/provinces/{code}/market-days/{days[-1]['id']}/proposal?limit=100",
                )
                results["proposal"].append({"province": code, "products": products["total"], **proposal})
            for period in ("6", "quarters/4"):
                report = await timed(http, f"{urls['monitoring']}/provinces/{code}/reports/{YEAR}/{period}")
                results["province_reports"].append({"province": code, "period": period, **report})
        for period in ("6", "quarters/4"):
            report = await timed(http, f"{urls['monitoring']}/national/reports/{YEAR}/{period}")
            body = (await http.get(f"{urls['monitoring']}/national/reports/{YEAR}/{period}")).json()
            results["national_reports"].append(
                {
                    "period": period,
                    "provinces": len(body["provinces"]),
                    "provinces_list": [p["province_code"] for p in body["provinces"]],
                    "sales": body["totals"]["sales"],
                    "sales_thb": body["totals"]["sales_thb"],
                    **report,
                }
            )
    return results


def load_summary(state: Path) -> dict | None:
    """What the national load wrote (deploy.local.national), but the per-province figures."""
    path = state / "national.json"
    if not path.exists():
        return None
    summary = json.loads(path.read_text())
    return {k: v for k, v in summary.items() if k != "provinces"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--state-dir", type=Path, default=REPO / ".local")
    parser.add_argument("--http-port", type=int, default=8001)
    parser.add_argument("--pg-port", type=int, default=15432)
    parser.add_argument(
        "--provinces",
        nargs="*",
        default=["30", "72", "83"],
        help="province codes to time (default: the largest, Suphanburi, the smallest)",
    )
    parser.add_argument(
        "--user",
        default="demo-department",
        help="a department user of the stack (the CLI's "
        "token: its password from OTOP_PASSWORD, else the stack's demo-users.json)",
    )
    parser.add_argument(
        "--gateway-port", type=int, default=8000, help="the stack's gateway (the web application's origin)"
    )
    parser.add_argument("--no-first-paint", action="store_true", help="skip the browser (bench.first_paint)")
    parser.add_argument("--out", type=Path, default=REPO / ".local" / "bench" / "national.json")
    args = parser.parse_args()
    state = args.state_dir.resolve()
    load = os.getloadavg()
    auth = auth_from(
        argparse.Namespace(token=None, client_id=None, user=args.user, realm_url=None, state_dir=state)
    )
    timings = asyncio.run(measure(local_urls(args.http_port), auth, args.provinces))
    painted = (
        None
        if args.no_first_paint
        else first_paint.measure(
            f"http://127.0.0.1:{args.gateway_port}",
            args.user,
            first_paint.password_of(state, args.user),
            provinces=len(timings["national_reports"][0]["provinces_list"]),
        )
    )
    pids = service_pids(args.http_port)
    results = {
        "load": load_summary(state),
        **timings,
        "first_paint": painted,
        "peak_rss_mb": {
            name: [round(peak_rss_mb(pid), 1) for pid in pids.get(name, [])] for name in SERVICES
        },
        "kafka": kafka_disk(state),
        "postgres": asyncio.run(postgres_disk(f"postgresql://postgres@127.0.0.1:{args.pg_port}", state)),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load,
            "load_average_after": os.getloadavg(),
            "commit": subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
            ).stdout.strip(),
        },
        "finished_at": datetime.now(UTC).isoformat(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    if results["load"]:
        phases = ", ".join(f"{k} {v:,.0f} s" for k, v in results["load"]["phases_s"].items())
        print(f"load: {results['load']['seconds']:,.0f} s ({phases})")
    for row in results["proposal"]:
        print(
            f"proposal, province {row['province']} ({row['products']:,} products): "
            f"{row['median_s'] * 1000:,.0f} ms"
        )
    for row in results["province_reports"]:
        print(f"report, province {row['province']} {row['period']}: {row['median_s'] * 1000:,.0f} ms")
    for row in results["national_reports"]:
        print(
            f"national report {row['period']} ({row['provinces']} provinces, {row['sales']:,} sales): "
            f"{row['median_s'] * 1000:,.0f} ms"
        )
    for name, page in (painted or {}).get("pages", {}).items():
        print(
            f"first paint {name} ({page['route']}): first contentful paint {page['median_fcp_ms']:,.0f} ms, "
            f"menu {page['median_interactive_ms']:,.0f} ms, data shown {page['median_data_ms']:,.0f} ms"
        )
    for name, rss in results["peak_rss_mb"].items():
        print(f"peak RSS {name}: {', '.join(f'{mb:.0f} MB' for mb in rss)}")
    print(
        f"Kafka on disk: {results['kafka']['total_bytes'] / 1e6:,.0f} MB; PostgreSQL: "
        + ", ".join(f"{n} {d['bytes'] / 1e6:,.0f} MB" for n, d in results["postgres"]["databases"].items())
        + f"; cluster directory {results['postgres']['cluster_dir_bytes'] / 1e6:,.0f} MB"
    )
    print(f"load average before/after: {load[0]:.2f} / {os.getloadavg()[0]:.2f}; JSON: {args.out}")


if __name__ == "__main__":
    main()
