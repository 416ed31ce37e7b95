"""Dead-letter operations (`python -m deploy.local.cli dlq list|show|replay`, deploy/local/dlq.py) on the
running services: filters by topic, reason code and time; a replay goes to the original topic through the
normal path and is idempotent; a truncated dead letter is replayed from its original in the database."""

import hashlib
import json
import os
import random
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.kafka_client import kafka_env
from tests import harness
from tests.conftest import eventually
from tests.reliability.support import Totals, Trial, assert_exact, create_catalogue, pos_stream, read_to_end

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def cli(stack, *args: str) -> tuple[str, str]:
    """The CLI as an operator runs it: what it prints (stdout) and says (stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "deploy.local.cli", "dlq", "--kafka-bootstrap", stack.kafka.bootstrap, *args],
        cwd=harness.REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(harness.REPO), **kafka_env(stack.access.admin)},
    )  # an operator: the super user
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def listed(stack, *filters: str) -> list[dict]:
    return [json.loads(line) for line in cli(stack, "list", *filters)[0].splitlines()]


async def test_valid_sales_dead_lettered_by_a_failure_are_replayed_once(running):
    """Sales parked as the consumer before issue 15 parked them during a database restart (reason code
    `failed`, headers as they were): listed by the filters, replayed through the ingress, counted once,
    and a second replay changes nothing."""
    catalogue = await create_catalogue(running, date(2019, 6, 3))
    stream = pos_stream(catalogue, 5, random.Random(3), resend_every=0)
    before = datetime.now(UTC) - timedelta(seconds=1)
    producer = AIOKafkaProducer(**running.access.options(), acks="all")
    await producer.start()
    try:
        for key, value, headers in stream.messages:
            await producer.send_and_wait(
                "otop.sales.ingress.dlq",
                value,
                key=key,
                headers=[
                    *headers,
                    ("content-type", b""),
                    ("dlq-reason", b"failed after retries: OperationalError: ..."),
                    ("dlq-reason-code", b"failed"),
                    ("dlq-consumer-group", b"sales.ingress"),
                    ("dlq-original-topic", b"otop.sales.ingress"),
                    ("dlq-attempts", b"3"),
                ],
            )
    finally:
        await producer.stop()
    trial = await Trial.begin(running, catalogue)  # the 5 dead letters are there before: the replay adds none

    ours = {json.loads(m[1])["payload"]["integration_sale_id"] for m in stream.messages}
    parked = listed(
        running, "--topic", "otop.sales.ingress", "--reason", "failed", "--since", before.isoformat()
    )
    assert len(parked) == 5 and {item["reason_code"] for item in parked} == {"failed"}
    assert (
        listed(
            running, "--topic", "otop.sales.ingress", "--reason", "malformed", "--since", before.isoformat()
        )
        == []
    )
    earlier = listed(running, "--topic", "otop.sales.ingress", "--until", before.isoformat())
    assert {item["position"] for item in parked}.isdisjoint(item["position"] for item in earlier)
    shown = json.loads(cli(running, "show", parked[0]["position"])[0])
    assert "x-otop-signature" in shown["headers"]
    assert json.loads(shown["value"])["payload"]["integration_sale_id"] in ours

    for _ in range(2):  # the second replay must change nothing
        said = cli(
            running,
            "replay",
            "--topic",
            "otop.sales.ingress",
            "--reason",
            "failed",
            "--since",
            before.isoformat(),
        )[1]
        assert "5 dead letter(s) replayed" in said
        assert_exact(await trial.end(timeout=120), Totals(5, stream.amount_thb))


async def test_a_truncated_dead_letter_is_replayed_from_its_original(running):
    """A 1.5 MiB unreadable record on the registry's products topic (three consumer groups: sales,
    monitoring, scheduling) is parked truncated by each, its original in each one's database; replaying
    the three brings the whole original back (checksum verified), and each group parks it again."""
    marker = uuid4().hex
    value = json.dumps({"marker": marker, "padding": "x" * (1536 * 1024)}).encode()
    before = datetime.now(UTC) - timedelta(seconds=1)
    producer = AIOKafkaProducer(
        **running.access.options(), acks="all", compression_type="gzip", max_request_size=4 * 1024 * 1024
    )
    await producer.start()
    try:
        await producer.send_and_wait("otop.registry.products", value, key=marker.encode())
    finally:
        await producer.stop()

    async def parked(expected: int) -> list:
        async def enough():
            records = [
                r
                for r in await read_to_end(running.access, "otop.registry.products.dlq")
                if r.key == marker.encode()
            ]
            return records if len(records) >= expected else None

        return await eventually(enough, timeout=120, interval=1)

    async def depth() -> float:
        """The sales service's dead-letter depth metric for the topic (its clients stay connected between
        scrapes: the second scrape below reuses them)."""
        async with httpx.AsyncClient(timeout=30) as http:
            metrics = (await http.get(f"{running.url('sales')}/internal/metrics")).text
        [value] = [
            float(line.split()[-1])
            for line in metrics.splitlines()
            if line.startswith('otop_dead_letter_depth{topic="otop.registry.products.dlq"}')
        ]
        return value

    first = await parked(3)
    assert await depth() == len(await read_to_end(running.access, "otop.registry.products.dlq")) >= 3
    headers = [{n: v.decode() for n, v in r.headers} for r in first]
    assert {h["dlq-consumer-group"] for h in headers} == {
        "sales.products",
        "monitoring.products",
        "scheduling.products",
    }
    assert all(h["dlq-truncated"] == "true" and int(h["dlq-original-bytes"]) == len(value) for h in headers)
    assert all(len(r.value) == 64 * 1024 for r in first)
    shown = json.loads(cli(running, "show", f"{first[0].topic}:{first[0].partition}:{first[0].offset}")[0])
    assert "/dead_letter_originals/" in shown["headers"]["dlq-original-ref"] and shown["truncated"]

    said = cli(running, "replay", "--topic", "otop.registry.products", "--since", before.isoformat())[1]
    assert "3 dead letter(s) replayed" in said
    again = await parked(3 + 9)
    # the depth metric counts what the topic holds
    assert await depth() == len(await read_to_end(running.access, "otop.registry.products.dlq")) >= 12
    assert {dict((n, v.decode()) for n, v in r.headers)["dlq-original-sha256"] for r in again} == {
        hashlib.sha256(value).hexdigest()
    }
