"""The report's budget section (section ๔) from the budget service's events, on running budget and monitoring
services (real Kafka, PostgreSQL and Keycloak tokens): the plan table with its amount and approval, each line
approved against spent, each market day's materials and cost per baht sold, in every format; the national
roll-up of budgets; and a second monitoring database fed the same events again from Kafka rebuilds the
section exactly."""

import csv
import io
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import asyncpg
import docx
import openpyxl
import pytest
from aiokafka import AIOKafkaConsumer
from pypdf import PdfReader

from services.budget.main import spec as budget_spec
from services.monitoring.consumers import GROUPS
from services.monitoring.main import spec as monitoring_spec
from shared.contracts.sales import SaleRecorded
from shared.contracts.scheduling import MarketDayHeld, MarketDayScheduled, VenueKind
from tests.budget.support import OFFICER, approved_proposal, lineup, ok
from tests.budget.support import skip_earlier_events as skip_earlier_budget_events
from tests.conftest import eventually, running_service
from tests.monitoring.support import DEPARTMENT, publish, report

pytestmark = pytest.mark.integration
P72, JUNE = "/provinces/72", "/provinces/72/reports/2562/6"


async def new_database(pg_server: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return pg_server.rsplit("/", 1)[0] + f"/{name}"


async def offsets_now(kafka) -> dict:
    """Each monitoring consumer group's topic's end offsets: where this test's events begin."""
    reader = AIOKafkaConsumer(*set(GROUPS.values()), **kafka.options())
    await reader.start()
    try:
        return await reader.end_offsets(list(reader.assignment()))
    finally:
        await reader.stop()


async def start_groups_at(kafka, ends: dict) -> None:
    """Every monitoring consumer group starts reading at `ends` (a replay from there, for a new database)."""
    for group_id, topic in GROUPS.items():
        committer = AIOKafkaConsumer(**kafka.options(), group_id=group_id, enable_auto_commit=False)
        await committer.start()
        try:
            offsets = {tp: end for tp, end in ends.items() if tp.topic == topic}
            committer.assign(list(offsets))
            await committer.commit(offsets)
        finally:
            await committer.stop()


def market_day(day: date, cls=MarketDayHeld, status: str = "held", revision: int = 2, market_day_id=None):
    return cls(
        market_day_id=market_day_id or uuid4(),
        revision=revision,
        venue_id=uuid4(),
        venue_name="ตลาดประชารัฐ หน้าศาลากลางจังหวัดสุพรรณบุรี",
        venue_kind=VenueKind.PRACHARAT_MARKET,
        day=day,
        status=status,
    )


def sale(market_day_id, amount: str) -> SaleRecorded:
    return SaleRecorded(
        sale_id=uuid4(),
        revision=1,
        market_day_id=market_day_id,
        product_id=uuid4(),
        quantity=Decimal(1),
        unit_price_thb=Decimal(amount),
        amount_thb=Decimal(amount),
        sold_at=datetime(2019, 6, 8, 4, tzinfo=UTC),
        channel="officer",
    )


async def test_the_budget_section_in_every_format_and_rebuilt_by_replaying_the_events(
    database_url, pg_server, kafka
):
    await skip_earlier_budget_events(kafka)
    start = await offsets_now(kafka)
    await start_groups_at(kafka, start)
    first, second = market_day(date(2019, 6, 8)), market_day(date(2019, 6, 15))
    cancelled = market_day(date(2019, 6, 22), MarketDayScheduled, "scheduled", 1)
    await publish(
        kafka,
        first,
        second,
        cancelled,
        sale(first.market_day_id, "3000.00"),
        sale(second.market_day_id, "1000.50"),
        *lineup(first.market_day_id, 10, accepted=10),  # 3 tents for 10 products
    )

    budget_db = await new_database(pg_server)
    async with running_service(budget_spec, budget_db, kafka) as budget:
        proposal = await approved_proposal(budget)
        purchases = f"{P72}/proposals/{proposal['id']}/purchases"
        bought = [
            # for the season: shared by its market days; bought in June
            (
                {
                    "category": "materials",
                    "name": "ธงญี่ปุ่น 150 × 50 ซม.",
                    "kind": "flag",
                    "quantity": 2,
                    "unit_cost_thb": "1250.00",
                },
                "2019-06-03",
                "2480.10",
            ),
            (
                {
                    "category": "materials",
                    "name": "เต็นท์",
                    "kind": "tent",
                    "quantity": 5,
                    "unit_cost_thb": "1500.00",
                },
                "2019-06-03",
                "7500.00",
            ),
            # for the first market day only
            (
                {
                    "category": "transport",
                    "name": "ค่าเช่ารถกระบะ",
                    "quantity": 1,
                    "unit_cost_thb": "1200.00",
                    "market_day_id": str(first.market_day_id),
                },
                "2019-06-08",
                "1200.00",
            ),
        ]
        for item, day, amount in bought:
            made = await ok(await budget.post(purchases, json=item, headers=OFFICER), 201)
            paid = {"bought_on": day, "supplier": "ร้านสุพรรณพาณิชย์", "amount_thb": amount}
            await ok(await budget.post(f"{P72}/purchases/{made['id']}/bought", json=paid, headers=OFFICER))
        await ok(
            await budget.post(
                purchases, json={**bought[0][0], "name": "ป้ายราคา", "kind": "price_tag"}, headers=OFFICER
            ),
            201,
        )  # requested only: not spent

        async def market_day_known():
            answer = await budget.get(
                f"{P72}/market-days/{first.market_day_id}/packing-list", headers=OFFICER
            )
            return answer.status_code == 200

        await eventually(market_day_known, timeout=60)
        for kind in ("flag", "tent"):
            check = {"kind": kind, "loaded": True}
            await ok(
                await budget.post(
                    f"{P72}/market-days/{first.market_day_id}/packing-list", json=check, headers=OFFICER
                )
            )

    def complete(body):
        section = body.get("budget") or {}
        return section.get("spent_thb") == "11180.10" and any(
            d["materials"] != "-" for d in section.get("market_days", [])
        )

    async with running_service(monitoring_spec, database_url, kafka) as monitoring:
        body = await eventually(lambda: _report_if(monitoring, complete), timeout=90)
        section = body["budget"]
        # The seed's plan table with the amount and the approval.
        [row] = section["plan"]
        assert (row["budget_source"], row["amount_thb"], row["status"]) == (
            "งบบุคลากรฯ",
            "50000.50",
            "อนุมัติแล้ว",
        )
        assert (section["status"], section["approved_version"], section["decided_by"] is not None) == (
            "approved",
            1,
            True,
        )
        lines = {line["category"]: line for line in section["lines"]}
        assert (
            lines["materials"]["approved_thb"],
            lines["materials"]["spent_thb"],
            lines["materials"]["remaining_thb"],
        ) == ("30000.00", "9980.10", "20019.90")
        assert (lines["transport"]["spent_thb"], lines["publicity"]["spent_thb"]) == ("1200.00", "0.00")
        assert (section["approved_thb"], section["spent_thb"], section["spent_in_period_thb"]) == (
            "50000.50",
            "11180.10",
            "11180.10",
        )
        # Season-wide spending (9,980.10) shared by the 3 market days not cancelled: 3,326.70 each.
        days = {d["market_day_id"]: d for d in section["market_days"]}
        one, two = days[str(first.market_day_id)], days[str(second.market_day_id)]
        assert (one["direct_cost_thb"], one["shared_cost_thb"], one["cost_thb"]) == (
            "1200.00",
            "3326.70",
            "4526.70",
        )
        assert (one["sales_thb"], one["cost_per_baht_sold"]) == ("3000.00", "1.5089")
        assert (two["cost_thb"], two["cost_per_baht_sold"]) == ("3326.70", "3.3250")
        assert one["materials"] == "ธงญี่ปุ่น 150 × 50 ซม. 1, เต็นท์ 3" and two["materials"] == "-"
        assert (section["cost_per_market_day_thb"], section["cost_per_baht_sold"]) == ("3926.70", "1.9631")

        # Every format the report has.
        lines_csv = await monitoring.get(
            JUNE, params={"format": "csv", "table": "budget_lines"}, headers=OFFICER
        )
        rows = list(csv.reader(io.StringIO(lines_csv.content.decode("utf-8-sig"))))
        assert rows[0][0] == "รายการ" and rows[-1][:3] == ["รวม", "50000.50", "11180.10"]
        book = openpyxl.load_workbook(
            io.BytesIO((await monitoring.get(JUNE, params={"format": "xlsx"}, headers=OFFICER)).content)
        )
        assert {"budget_plan", "budget_lines", "budget_market_days"} <= set(book.sheetnames)
        assert (
            book["budget_plan"]["G2"].value == Decimal("50000.50")
            or book["budget_plan"]["G2"].value == 50000.5
        )
        word = docx.Document(
            io.BytesIO((await monitoring.get(JUNE, params={"format": "docx"}, headers=OFFICER)).content)
        )
        assert any(p.text == "4 งบประมาณและวัสดุอุปกรณ์" for p in word.paragraphs)
        assert any("งบบุคลากรฯ" in cell.text for table in word.tables for cell in table._cells)
        pdf = PdfReader(
            io.BytesIO((await monitoring.get(JUNE, params={"format": "pdf"}, headers=OFFICER)).content)
        )
        assert "งบประมาณและวัสดุอุปกรณ์" in "".join(page.extract_text() for page in pdf.pages)
        national = await report(monitoring, "/national/reports/2562/6", headers=DEPARTMENT)
        [mine] = [b for b in national["budgets"] if b["province_code"] == "72"]
        assert (mine["approved_thb"], mine["spent_thb"], mine["status_label"]) == (
            "50000.50",
            "11180.10",
            "อนุมัติแล้ว",
        )
        national_csv = await monitoring.get(
            "/national/reports/2562/6", params={"format": "csv", "table": "budgets"}, headers=DEPARTMENT
        )
        assert "11180.10" in national_csv.content.decode("utf-8-sig")
        assert (await monitoring.get(JUNE.replace("72", "10"), headers=OFFICER)).status_code == 403

    # Replay: a new monitoring database, its consumer groups back at this test's first event.
    await start_groups_at(kafka, start)
    async with running_service(monitoring_spec, await new_database(pg_server), kafka) as replayed:
        again = await eventually(lambda: _report_if(replayed, complete), timeout=90)
    assert again["budget"] == section


async def _report_if(http, check):
    body = await report(http, JUNE)
    return body if check(body) else None
