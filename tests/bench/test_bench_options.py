"""The benchmark's options without a broker: the side-by-side table of `--compare`, the ports of a local
cluster, the first-paint pages and the national bench's reading of the load's summary."""

import json
import socket

from bench.__main__ import comparison
from bench.brokers import free_run
from bench.first_paint import pages
from bench.national import load_summary


def run_of(brokers: int, replicas: int, p99_s: float | None) -> dict:
    return {
        "brokers": brokers,
        "params": {"replicas": replicas},
        "latency": {
            "rate_asked": 1000,
            "rate_sent": 998.7,
            "sales": 30000,
            "observed": 30000 if p99_s is not None else 29990,
            "p50_s": 0.05,
            "p99_s": p99_s,
            "max_s": p99_s,
        },
        "load_average_before": (1.5, 1.0, 1.0),
        "load_average_after": (2.25, 1.0, 1.0),
    }


def test_the_comparison_shows_each_configuration_side_by_side():
    table = comparison([run_of(1, 1, 0.12), run_of(3, 2, None)]).splitlines()
    assert table[0].split()[-6:] == ["1", "x", "1", "3", "x", "2"]
    p99 = next(line for line in table if line.startswith("latency p99"))
    assert p99.split("  ")[-1].strip() == "not reached" and "120 ms" in p99
    assert any(line.endswith("2.25") for line in table)


def test_a_cluster_gets_a_run_of_free_ports():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        first = taken.getsockname()[1]
        start = free_run(first, 9)
    assert start != first and start % 9 == first % 9
    for port in range(start, start + 9):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))


def test_first_paint_waits_for_every_province_of_the_national_page():
    routes = pages(9, 77)
    assert routes["home"][0] == "#/"
    route, ready = routes["national_month"]
    assert route == "#/national?year=2562&month=9" and ready.endswith(">= 77")


def test_the_national_bench_reads_the_loads_summary_without_its_provinces(tmp_path):
    assert load_summary(tmp_path) is None
    (tmp_path / "national.json").write_text(
        json.dumps({"seconds": 12.5, "phases_s": {"registry": 3.0}, "provinces": {"72": {}}})
    )
    assert load_summary(tmp_path) == {"seconds": 12.5, "phases_s": {"registry": 3.0}}
