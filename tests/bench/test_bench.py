"""The benchmark (bench/) at tiny sizes, so it cannot rot: the services run as processes, every sale is
counted once in the sales DB and in monitoring's aggregate, and the figures it returns are sane."""

from decimal import Decimal

import pytest

from bench.pipeline import SALE_AMOUNT, Params, run

pytestmark = pytest.mark.integration


async def test_benchmark_counts_every_sale_once_and_returns_sane_figures(kafka, pg_server, tmp_path):
    params = Params(sales=200, duplicate_share=0.1, rate=100, latency_s=2, report_sales=3000)
    results = await run(kafka, pg_server, params, tmp_path)

    t = results["throughput"]
    assert t["messages"] == 220 and t["unique_sales"] == 200
    assert (t["sales_db_rows"], t["sales_db_distinct"], t["monitoring_rows"]) == (200, 200, 200)
    assert Decimal(t["sales_db_thb"]) == Decimal(t["monitoring_thb"]) == 200 * SALE_AMOUNT
    assert t["baseline_sales_per_s"] > 0 and t["pipeline_sales_per_s"] > 0
    assert t["ratio_b_over_a"] == pytest.approx(t["baseline_s"] / t["pipeline_s"])

    latency = results["latency"]
    assert latency["sales"] == latency["observed"] == 200
    assert 0 < latency["p50_s"] <= latency["p99_s"] <= latency["max_s"] < 60

    reports = results["reports"]
    assert reports["provinces"] == 77
    assert reports["national_counted_sales"] == reports["expected_counted_sales"] == 3000 - 3000 // 50
    assert 0 < reports["national"]["best_s"] <= reports["national"]["median_s"]
    assert 0 < reports["province"]["best_s"] <= reports["province"]["median_s"]

    assert set(results["peak_rss_mb"]) == {"sales", "monitoring"}
    assert all(30 < mb < 2000 for mb in results["peak_rss_mb"].values())


async def test_two_processes_of_each_service_share_the_stream_and_count_each_sale_once(
    kafka, pg_server, tmp_path
):
    params = Params(sales=200, duplicate_share=0.1, rate=100, latency_s=2, replicas=2)
    results = await run(kafka, pg_server, params, tmp_path, phases=("throughput", "latency"))

    assert "reports" not in results
    t = results["throughput"]
    assert (t["sales_db_rows"], t["sales_db_distinct"], t["monitoring_rows"]) == (200, 200, 200)
    assert t["pipeline_sales_per_s"] > 0 and t["sales_cpu_ms_per_1000"] > 0
    latency = results["latency"]
    assert latency["sales"] == latency["observed"] == 200
    assert 0 < latency["p50_s"] <= latency["p99_s"] <= latency["max_s"] < 60
    logs = sorted(p.name for p in tmp_path.glob("*.log"))
    assert logs == ["monitoring-2.log", "monitoring.log", "sales-2.log", "sales.log"]
