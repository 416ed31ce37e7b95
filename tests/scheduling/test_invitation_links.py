"""Producers answer their invitation through a signed, expiring link, without a login: the link's rules
(no I/O), then a running scheduling service: a decline through the link shows in the officer's lineup with
its reason, the next proposed product replaces it, and the lineup is back at 20. Altered, foreign and
expired links are refused, and without the key no link is issued."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.scheduling.domain import LINK_MAX_DAYS, InvitationLink, LinkRefused
from services.scheduling.main import spec
from shared.thailand import THAILAND, thai_today
from shared.topics import REGISTRY_PRODUCERS, REGISTRY_PRODUCTS
from tests.conftest import consume_from_now, running_service
from tests.scheduling.support import (
    COMMITTEE,
    OFFICER,
    OTHER_OFFICER,
    applied,
    market_day,
    producer,
    product,
    publish,
    venue,
)

KEY = "invitation-link-test-key-0123456789abcdef"
PRODUCER_VIEW = {
    "id",
    "market_day_id",
    "product_name",
    "producer_name",
    "status",
    "decline_reason",
    "province_code",
    "venue_name",
    "day",
    "starts_at",
    "ends_at",
    "market_day_status",
    "expires_at",
}
P = "/provinces/72"
NOW = datetime(2019, 6, 1, 3, 0, tzinfo=UTC)


# --- the link's rules


def test_a_link_reads_back_and_expires_when_the_market_day_begins():
    link = InvitationLink.expiring(uuid4(), "72", NOW.date() + timedelta(days=5), NOW)
    assert link.expires_at == datetime(2019, 6, 6, tzinfo=THAILAND)
    assert InvitationLink.read(KEY, link.token(KEY), NOW) == link
    with pytest.raises(LinkRefused) as expired:
        InvitationLink.read(KEY, link.token(KEY), link.expires_at)
    assert expired.value.expired


def test_a_link_lives_two_weeks_at_most():
    link = InvitationLink.expiring(uuid4(), "72", NOW.date() + timedelta(days=60), NOW)
    assert link.expires_at == NOW + timedelta(days=LINK_MAX_DAYS)


@pytest.mark.parametrize(
    "alter",
    [
        lambda token: token.replace(".72.", ".10."),  # another province
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # another signature
        lambda token: token.rsplit(".", 1)[0],  # no signature
        lambda token: InvitationLink(uuid4(), "72", NOW + timedelta(days=1)).token("another-key-" + "x" * 32),
        lambda token: "not-a-token",
    ],
)
def test_an_altered_or_foreign_link_is_refused(alter):
    token = InvitationLink(uuid4(), "72", NOW + timedelta(days=1)).token(KEY)
    with pytest.raises(LinkRefused) as refused:
        InvitationLink.read(KEY, alter(token), NOW)
    assert not refused.value.expired


# --- on a running service


@pytest.fixture
async def lineup(database_url, kafka, monkeypatch):
    """A scheduling service with the link key, 24 products of 24 producers and a market day next week
    whose lineup is filled (20 invited)."""
    monkeypatch.setenv("OTOP_INVITATION_LINK_KEY", KEY)
    await consume_from_now(
        kafka, {"scheduling.producers": REGISTRY_PRODUCERS, "scheduling.products": REGISTRY_PRODUCTS}
    )
    async with running_service(spec, database_url, kafka) as http:
        producers = [producer(f"ผู้ผลิต {i:02d}") for i in range(24)]
        products = [product(f"ผลิตภัณฑ์ {i:02d}", p.producer_id) for i, p in enumerate(producers)]
        await publish(kafka, *producers, *products)
        await applied(database_url, "scheduling.producers", len(producers))
        await applied(database_url, "scheduling.products", len(products))
        day = await market_day(http, (await venue(http))["id"], thai_today() + timedelta(days=7))
        filled = await http.post(f"{P}/market-days/{day['id']}/lineup/fill", headers=OFFICER)
        assert filled.status_code == 200 and len(filled.json()["invited"]) == 20, filled.text
        yield http, day, filled.json()["invited"]


@pytest.mark.integration
async def test_a_decline_through_the_link_is_replaced_and_the_lineup_is_back_at_20(lineup):
    http, day, invited = lineup
    invitation = invited[3]
    issued = await http.post(f"{P}/invitations/{invitation['id']}/link", headers=OFFICER)
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]
    assert datetime.fromisoformat(issued.json()["expires_at"]) == datetime.combine(
        datetime.fromisoformat(day["day"]).date(), datetime.min.time(), THAILAND
    )

    seen = await http.get(f"/public/invitations/{token}")  # no token: the link is the credential
    assert seen.status_code == 200, seen.text
    assert (
        seen.json()["product_name"],
        seen.json()["producer_name"],
        seen.json()["venue_name"],
        seen.json()["day"],
        seen.json()["status"],
    ) == (invitation["product_name"], invitation["producer_name"], day["venue_name"], day["day"], "sent")

    other = await http.post(f"/public/invitations/{token}/decline", json={"reason": "other"})
    assert other.status_code == 422  # 'other' says why: nothing changed
    declined = await http.post(
        f"/public/invitations/{token}/decline", json={"reason": "no_raw_material", "note": "ขาดวัตถุดิบช่วงนี้"}
    )
    assert declined.status_code == 200, declined.text
    assert (declined.json()["status"], declined.json()["decline_reason"]) == ("declined", "no_raw_material")
    # The public answer carries what the producer's page shows, nothing of the officer's (issue 21).
    assert set(declined.json()) == set(seen.json()) == PRODUCER_VIEW
    assert (await http.post(f"/public/invitations/{token}/accept")).status_code == 409

    shown = (await http.get(f"{P}/market-days/{day['id']}/lineup", headers=COMMITTEE)).json()
    [row] = [i for i in shown["invitations"] if i["id"] == invitation["id"]]
    assert (row["status"], row["decline_reason"], row["note"]) == (
        "declined",
        "no_raw_material",
        "ขาดวัตถุดิบช่วงนี้",
    )
    assert (shown["in_lineup"], shown["shortfall"]) == (19, 1)
    proposal = (await http.get(f"{P}/market-days/{day['id']}/proposal", headers=OFFICER)).json()
    [replacement] = [c for c in proposal["candidates"] if c["proposed"]]
    refilled = (await http.post(f"{P}/market-days/{day['id']}/lineup/fill", headers=OFFICER)).json()
    assert [i["product_id"] for i in refilled["invited"]] == [replacement["product_id"]]
    back = (await http.get(f"{P}/market-days/{day['id']}/lineup", headers=OFFICER)).json()
    assert (back["in_lineup"], back["shortfall"]) == (20, 0)

    # Another invitation's yes, through its own link.
    yes = (await http.post(f"{P}/invitations/{invited[5]['id']}/link", headers=OFFICER)).json()["token"]
    accepted = await http.post(f"/public/invitations/{yes}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"


@pytest.mark.integration
async def test_links_are_for_officers_and_a_bad_or_expired_one_is_refused(lineup):
    http, _, invited = lineup
    path = f"{P}/invitations/{invited[0]['id']}/link"
    assert (await http.post(path, headers=COMMITTEE)).status_code == 403
    assert (await http.post(path, headers=OTHER_OFFICER)).status_code == 403
    assert (await http.post(f"{P}/invitations/{uuid4()}/link", headers=OFFICER)).status_code == 404
    token = (await http.post(path, headers=OFFICER)).json()["token"]
    forged = token.replace(".72.", ".10.")
    assert (await http.get(f"/public/invitations/{forged}")).status_code == 404
    assert "not valid" in (await http.post(f"/public/invitations/{forged}/accept")).json()["detail"]
    expired = InvitationLink(invited[0]["id"], "72", datetime.now(UTC) - timedelta(seconds=1)).token(KEY)
    gone = await http.post(f"/public/invitations/{expired}/decline", json={"reason": "busy"})
    assert gone.status_code == 410 and "expired" in gone.json()["detail"]
    after = (await http.get(f"{P}/market-days/{invited[0]['market_day_id']}/lineup", headers=OFFICER)).json()
    assert {i["status"] for i in after["invitations"]} == {"sent"}  # nothing was answered


@pytest.mark.integration
async def test_without_the_key_no_link_is_issued_or_honoured(database_url, kafka, monkeypatch):
    monkeypatch.delenv("OTOP_INVITATION_LINK_KEY", raising=False)
    async with running_service(spec, database_url, kafka) as http:
        refused = await http.post(f"{P}/invitations/{uuid4()}/link", headers=OFFICER)
        assert refused.status_code == 503 and "OTOP_INVITATION_LINK_KEY" in refused.json()["detail"]
        token = InvitationLink(uuid4(), "72", datetime.now(UTC) + timedelta(days=1)).token(KEY)
        assert (await http.get(f"/public/invitations/{token}")).status_code == 503


def test_access_and_error_logs_never_show_a_links_token(caplog):
    """Issue 21: the token is the producer's credential and sits in the path; uvicorn's access log and the
    services' own logs show `<token>` instead (shared/logging.py)."""
    import logging

    from shared.logging import configure_logging

    token = InvitationLink(uuid4(), "72", NOW + timedelta(days=1)).token(KEY)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("scheduling")
        root.addHandler(caplog.handler)
        access = logging.getLogger("uvicorn.access")
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "10.0.0.9:5123",
            "POST",
            f"/public/invitations/{token}/accept",
            "1.1",
            200,
        )
        logging.getLogger("shared.failures").warning(
            "POST /public/invitations/%s/decline: unavailable", token
        )
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/public/invitations/<token>/accept" in logged and "/public/invitations/<token>/decline" in logged
    assert token not in logged and token.rsplit(".", 1)[-1] not in logged
