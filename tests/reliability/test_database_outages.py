"""The PostgreSQL of a service stopped, or SIGKILLed, while sales flow; records near and over 1 MiB on every
consumed topic. A transient failure is waited out, never dead-lettered; a record bad in itself is parked
(truncated when too large to copy) and the consumer goes on. Every trial ends (support.Trial) with 0 lost,
0 doubled (the report's incremental totals and the consumers' applied-event counters against what was sent),
0 valid sales dead-lettered, every consumer caught up by its committed offsets.

Sizes: OTOP_OUTAGE_SALES (default 1000), OTOP_OUTAGE_S (how long a database stays stopped, default 30),
OTOP_OUTAGE_SEEDS (outage trials per database, default 1), OTOP_FAULT_SEEDS (SIGKILL trials, default 2)."""

import asyncio
import hashlib
import json
import os
import random
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.topics import SALES_INGRESS, SALES_RECORDED, dead_letter_topic
from tests.conftest import eventually
from tests.reliability.support import (
    OFFICER,
    Stack,
    Totals,
    Trial,
    assert_exact,
    create_catalogue,
    env_int,
    paced,
    pos_stream,
    reaches,
    read_to_end,
    scalar,
    subscriptions,
)
from tests.reliability.test_fuzz_events import envelope, sample_payload
from tests.sales.support import pos_body, pos_sale, publish_pos, signed

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]
SALES = env_int("OTOP_OUTAGE_SALES", 1000)
OUTAGE_S = env_int("OTOP_OUTAGE_S", 30)
SEEDS = range(env_int("OTOP_FAULT_SEEDS", 2))
OUTAGE_SEEDS = range(env_int("OTOP_OUTAGE_SEEDS", 1))
BURST = 20  # officers' HTTP writes during the sales database's outage


async def not_ready(stack: Stack, service: str, consumer: str) -> bool:
    """The consumer reports the failure: /health/ready answers 503 naming it, otop_ready is 0."""
    async with httpx.AsyncClient(timeout=10) as http:
        ready = await http.get(f"{stack.url(service)}/health/ready")
        metrics = (await http.get(f"{stack.url(service)}/internal/metrics")).text
    return (
        ready.status_code == 503
        and not ready.json()["workers"][consumer]["ready"]
        and f'otop_ready{{component="{consumer}",kind="consumer"}} 0.0' in metrics
    )


async def officer_sales(stack: Stack, catalogue, count: int) -> list[httpx.Response]:
    """`count` sales entered by officers at once (quantities 1, 2, 3, ...) over HTTP."""
    product = catalogue.products[0]
    async with httpx.AsyncClient(timeout=30) as http:
        return list(
            await asyncio.gather(
                *(
                    http.post(
                        f"{stack.url('sales')}/provinces/72/sales",
                        headers=OFFICER,
                        json={
                            "product_id": product["id"],
                            "market_day_id": catalogue.market_day_id,
                            "quantity": str(q),
                            "sold_at": datetime(2019, 6, 15, 5, 0, tzinfo=UTC).isoformat(),
                        },
                    )
                    for q in range(1, count + 1)
                )
            )
        )


async def retried_until_created(stack: Stack, catalogue, quantities: list[int]) -> None:
    """What a client does with a 503: it tries again later (Retry-After), until the write is taken."""
    product = catalogue.products[0]
    async with httpx.AsyncClient(timeout=30) as http:
        for quantity in quantities:

            async def created() -> bool:
                answer = await http.post(
                    f"{stack.url('sales')}/provinces/72/sales",
                    headers=OFFICER,
                    json={
                        "product_id": product["id"],
                        "market_day_id": catalogue.market_day_id,
                        "quantity": str(quantity),  # noqa: B023 (awaited in this iteration)
                        "sold_at": datetime(2019, 6, 15, 5, 0, tzinfo=UTC).isoformat(),
                    },
                )
                assert answer.status_code in (201, 503), answer.text
                return answer.status_code == 201

            await eventually(created, timeout=120, interval=1)


async def test_sales_published_while_the_sales_database_is_stopped_are_all_recorded(running):
    """Issue 15's finding: the sales service's PostgreSQL stopped for 20 s while an integration published
    300 signed sales; before, the consumer gave up after 3 quick attempts and dead-lettered them (82 of
    300 on the commit before the fix)."""
    catalogue = await create_catalogue(running, date(2019, 6, 2))
    trial = await Trial.begin(running, catalogue)
    stream = pos_stream(catalogue, 300, random.Random(15), resend_every=0)
    await asyncio.to_thread(running.postgres["sales"].stop)
    try:
        await publish_pos(running.access, stream.messages)
        await asyncio.sleep(20)
    finally:
        await asyncio.to_thread(running.postgres["sales"].start)
    found = await trial.end(timeout=180)
    print(f"\nsales PostgreSQL stopped 20 s under 300 sales: {found}")
    assert_exact(found, Totals(300, stream.amount_thb))


@pytest.mark.parametrize("seed", OUTAGE_SEEDS)
@pytest.mark.parametrize("victim", ["sales", "monitoring"])
async def test_a_database_stopped_mid_stream_loses_doubles_and_dead_letters_nothing(running, victim, seed):
    """The victim's PostgreSQL stopped for OUTAGE_S once it holds a share of the stream the seed picks
    (20-60%), then started again. During the sales database's outage officers also send a burst of sales
    over HTTP: each is answered 503 with Retry-After, never 500, and taken when tried again after."""
    rng = random.Random(f"outage-{victim}-{seed}")
    catalogue = await create_catalogue(running, date(2019, 6, 4 if victim == "sales" else 5))
    trial = await Trial.begin(running, catalogue)
    stream = pos_stream(catalogue, SALES, rng)
    publishing = asyncio.create_task(paced(running, stream.messages))
    held = await reaches(running, victim, catalogue.market_day_id, int(rng.uniform(0.2, 0.6) * SALES))
    await asyncio.to_thread(running.postgres[victim].stop)
    stopped_at, burst = time.monotonic(), []
    try:
        consumer = "sales.ingress" if victim == "sales" else "monitoring.sales"
        await eventually(lambda: not_ready(running, victim, consumer), timeout=OUTAGE_S)
        if victim == "sales":
            burst = await officer_sales(running, catalogue, BURST)
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped_at)))
    finally:
        await asyncio.to_thread(running.postgres[victim].start)
    await publishing
    assert all(answer.status_code == 503 and answer.headers["Retry-After"] for answer in burst), [
        (answer.status_code, answer.text) for answer in burst
    ]
    await retried_until_created(running, catalogue, list(range(1, len(burst) + 1)))
    http_thb = sum(
        (Decimal(catalogue.products[0]["price_thb"]) * q for q in range(1, len(burst) + 1)), Decimal(0)
    )

    found = await trial.end()
    expected = Totals(SALES + len(burst), stream.amount_thb + http_thb)
    print(
        f"\nseed {seed}: {victim} PostgreSQL stopped {OUTAGE_S} s with {held} of {SALES} sales there; "
        f"{len(burst)} HTTP writes answered 503 then retried; {found}"
    )
    assert_exact(found, expected, pos_sales=SALES)


@pytest.mark.parametrize("seed", SEEDS)
async def test_databases_killed_mid_stream_lose_and_double_nothing(running, seed):
    """The PostgreSQL of sales and that of monitoring SIGKILLed (server and backends: a crash, recovered
    from the WAL), each at a point of its own progress the seed picks, and started again."""
    rng = random.Random(seed)
    catalogue = await create_catalogue(running, date(2019, 6, 6 + seed % 20))
    trial = await Trial.begin(running, catalogue)
    stream = pos_stream(catalogue, SALES, rng)
    plan = sorted((rng.uniform(0.1, 0.8), victim) for victim in ("sales", "monitoring"))
    publishing = asyncio.create_task(paced(running, stream.messages))
    kills = []
    for fraction, victim in plan:
        kills.append((victim, await reaches(running, victim, catalogue.market_day_id, int(fraction * SALES))))
        await asyncio.to_thread(running.postgres[victim].kill)
        await asyncio.sleep(rng.uniform(0.5, 3))
        await asyncio.to_thread(running.postgres[victim].start)
    await publishing
    found = await trial.end()
    print(f"\nseed {seed}: SIGKILLed PostgreSQL of {kills} (victim, its sales then) of {SALES}; {found}")
    assert_exact(found, Totals(SALES, stream.amount_thb))
    assert any(held < SALES for _, held in kills), "no kill landed mid-stream"


def valid_record(topic: str, catalogue) -> tuple[bytes, list, str]:
    """A valid message for `topic`, and how to recognise it applied: (value, headers, event or sale id)."""
    if topic == SALES_INGRESS:
        product = catalogue.products[0]
        sale = pos_sale(
            f"after-big-{uuid.uuid4().hex[:8]}",
            uuid.UUID(product["id"]),
            uuid.UUID(catalogue.market_day_id),
            quantity="2",
            price=product["price_thb"],
        )
        body = pos_body(sale)
        return (
            body,
            signed(body, catalogue.key["key_id"], catalogue.key["signing_key"]),
            sale.integration_sale_id,
        )
    if topic == SALES_RECORDED:
        handled = ("sales.sale.recorded", 1)
    else:
        handled = sorted(set.intersection(*(set(s.handles) for s in subscriptions() if s.topic == topic)))[0]
    event = envelope(*handled, sample_payload(*handled))
    return json.dumps(event).encode(), [], event["event_id"]


async def test_records_near_and_over_1_mib_on_every_consumed_topic_are_parked_and_the_consumers_go_on(
    running,
):
    """On every topic some service consumes: a record just under Kafka's 1 MiB limit (incompressible) and
    one of 1.5 MiB (sent compressed, so the broker takes it), both unreadable, then a valid message with the
    same key (the same partition, after them). Every consumer group of the topic parks both, truncated, with
    size, checksum and a pointer to the original kept in its service's database, and applies the valid one."""
    catalogue = await create_catalogue(running, date(2019, 6, 26))
    trial = await Trial.begin(running, catalogue)
    topics = sorted({s.topic for s in subscriptions()})
    big = {"near 1 MiB": os.urandom(1_040_000), "1.5 MiB": b'{"padding": "' + b"x" * (1536 * 1024) + b'"}'}
    key = f"big-{uuid.uuid4().hex[:8]}".encode()
    valid = {topic: valid_record(topic, catalogue) for topic in topics}
    producer = AIOKafkaProducer(
        **running.access.options(), acks="all", compression_type="gzip", max_request_size=4 * 1024 * 1024
    )
    await producer.start()
    try:
        for topic in topics:
            for value in big.values():
                await producer.send_and_wait(topic, value, key=key)
            value, headers, _ = valid[topic]
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()

    for s in subscriptions():
        _, _, valid_id = valid[s.topic]
        if s.topic == SALES_INGRESS:
            sql, args = "SELECT count(*) FROM sales WHERE integration_sale_id = $1", (valid_id,)
        else:
            sql, args = (
                "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = $2",
                (s.group_id, uuid.UUID(valid_id)),
            )

        async def applied(service=s.service, sql=sql, args=args) -> bool:
            return await scalar(running.db(service), sql, *args) == 1

        await eventually(applied, timeout=120)
    for topic in topics:
        parked = [r for r in await read_to_end(running.access, dead_letter_topic(topic)) if r.key == key]
        groups = {s.group_id: s.service for s in subscriptions() if s.topic == topic}
        assert len(parked) == 2 * len(groups), (topic, len(parked))
        for record in parked:
            headers = {name: value.decode() for name, value in record.headers}
            [original] = [
                v for v in big.values() if hashlib.sha256(v).hexdigest() == headers["dlq-original-sha256"]
            ]
            assert headers["dlq-truncated"] == "true" and int(headers["dlq-original-bytes"]) == len(original)
            row_id = int(headers["dlq-original-ref"].rsplit("/", 1)[1])
            kept = await scalar(
                running.db(groups[headers["dlq-consumer-group"]]),
                "SELECT sha256 FROM dead_letter_originals WHERE id = $1",
                row_id,
            )
            assert kept == headers["dlq-original-sha256"], (topic, headers)
    found = await trial.end()
    print(
        f"\n{len(topics)} topics, {sum(1 for _ in subscriptions())} consumer groups: 2 large records each "
        "parked; "
        f"{found}"
    )
    # The valid sale on the ingress is the trial's; the valid sale event on otop.sales.recorded is of no trial
    # sale.
    assert_exact(found, Totals(1, Decimal(catalogue.products[0]["price_thb"]) * 2), other_sale_events=1)
