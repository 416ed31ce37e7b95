"""`python -m bench` (or `bash bench/run.sh`): starts its own Kafka and PostgreSQL (or uses
OTOP_TEST_KAFKA_BOOTSTRAP / OTOP_TEST_DATABASE_URL), runs the benchmark, prints a table and writes JSON.

`--brokers 3` runs it on a local three-node KRaft cluster (topics with 3 replicas), `--replicas 2` with two
processes of each service; `--compare` runs the baseline (one broker, one process each) first and then the
configuration asked, side by side, and prints the latency of both (`--phases latency` for only that)."""

import argparse
import asyncio
import json
import os
import subprocess
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path

from bench import brokers as kafka_brokers
from bench.pipeline import PHASES, Params, run
from tests import harness

TARGETS = {"ratio_b_over_a": 0.6, "p99_s": 1.0, "national_s": 0.3, "rss_mb": 300}


def milliseconds(seconds: float | None) -> str:
    return "not reached" if seconds is None else f"{seconds * 1000:.0f} ms"


def table(results: dict) -> str:
    t, lat, rep = results["throughput"], results["latency"], results["reports"]
    rows = [
        ("baseline (a): aiokafka + COPY", f"{t['baseline_sales_per_s']:,.0f} sales/s", ""),
        ("pipeline (b): ingress -> sales -> monitoring", f"{t['pipeline_sales_per_s']:,.0f} sales/s", ""),
        ("b / a", f"{t['ratio_b_over_a']:.2f}", f">= {TARGETS['ratio_b_over_a']}"),
        ("CPU per 1000 sales: baseline process", f"{t['baseline_cpu_ms_per_1000']:.0f} ms", ""),
        (
            "CPU per 1000 sales: sales + monitoring",
            f"{t['sales_cpu_ms_per_1000']:.0f} + {t['monitoring_cpu_ms_per_1000']:.0f} ms",
            "",
        ),
        (
            "counted once (sales DB, monitoring)",
            f"{t['sales_db_rows']}, {t['monitoring_rows']} of {t['unique_sales']}",
            "equal",
        ),
        (
            f"latency p50 at {lat['rate_asked']}/s (sent {lat['rate_sent']:.0f}/s)",
            milliseconds(lat["p50_s"]),
            "",
        ),
        ("latency p99", milliseconds(lat["p99_s"]), f"< {TARGETS['p99_s'] * 1000:.0f} ms"),
        ("sales seen in monitoring in time", f"{lat['observed']} of {lat['sales']}", "all"),
        (
            f"province-month report ({rep['stored_sales']:,} stored)",
            f"{rep['province']['median_s'] * 1000:.0f} ms",
            "",
        ),
        (
            "national report",
            f"{rep['national']['median_s'] * 1000:.0f} ms",
            f"< {TARGETS['national_s'] * 1000:.0f} ms",
        ),
        *(
            (f"peak RSS {name}", f"{mb:.0f} MB", f"< {TARGETS['rss_mb']} MB")
            for name, mb in results["peak_rss_mb"].items()
        ),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value:>22}  {target}" for name, value, target in rows)


def comparison(runs: list[dict]) -> str:
    """The configurations' latency (and throughput, when measured) side by side."""
    rows = [
        ("brokers x processes per service", [f"{r['brokers']} x {r['params']['replicas']}" for r in runs])
    ]
    if all("latency" in r for r in runs):
        rows += [
            (
                f"sent at {runs[0]['latency']['rate_asked']}/s (sales/s)",
                [f"{r['latency']['rate_sent']:.0f}" for r in runs],
            ),
            ("latency p50", [milliseconds(r["latency"]["p50_s"]) for r in runs]),
            ("latency p99", [milliseconds(r["latency"]["p99_s"]) for r in runs]),
            ("latency max", [milliseconds(r["latency"]["max_s"]) for r in runs]),
            ("seen in monitoring", [f"{r['latency']['observed']} of {r['latency']['sales']}" for r in runs]),
        ]
    if all("throughput" in r for r in runs):
        rows.append(
            ("pipeline (b) sales/s", [f"{r['throughput']['pipeline_sales_per_s']:,.0f}" for r in runs])
        )
    rows.append(
        (
            "load average before/after",
            [f"{r['load_average_before'][0]:.2f} / {r['load_average_after'][0]:.2f}" for r in runs],
        )
    )
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  " + "  ".join(f"{v:>16}" for v in values) for name, values in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    defaults = Params()
    for field in fields(Params):
        if field.name != "service_env":
            parser.add_argument(
                f"--{field.name.replace('_', '-')}",
                type=type(getattr(defaults, field.name)),
                default=getattr(defaults, field.name),
            )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="OTOP_NAME=VALUE",
        help="a setting for both services (repeatable)",
    )
    parser.add_argument("--brokers", type=int, default=1, help="Kafka nodes (1, or 3: the cluster mode)")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="run the baseline (1 broker, 1 process of each service) first, then --brokers x --replicas",
    )
    parser.add_argument(
        "--phases", nargs="+", choices=PHASES, default=list(PHASES), help="what to measure (all by default)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=harness.REPO / ".local" / "bench",
        help="service logs and results.json go here",
    )
    args = parser.parse_args()
    params = Params(
        **{f.name: getattr(args, f.name) for f in fields(Params) if f.name != "service_env"},
        service_env=tuple(tuple(item.split("=", 1)) for item in args.env),
    )
    load = os.getloadavg()
    if args.compare:
        configurations = [(1, replace(params, replicas=1)), (args.brokers, params)]
        runs = []
        with harness.postgres() as server:
            for number, (brokers, asked) in enumerate(configurations, start=1):
                print(
                    f"[bench] {brokers} broker(s) x {asked.replicas} process(es) per service ...", flush=True
                )
                before = os.getloadavg()
                with kafka_brokers.kafka(brokers) as kafka:
                    found = asyncio.run(
                        run(kafka, server, asked, args.out / f"run-{number}", tuple(args.phases))
                    )
                runs.append(
                    {
                        "brokers": brokers,
                        **found,
                        "load_average_before": before,
                        "load_average_after": os.getloadavg(),
                    }
                )
        results: dict = {"compare": runs}
    else:
        with kafka_brokers.kafka(args.brokers) as kafka, harness.postgres() as server:
            results = asyncio.run(run(kafka, server, params, args.out, tuple(args.phases)))
        results["brokers"] = args.brokers
    results["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_before": load,
        "load_average_after": os.getloadavg(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=harness.REPO, capture_output=True, text=True
        ).stdout.strip(),
    }
    results["finished_at"] = datetime.now(UTC).isoformat()
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    if args.compare:
        print(comparison(results["compare"]))
    elif set(PHASES) <= set(args.phases):
        print(table(results))
    else:
        print(json.dumps({k: results[k] for k in args.phases}, indent=2, default=str))
    print(
        f"\nload average before/after: {load[0]:.2f} / {os.getloadavg()[0]:.2f}; "
        f"JSON: {args.out / 'results.json'}"
    )


if __name__ == "__main__":
    main()
