"""Property-based fuzzing (hypothesis) of every consumed topic, on the real services and broker.

Each example publishes a few bad messages (not JSON, non-UTF-8 bytes, a broken envelope, a payload with
a field missing, of the wrong type, out of range or huge, a bad version or province) and then a valid
event, all with one Kafka key (one partition, so in this order). For every consumer group of the topic:
- a message that cannot be read is on `<topic>.dlq` with `dlq-reason`, `dlq-reason-code` and its group;
- a message that reads as an event the group handles is either applied (its inbox row) or dead-lettered,
  never both, never neither (e.g. a huge amount the database cannot hold is dead-lettered);
- a readable event of a type or version the group does not handle is skipped by design (a newer
  producer's event; README "Events"): neither applied nor dead-lettered;
- the valid event after them is applied: the consumer keeps going.
The POS ingress (signed messages) is fuzzed the same way: every bad message is dead-lettered with a code.

Examples per topic: the hypothesis profile `reliability-ci` (default) or `reliability-full`
(OTOP_FUZZ_PROFILE=reliability-full).
"""

import json
import uuid
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from aiokafka import AIOKafkaProducer
from hypothesis import given
from hypothesis import strategies as st

from shared.events import InvalidEvent, parse_event, registered_contracts
from shared.topics import SALES_INGRESS, dead_letter_topic
from tests.conftest import eventually
from tests.harness import KafkaFixture
from tests.reliability.support import DeadLetters, create_catalogue, scalar, subscriptions
from tests.sales.support import pos_body, pos_sale, signed

pytestmark = pytest.mark.integration
SUBSCRIPTIONS = subscriptions()
EVENT_TOPICS = sorted({s.topic for s in SUBSCRIPTIONS if s.handles})
TRIED: Counter = Counter()  # messages published, by topic: the figure docs/reliability.md reports


def groups_of(topic: str):
    return [s for s in SUBSCRIPTIONS if s.topic == topic]


def sample_payload(event_type: str, version: int) -> dict:
    """A valid payload of a contract, with fresh ids (JSON form)."""
    contract = registered_contracts()[(event_type, version)]
    ids = {
        name: str(uuid.uuid4())
        for name in (
            "product_id",
            "producer_id",
            "venue_id",
            "plan_id",
            "market_day_id",
            "invitation_id",
            "sale_id",
            "evaluation_id",
            "group_id",
            "proposal_id",
            "purchase_id",
            "stock_id",
        )
    }
    candidates = {
        **ids,
        "revision": 1,
        "name": "ตัวอย่าง",
        "category": "food",
        "star_level": 2,
        "quadrant": "D",
        "nawatwithi": True,
        "price_thb": "45.00",
        "unit": "ชิ้น",
        "producer_type": "community_group",
        "experienced": True,
        "kind": "pracharat_market",
        "first_month": "2019-06-01",
        "last_month": "2019-09-01",
        "market_days_per_month": 4,
        "products_per_market_day": 20,
        "venue_name": "ตลาดประชารัฐ",
        "venue_kind": "pracharat_market",
        "day": "2019-07-06",
        "status": "scheduled",
        "product_ids": [],
        "producer_ids": [],
        "quantity": "2",
        "unit_price_thb": "10.00",
        "amount_thb": "20.00",
        "sold_at": datetime(2019, 7, 6, 4, 0, tzinfo=UTC).isoformat(),
        "channel": "officer",
        "reason": "busy",
        "overall_score": 4,
        "integration_sale_id": "fuzz-sample",
        "mentor_ids": [ids["producer_id"]],
        "mentee_ids": [str(uuid.uuid4())],
        "lineup_size": 20,
        "items": [],
        "changed_by": "fuzz",
        "fiscal_year": 2562,
        "version": 1,
        "activities": [],
        "lines": [],
        "total_thb": "0.00",
        "submitted_by": "fuzz",
        "submitted_at": datetime(2019, 5, 1, 3, 0, tzinfo=UTC).isoformat(),
        "unit_cost_thb": "150.00",
        "estimated_thb": "300.00",
        "on_hand": 3,
        "written_off": 0,
        "change": 3,
    }
    if event_type.startswith("sales.sale"):
        candidates["reason"] = "แก้ไขจำนวน"
    if event_type.startswith("budget.proposal"):
        candidates["status"] = event_type.rsplit(".", 1)[1]
    if event_type.startswith("budget.purchase"):
        candidates |= {"category": "materials", "status": "bought"}
    if event_type.startswith("budget.stock"):
        candidates["kind"] = "flag"
    payload = {name: candidates[name] for name, field in contract.model_fields.items() if field.is_required()}
    contract.model_validate(payload)  # a sample that is not valid would make the test meaningless
    return payload


def envelope(event_type: str, version: int, payload: dict, province: str = "72") -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "version": version,
        "occurred_at": datetime.now(UTC).isoformat(),
        "province_code": province,
        "source": "fuzz",
        "payload": payload,
    }


HUGE = st.one_of(
    st.integers(min_value=10**15, max_value=10**40),
    st.integers(max_value=-(10**15)),
    st.just("9" * 40),
    st.just("1e400"),
    st.text(min_size=5000, max_size=20000),
    st.lists(st.integers(), min_size=2000, max_size=3000),
)
WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
BAD_PROVINCE = st.sampled_from(["", "7", "00", "720", "ab", "๗๒", " 72", "72\n", None, 72])


@st.composite
def broken_event(draw, handled: list[tuple[str, int]]) -> bytes:
    """A message meant for a topic with these handled contracts, broken in one of many ways."""
    event_type, version = draw(st.sampled_from(handled))
    event = envelope(event_type, version, sample_payload(event_type, version))
    how = draw(
        st.sampled_from(["bytes", "not utf-8", "json value", "drop", "wrong", "huge", "version", "province"])
    )
    if how == "bytes":
        return draw(st.binary(max_size=200))
    if how == "not utf-8":
        return b"\xff\xfe" + json.dumps(event).encode()[2:]
    if how == "json value":
        return json.dumps(draw(st.one_of(WRONG, st.lists(st.just(event), max_size=2)))).encode()
    if how == "version":
        event["version"] = draw(st.one_of(WRONG, st.integers(max_value=0), HUGE))
    elif how == "province":
        event["province_code"] = draw(BAD_PROVINCE)
    else:
        target = event if draw(st.booleans()) and how != "huge" else event["payload"]
        field = draw(st.sampled_from(sorted(target)))
        if how == "drop":
            del target[field]
        else:
            target[field] = draw(WRONG if how == "wrong" else HUGE)
    return json.dumps(event, ensure_ascii=draw(st.booleans())).encode()


def verdict(value: bytes, handles: frozenset) -> str:
    """What a consumer group handling `handles` must do with `value`: dead-letter, apply-or-dead-letter,
    or skip."""
    try:
        envelope_, payload = parse_event(value)
    except InvalidEvent:
        return "dead-letter"
    if payload is None or (envelope_.type, envelope_.version) not in handles:
        return "skip"
    return "apply or dead-letter"


@pytest.fixture(scope="module")
async def dead_letters(stack):
    topics = sorted({dead_letter_topic(s.topic) for s in SUBSCRIPTIONS})
    async with DeadLetters(stack.access, topics) as collector:
        yield collector
    print(f"\nfuzzed messages by topic: {dict(TRIED)}")


async def publish(kafka: KafkaFixture, topic: str, key: bytes, messages: list[tuple[bytes, list]]) -> None:
    producer = AIOKafkaProducer(**kafka.options(), acks="all", max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for value, headers in messages:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
    TRIED[topic] += len(messages)


async def applied(stack, service: str, group_id: str, event_id) -> bool:
    return (
        await scalar(
            stack.db(service),
            "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = $2",
            group_id,
            uuid.UUID(str(event_id)),
        )
        == 1
    )


def event_id_of(value: bytes) -> str | None:
    try:
        return str(parse_event(value)[0].event_id)
    except InvalidEvent:
        return None


@pytest.mark.parametrize("topic", EVENT_TOPICS)
@given(bad=st.data())
async def test_bad_events_are_dead_lettered_and_the_consumer_keeps_going(running, dead_letters, topic, bad):
    groups = groups_of(topic)
    handled = sorted(set().union(*(g.handles for g in groups)))
    messages = bad.draw(st.lists(broken_event(handled), min_size=1, max_size=6))
    key = f"fuzz-{uuid.uuid4().hex[:8]}".encode()
    fuzz_ids = [uuid.uuid4().hex for _ in messages]
    marker = json.dumps(envelope(*handled[0], sample_payload(*handled[0]))).encode()
    await publish(
        running.access,
        topic,
        key,
        [(value, [("x-fuzz-id", fid.encode())]) for value, fid in zip(messages, fuzz_ids, strict=True)]
        + [(marker, [])],
    )
    for group in groups:  # the valid event after the bad ones is applied by every group that handles it
        if handled[0] in group.handles:
            await eventually(
                lambda g=group: applied(running, g.service, g.group_id, event_id_of(marker)), timeout=60
            )
    must_dead = {
        (fid, g.group_id)
        for value, fid in zip(messages, fuzz_ids, strict=True)
        for g in groups
        if verdict(value, g.handles) == "dead-letter"
    }
    await dead_letters.arrived(must_dead)
    for value, fid in zip(messages, fuzz_ids, strict=True):
        dead = {h["dlq-consumer-group"]: h for h in dead_letters.by_fuzz_id.get(fid, [])}
        for group in groups:
            must = verdict(value, group.handles)
            if must == "skip":
                assert group.group_id not in dead, (
                    f"{group.group_id} dead-lettered a skippable {value[:200]!r}"
                )
            elif group.group_id in dead:
                headers = dead[group.group_id]
                assert headers["dlq-reason"] and headers["dlq-original-topic"] == topic, headers
                assert headers["dlq-reason-code"] in {"malformed", "failed", "rejected"}, headers
                if must == "apply or dead-letter":
                    assert not await applied(running, group.service, group.group_id, event_id_of(value))
            else:
                assert must == "apply or dead-letter", f"{group.group_id} did not dead-letter {value[:200]!r}"
                assert await applied(running, group.service, group.group_id, event_id_of(value)), (
                    f"{group.group_id} neither applied nor dead-lettered {value[:200]!r}"
                )


@pytest.fixture(scope="module")
async def catalogue(stack):
    return await create_catalogue(stack, date(2019, 7, 13))


BAD_SIGNING = st.sampled_from(["unsigned", "bad_signature", "unknown_key", "province_mismatch"])


@st.composite
def broken_pos_message(draw, catalogue) -> tuple[bytes, list, str]:
    """A POS message on the ingress, broken in its body or its signing: (value, headers, expected code)."""
    sale = pos_sale(
        f"fuzz-{uuid.uuid4().hex}", uuid.UUID(catalogue.products[0]["id"]), uuid.UUID(catalogue.market_day_id)
    )
    key_id, signing_key = catalogue.key["key_id"], catalogue.key["signing_key"]
    if draw(st.booleans()):
        body = draw(
            broken_event([("sales.pos.sale", 1)]).filter(lambda b: verdict(b, frozenset()) == "dead-letter")
        )
        return body, signed(body, key_id, signing_key), "malformed"
    code = draw(BAD_SIGNING)
    body = pos_body(sale, province="10" if code == "province_mismatch" else "72")
    headers = {
        "unsigned": [],
        "bad_signature": signed(body, key_id, "not-the-key"),
        "unknown_key": signed(body, "sk_72_" + "0" * 16, signing_key),
        "province_mismatch": signed(body, key_id, signing_key),
    }[code]
    return body, headers, code


@given(bad=st.data())
async def test_bad_pos_messages_are_dead_lettered_and_the_ingress_keeps_going(
    running, dead_letters, catalogue, bad
):
    messages = bad.draw(st.lists(broken_pos_message(catalogue), min_size=1, max_size=6))
    key = f"fuzz-{uuid.uuid4().hex[:8]}".encode()
    fuzz_ids = [uuid.uuid4().hex for _ in messages]
    good = pos_sale(
        f"fuzz-good-{uuid.uuid4().hex}",
        uuid.UUID(catalogue.products[0]["id"]),
        uuid.UUID(catalogue.market_day_id),
    )
    good_body = pos_body(good)
    await publish(
        running.access,
        SALES_INGRESS,
        key,
        [
            (value, headers + [("x-fuzz-id", fid.encode())])
            for (value, headers, _), fid in zip(messages, fuzz_ids, strict=True)
        ]
        + [(good_body, signed(good_body, catalogue.key["key_id"], catalogue.key["signing_key"]))],
    )

    async def stored() -> bool:
        return (
            await scalar(
                running.db("sales"),
                "SELECT count(*) FROM sales WHERE integration_sale_id = $1",
                good.integration_sale_id,
            )
            == 1
        )

    await eventually(stored, timeout=60)
    await dead_letters.arrived({(fid, "sales.ingress") for fid in fuzz_ids})
    for (value, _, code), fid in zip(messages, fuzz_ids, strict=True):
        [headers] = dead_letters.by_fuzz_id.get(fid, [None])
        assert headers is not None, f"not dead-lettered ({code}): {value[:200]!r}"
        assert (headers["dlq-reason-code"], headers["dlq-consumer-group"]) == (code, "sales.ingress"), headers
        assert headers["dlq-reason"]
