"""The POS ingress topic, end to end on a running sales service with real Kafka and PostgreSQL:
deduplication, every dead-letter reason, and sales that arrive before their product or market day."""

import json
from uuid import uuid4

import pytest

from services.sales.domain import pos_sale_id
from services.sales.main import spec
from shared.contracts.registry import ProductRegistered
from shared.contracts.scheduling import MarketDayCancelled, MarketDayRescheduled, MarketDayStatus
from shared.topics import SALES_RECORDED, dead_letter_topic
from tests.conftest import eventually, running_service
from tests.sales.support import (
    OFFICER,
    events_applied,
    headers_of,
    market_day,
    pos_body,
    pos_sale,
    product,
    publish,
    publish_pos,
    read_models_know,
    read_until,
    register_integration,
    sales_env,
    signed,
    totals,
)

pytestmark = pytest.mark.integration
INGRESS_DLQ = dead_letter_topic("otop.sales.ingress")


async def test_a_sale_sent_again_is_counted_once(database_url, kafka, monkeypatch):
    sales_env(monkeypatch)
    async with running_service(spec, database_url, kafka) as http:
        integration = await register_integration(http)
        key_id, key = integration["key_id"], integration["signing_key"]
        p, day = product(), market_day()
        await publish(kafka, p, day)
        await read_models_know(database_url, p, day)
        run = uuid4().hex[:8]
        kafka_key = f"{run}".encode()  # one partition: the order below is the order of processing

        def message(sale_id: str, quantity: str = "2"):
            body = pos_body(pos_sale(f"{run}-{sale_id}", p.product_id, day.market_day_id, quantity=quantity))
            return kafka_key, body, signed(body, key_id, key)

        duplicate = message("dup")
        # The same bytes three times, then the same sale id in a new envelope (new event id), then a marker.
        await publish_pos(kafka, [duplicate, duplicate, duplicate, message("dup"), message("marker-1", "1")])
        await eventually(lambda: _recorded(http, 2))
        await publish_pos(kafka, [duplicate, message("marker-2", "1")])
        await eventually(lambda: _recorded(http, 3))

        by_product = await totals(http, "product")
        assert by_product[str(p.product_id)]["sales"] == 3
        assert by_product[str(p.product_id)]["quantity"] == "4.000"  # 2 + 1 + 1: the duplicate once
        assert by_product[str(p.product_id)]["amount_thb"] == "180.00"

        dup_id = str(pos_sale_id("72", integration["integration_id"], f"{run}-dup"))
        marker_id = str(pos_sale_id("72", integration["integration_id"], f"{run}-marker-2"))
        events = await read_until(
            kafka,
            SALES_RECORDED,
            keep=lambda r: r.key in (dup_id.encode(), marker_id.encode()),
            done=lambda rs: any(r.key == marker_id.encode() for r in rs),
        )
        recorded = [json.loads(r.value) for r in events if r.key == dup_id.encode()]
        assert len(recorded) == 1  # one canonical event, published before the later marker's
        assert recorded[0]["type"] == "sales.sale.recorded"
        assert recorded[0]["payload"]["channel"] == "integration"
        assert recorded[0]["payload"]["producer_id"] == str(p.producer_id)


async def _recorded(http, count: int) -> bool:
    page = await http.get("/provinces/72/sales", headers=OFFICER)
    return page.json()["total"] == count


async def test_every_refused_message_lands_on_the_dead_letter_topic_with_its_reason(
    database_url, kafka, monkeypatch
):
    sales_env(monkeypatch, hold_max_s=2)
    async with running_service(spec, database_url, kafka) as http:
        integration = await register_integration(http)
        revoked = await register_integration(http, "POS ที่เลิกใช้")
        assert (
            await http.post(
                f"/provinces/72/integrations/{revoked['integration_id']}/keys/{revoked['key_id']}/revoke",
                headers=OFFICER,
            )
        ).status_code == 204
        key_id, key = integration["key_id"], integration["signing_key"]
        p, day, cancelled = (
            product(),
            market_day(),
            market_day(kind=MarketDayCancelled, status=MarketDayStatus.CANCELLED),
        )
        foreign = product()
        await publish(kafka, p, day, cancelled)
        await publish(kafka, foreign, province="10")
        await read_models_know(database_url, p, foreign, day, cancelled)
        run = uuid4().hex[:8]

        def body(name: str, product_id=p.product_id, market_day_id=day.market_day_id, province="72") -> bytes:
            return pos_body(pos_sale(f"{run}-{name}", product_id, market_day_id), province)

        schema_violation = json.loads(body("negative"))
        schema_violation["payload"]["quantity"] = "-1"
        schema_violation = json.dumps(schema_violation).encode()
        other_type = json.dumps(
            {**json.loads(body("other-type")), "type": ProductRegistered.event_type}
        ).encode()
        cases = {
            "unsigned": (body("unsigned"), []),
            "unknown_key": (body("unknown-key"), signed(body("unknown-key"), "sk_72_nosuchkey", key)),
            "unknown_key-not-utf8": (
                body("binary"),
                [("x-otop-key-id", b"\xff\xfe"), ("x-otop-signature", b"00")],
            ),
            "bad_signature": (body("forged"), signed(body("forged"), key_id, "not-the-key")),
            "inactive_key": (
                body("revoked"),
                signed(body("revoked"), revoked["key_id"], revoked["signing_key"]),
            ),
            "province_mismatch": (body("province", province="10"), None),
            "malformed": (b"{not json", None),
            "malformed-schema": (schema_violation, None),
            "malformed-type": (other_type, None),
            "foreign_reference": (body("foreign", product_id=foreign.product_id), None),
            "market_day_cancelled": (body("cancelled", market_day_id=cancelled.market_day_id), None),
            "unknown_reference": (body("unknown", product_id=uuid4()), None),
            "recorded": (body("good"), None),
        }
        messages = [
            (f"{run}-{case}".encode(), value, signed(value, key_id, key) if headers is None else headers)
            for case, (value, headers) in cases.items()
        ]
        await publish_pos(kafka, messages)

        dead = await read_until(
            kafka,
            INGRESS_DLQ,
            keep=lambda r: (r.key or b"").startswith(run.encode()),
            done=lambda rs: len(rs) >= len(cases) - 1,
        )
        by_case = {r.key.decode().removeprefix(f"{run}-"): r for r in dead}
        assert set(by_case) == set(cases) - {"recorded"}
        for case, record in by_case.items():
            headers = headers_of(record)
            assert headers["dlq-reason-code"] == case.split("-")[0], (case, headers)
            assert headers["dlq-reason"] and headers["dlq-original-topic"] == "otop.sales.ingress"
            assert record.value == cases[case][0]  # the original bytes, for replay
        assert "quantity" in headers_of(by_case["malformed-schema"])["dlq-reason"]
        unknown = headers_of(by_case["unknown_reference"])
        assert (
            unknown["dlq-consumer-group"] == "sales.held"
            and "still unknown after 2s" in unknown["dlq-reason"]
        )
        [sent] = [headers for key, _, headers in messages if key == f"{run}-unknown_reference".encode()]
        assert unknown["x-otop-signature"] == dict(sent)["x-otop-signature"].decode()
        assert "dlq-original-offset" in unknown  # a held message keeps where it came from

        # Only the good one counts; nothing is left held.
        assert (await http.get("/provinces/72/sales", headers=OFFICER)).json()["total"] == 1
        assert (await http.get("/provinces/72/integration/held-sales", headers=OFFICER)).json() == []


async def test_a_sale_before_its_product_and_market_day_is_held_then_recorded(
    database_url, kafka, monkeypatch
):
    sales_env(monkeypatch)
    async with running_service(spec, database_url, kafka) as http:
        integration = await register_integration(http)
        key_id, key = integration["key_id"], integration["signing_key"]
        p = product(price="120.00")
        venue_a, venue_b = uuid4(), uuid4()
        rescheduled = market_day(kind=MarketDayRescheduled, venue="ตลาดน้ำสามชุก", venue_id=venue_b, revision=2)
        first = market_day(market_day_id=rescheduled.market_day_id, venue_id=venue_a, revision=1)
        run = uuid4().hex[:8]
        body = pos_body(
            pos_sale(f"{run}-early", p.product_id, rescheduled.market_day_id, quantity="3", price="100")
        )
        await publish_pos(kafka, [(run.encode(), body, signed(body, key_id, key))])

        async def held() -> list:
            return (await http.get("/provinces/72/integration/held-sales", headers=OFFICER)).json()

        [waiting] = await eventually(held)
        assert waiting["integration_sale_id"] == f"{run}-early"
        assert (waiting["product_known"], waiting["market_day_known"]) == (False, False)
        assert await totals(http, "product") == {}

        await publish(kafka, p)
        await eventually(lambda: _product_known(held))
        assert await totals(http, "product") == {}  # still waiting for the market day

        # The market day's events arrive newest first: revision 2 wins over the late revision 1.
        await publish(kafka, rescheduled, first)
        by_product = await eventually(lambda: totals(http, "product"))
        assert by_product[str(p.product_id)]["amount_thb"] == "300.00"
        assert await held() == []
        await eventually(lambda: events_applied(database_url, "sales.market_days", 2))
        by_venue = await totals(http, "venue")
        assert list(by_venue) == [str(venue_b)] and by_venue[str(venue_b)]["label"] == "ตลาดน้ำสามชุก"


async def _product_known(held) -> bool:
    [waiting] = await held()
    return waiting["product_known"] and not waiting["market_day_known"]


async def test_a_held_sale_whose_key_is_revoked_meanwhile_is_dead_lettered_not_recorded(
    database_url, kafka, monkeypatch
):
    """Issue 14, finding 5: the key is checked again when a held sale is released."""
    sales_env(monkeypatch)
    async with running_service(spec, database_url, kafka) as http:
        integration = await register_integration(http)
        key_id, key = integration["key_id"], integration["signing_key"]
        p, day = product(), market_day()
        await publish(kafka, day)
        run = uuid4().hex[:8]
        body = pos_body(pos_sale(f"{run}-held", p.product_id, day.market_day_id))
        await publish_pos(kafka, [(run.encode(), body, signed(body, key_id, key))])

        async def held() -> list:
            return (await http.get("/provinces/72/integration/held-sales", headers=OFFICER)).json()

        await eventually(held)
        revoked = await http.post(
            f"/provinces/72/integrations/{integration['integration_id']}/keys/{key_id}/revoke",
            headers=OFFICER,
        )
        assert revoked.status_code == 204
        await publish(kafka, p)  # the sale's product arrives: the sale is released, and refused

        [dead] = await read_until(
            kafka, INGRESS_DLQ, lambda r: r.key == run.encode(), lambda found: len(found) == 1
        )
        assert headers_of(dead)["dlq-reason-code"] == "inactive_key" and dead.value == body
        assert await held() == []
        await eventually(lambda: events_applied(database_url, "sales.products", 1))
        assert await totals(http, "product") == {}
