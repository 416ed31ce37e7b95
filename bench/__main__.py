"""`python -m bench` (or `bash bench/run.sh`): starts its own Kafka and PostgreSQL (or uses
OTOP_TEST_KAFKA_BOOTSTRAP / OTOP_TEST_DATABASE_URL), runs the benchmark, prints a table and writes JSON."""

import argparse
import asyncio
import json
import os
import subprocess
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

from bench.pipeline import Params, run
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
    with harness.kafka() as kafka, harness.postgres() as server:
        results = asyncio.run(run(kafka, server, params, args.out))
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
    print(table(results))
    print(
        f"\nload average before/after: {load[0]:.2f} / {os.getloadavg()[0]:.2f}; "
        f"JSON: {args.out / 'results.json'}"
    )


if __name__ == "__main__":
    main()
