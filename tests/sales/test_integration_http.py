"""Integrations: registration and key rotation, and the HTTP batch form of the POS contract."""

import json
from uuid import uuid4

import pytest

from services.sales.main import spec
from shared.contracts.scheduling import MarketDayCancelled, MarketDayStatus
from shared.events import envelope_for
from tests.conftest import bearer, running_service
from tests.sales.support import (
    OFFICER,
    client_bearer,
    market_day,
    pos_sale,
    product,
    publish,
    read_models_know,
    register_integration,
    sales_env,
    signed,
    totals,
)

pytestmark = pytest.mark.integration
INGEST = "/provinces/72/integration/sales"
POS = bearer("integration", "72")


def batch_body(*sales, province: str = "72") -> bytes:
    return json.dumps(
        [envelope_for(s, province_code=province, source="pos-http").model_dump(mode="json") for s in sales]
    ).encode()


def post_headers(body: bytes, key: dict, token: dict | None = None) -> dict:
    """Signed with `key`, sent with `token` (default: the registered integration's own client's)."""
    return {
        **(client_bearer(key) if token is None else token),
        "Content-Type": "application/json",
        **{name: value.decode() for name, value in signed(body, key["key_id"], key["signing_key"])},
    }


async def test_signed_http_batches_are_recorded_once_held_or_refused_whole(database_url, kafka, monkeypatch):
    sales_env(monkeypatch)
    async with running_service(spec, database_url, kafka) as http:
        key = await register_integration(http)
        p, day = product(), market_day()
        cancelled = market_day(kind=MarketDayCancelled, status=MarketDayStatus.CANCELLED)
        await publish(kafka, p, day, cancelled)
        await read_models_know(database_url, p, day, cancelled)
        run = uuid4().hex[:8]

        body = batch_body(
            pos_sale(f"{run}-1", p.product_id, day.market_day_id, quantity="2"),
            pos_sale(f"{run}-2", p.product_id, day.market_day_id, quantity="1"),
            pos_sale(f"{run}-3", uuid4(), day.market_day_id),
        )
        first = await http.post(INGEST, content=body, headers=post_headers(body, key))
        assert first.status_code == 200, first.text
        assert [r["status"] for r in first.json()["results"]] == ["recorded", "recorded", "held"]
        again = await http.post(INGEST, content=body, headers=post_headers(body, key))
        assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate", "held"]
        assert [r["sale_id"] for r in again.json()["results"]] == [
            r["sale_id"] for r in first.json()["results"]
        ]
        assert (await totals(http, "product"))[str(p.product_id)]["quantity"] == "3.000"
        [held] = (await http.get("/provinces/72/integration/held-sales", headers=client_bearer(key))).json()
        assert held["integration_sale_id"] == f"{run}-3" and not held["product_known"]
        # Another integration of the province sees none of these held sales, and may not use this key.
        other_pos = await register_integration(http, "POS อีกราย")
        assert (
            await http.get("/provinces/72/integration/held-sales", headers=client_bearer(other_pos))
        ).json() == []
        assert len((await http.get("/provinces/72/integration/held-sales", headers=OFFICER)).json()) == 1
        borrowed = await http.post(
            INGEST, content=body, headers=post_headers(body, key, client_bearer(other_pos))
        )
        assert borrowed.status_code == 403, borrowed.text
        assert (await http.get("/provinces/72/integration/held-sales", headers=POS)).status_code == 403

        # Refused as a whole: nothing of the batch is written.
        mixed = batch_body(
            pos_sale(f"{run}-4", p.product_id, day.market_day_id),
            pos_sale(f"{run}-5", p.product_id, cancelled.market_day_id),
        )
        refused = await http.post(INGEST, content=mixed, headers=post_headers(mixed, key))
        assert refused.status_code == 422
        assert [(e["loc"], e["type"]) for e in refused.json()["detail"]] == [
            (["body", 1], "market_day_cancelled")
        ]
        malformed = json.loads(batch_body(pos_sale(f"{run}-6", p.product_id, day.market_day_id)))
        malformed[0]["payload"]["unit_price_thb"] = "-5"
        malformed = json.dumps(malformed).encode()
        refused = await http.post(INGEST, content=malformed, headers=post_headers(malformed, key))
        assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "malformed"
        assert (await http.get("/provinces/72/sales", headers=OFFICER)).json()["total"] == 2

        # Authentication: the signature over the exact body, and an integration token of the province.
        forged = await http.post(INGEST, content=body, headers=post_headers(body + b" ", key))
        assert forged.status_code == 401 and forged.json()["detail"]["code"] == "bad_signature"
        unsigned = await http.post(
            INGEST, content=body, headers={**client_bearer(key), "Content-Type": "application/json"}
        )
        assert unsigned.status_code == 401 and unsigned.json()["detail"]["code"] == "unsigned"
        assert (
            await http.post(INGEST, content=body, headers=post_headers(body, key, OFFICER))
        ).status_code == 403
        assert (await http.post(INGEST, content=body, headers=post_headers(body, key, {}))).status_code == 401
        other = batch_body(pos_sale(f"{run}-7", p.product_id, day.market_day_id), province="10")
        elsewhere = await http.post(
            "/provinces/10/integration/sales",
            content=other,
            headers=post_headers(other, key, bearer("integration", "10")),
        )
        assert elsewhere.status_code == 403 and elsewhere.json()["detail"]["code"] == "province_mismatch"


async def test_keys_rotate_and_revoke_and_idempotency_survives_rotation(database_url, kafka, monkeypatch):
    sales_env(monkeypatch)
    async with running_service(spec, database_url, kafka) as http:
        first = await register_integration(http)
        assert len(first["signing_key"]) == 64
        p, day = product(), market_day()
        await publish(kafka, p, day)
        await read_models_know(database_url, p, day)
        body = batch_body(pos_sale(f"{uuid4().hex[:8]}-1", p.product_id, day.market_day_id))
        assert (await http.post(INGEST, content=body, headers=post_headers(body, first))).status_code == 200

        rotated = await http.post(
            f"/provinces/72/integrations/{first['integration_id']}/keys", headers=OFFICER
        )
        assert rotated.status_code == 201
        second = rotated.json()
        assert second["key_id"] != first["key_id"] and second["signing_key"] != first["signing_key"]
        revoke = f"/provinces/72/integrations/{first['integration_id']}/keys/{first['key_id']}/revoke"
        assert (await http.post(revoke, headers=OFFICER)).status_code == 204
        old = await http.post(INGEST, content=body, headers=post_headers(body, first))
        assert old.status_code == 401 and old.json()["detail"]["code"] == "inactive_key"
        resent = await http.post(
            INGEST, content=body, headers=post_headers(body, second, client_bearer(first))
        )
        assert [r["status"] for r in resent.json()["results"]] == ["duplicate"]  # same integration, new key

        [listed] = (await http.get("/provinces/72/integrations", headers=OFFICER)).json()
        assert [(k["key_id"], k["active"]) for k in listed["keys"]] == [
            (first["key_id"], False),
            (second["key_id"], True),
        ]
        assert "signing_key" not in json.dumps(listed) and first["signing_key"] not in json.dumps(listed)
        assert (
            await http.get("/provinces/72/integrations", headers=bearer("committee_member", "72"))
        ).status_code == 403
        assert (
            await http.post(
                f"/provinces/10/integrations/{first['integration_id']}/keys",
                headers=bearer("province_officer", "10"),
            )
        ).status_code == 404


async def test_without_a_master_key_integrations_cannot_be_registered(database_url, kafka, monkeypatch):
    monkeypatch.delenv("OTOP_SALES_SIGNING_MASTER_KEY", raising=False)
    async with running_service(spec, database_url, kafka) as http:
        refused = await http.post("/provinces/72/integrations", json={"name": "POS"}, headers=OFFICER)
        assert refused.status_code == 503
        assert (await http.post(INGEST, content=b"[]", headers=POS)).status_code == 503
