"""Import and export time of one in-process registry (a measurement, not a test: run it by hand).

    .venv/bin/python -m tests.registry.bench_import 5000

Uses OTOP_TEST_KAFKA_BOOTSTRAP / OTOP_TEST_DATABASE_URL when set, else starts Kafka and PostgreSQL
here. Imports N products (of N/4 producers) from CSV, exports them as XLSX, imports that back (all
unchanged), then edits every price and imports again (N updates), timing each and the outbox relay.
"""

import asyncio
import csv
import io
import sys
import time
import uuid

import asyncpg

from services.registry.main import spec
from services.registry.spreadsheets import XLSX_TYPE
from tests import harness
from tests.conftest import eventually, running_service
from tests.registry.support import OFFICER


def file_of(count: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "name",
            "category",
            "star_level",
            "quadrant",
            "nawatwithi",
            "price_thb",
            "unit",
            "producer_name",
            "producer_type",
            "experienced",
            "tambon_code",
        ]
    )
    for i in range(count):
        writer.writerow(
            [
                f"สินค้า {i}",
                "food",
                1 + i % 5,
                "ABCD"[i % 4],
                i % 2,
                20 + i % 300,
                "ชิ้น",
                f"กลุ่มผู้ผลิต {i // 4}",
                "community_group",
                (i // 4) % 3 == 0,
                "720101",
            ]
        )
    return out.getvalue().encode()


async def timed(label: str, work):
    started = time.perf_counter()
    result = await work
    print(f"{label}: {time.perf_counter() - started:.2f}s")
    return result


async def main(count: int) -> None:
    with harness.kafka() as kafka, harness.postgres() as server:
        admin = await asyncpg.connect(server)
        name = f"bench_{uuid.uuid4().hex[:8]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = server.rsplit("/", 1)[0] + f"/{name}"
        async with running_service(spec, url, kafka) as http:

            async def post(body: bytes, content_type: str = "text/csv") -> dict:
                answer = await http.post(
                    "/provinces/72/products/import",
                    content=body,
                    timeout=600,
                    headers={**OFFICER, "content-type": content_type},
                )
                assert answer.status_code == 200, answer.text[:500]
                return {k: v for k, v in answer.json().items() if k != "rows"}

            db = await asyncpg.connect(url)

            async def outbox_empty() -> bool:
                return await db.fetchval("SELECT count(*) FROM outbox") == 0

            print(await timed(f"import {count} new rows (CSV)", post(file_of(count))))
            await timed("  outbox relayed to Kafka", eventually(outbox_empty, timeout=600))
            exported = await timed(
                "export XLSX",
                http.get(
                    "/provinces/72/products/export", params={"format": "xlsx"}, headers=OFFICER, timeout=600
                ),
            )
            print(f"  {len(exported.content)} bytes")
            print(await timed("import the export back (XLSX, unchanged)", post(exported.content, XLSX_TYPE)))
            text = (await http.get("/provinces/72/products/export", headers=OFFICER, timeout=600)).content
            rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
            price = rows[0].index("price_thb")
            for row in rows[1:]:
                row[price] = str(float(row[price]) + 1)
            out = io.StringIO()
            csv.writer(out).writerows(rows)
            print(await timed("import every price changed (CSV)", post(out.getvalue().encode())))
            await timed("  outbox relayed to Kafka", eventually(outbox_empty, timeout=600))
            await db.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
