"""Producers answer their invitation through a signed, expiring link, without a login: the link's rules
(no I/O), then a running scheduling service: a decline through the link shows in the officer's lineup with
its reason, the next proposed product replaces it, and the lineup is back at 20. Altered, foreign and
expired links are refused, and without the key no link is issued. Answers through a link close at 18:00
the evening before the market day (the officer still changes them), and each link can be revoked on its
own (issue 21)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.scheduling.domain import (
    LINK_MAX_DAYS,
    InvitationLink,
    LinkRefused,
    answers_close,
    check_link_answer,
)
from services.scheduling.main import spec
from shared.errors import Refused
from shared.thailand import THAILAND, thai_today
from shared.topics import REGISTRY_PRODUCERS, REGISTRY_PRODUCTS, SCHEDULING_MARKET_DAYS
from tests.conftest import consume_from_now, running_service
from tests.scheduling.support import (
    COMMITTEE,
    OFFICER,
    OTHER_OFFICER,
    about,
    applied,
    events,
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
    "answers_until",
}
P = "/provinces/72"
NOW = datetime(2019, 6, 1, 3, 0, tzinfo=UTC)


# --- the link's rules


def test_a_link_reads_back_and_expires_when_the_market_day_is_over():
    link = InvitationLink.expiring(uuid4(), "72", NOW.date() + timedelta(days=5), NOW)
    assert link.expires_at == datetime(2019, 6, 7, tzinfo=THAILAND)
    assert InvitationLink.read(KEY, link.token(KEY), NOW) == link
    with pytest.raises(LinkRefused) as expired:
        InvitationLink.read(KEY, link.token(KEY), link.expires_at)
    assert expired.value.expired


def test_answers_through_a_link_close_at_six_the_evening_before_the_market_day():
    """Issue 21: after the cut-off a changed answer (or a first one) through the link is refused with a
    409 said in Thai for the producer's page; the officer records any change after it."""
    day = NOW.date() + timedelta(days=5)  # 6 June 2019
    closes = answers_close(day)
    assert closes == datetime(2019, 6, 5, 18, 0, tzinfo=THAILAND)
    check_link_answer(day, closes - timedelta(seconds=1))  # still open
    for late in (closes, closes + timedelta(hours=5)):
        with pytest.raises(Refused) as refused:
            check_link_answer(day, late)
        assert (refused.value.status_code, refused.value.code) == (409, "link_answers_closed")
        assert "5 มิถุนายน 2562 เวลา 18.00 น." in refused.value.reason and "ติดต่อเจ้าหน้าที่" in refused.value.reason


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
    market = datetime.fromisoformat(day["day"]).date()
    assert datetime.fromisoformat(issued.json()["expires_at"]) == datetime.combine(
        market + timedelta(days=1), datetime.min.time(), THAILAND
    )
    assert datetime.fromisoformat(issued.json()["answers_until"]) == answers_close(
        market
    )  # the officer sees it

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
    never_issued = InvitationLink(uuid4(), "72", datetime.now(UTC) + timedelta(days=1)).token(KEY)
    assert (await http.get(f"/public/invitations/{never_issued}")).status_code == 404
    expired = InvitationLink(uuid4(), "72", datetime.now(UTC) - timedelta(seconds=1)).token(KEY)
    gone = await http.post(f"/public/invitations/{expired}/decline", json={"reason": "busy"})
    assert gone.status_code == 410 and "expired" in gone.json()["detail"]
    after = (await http.get(f"{P}/market-days/{invited[0]['market_day_id']}/lineup", headers=OFFICER)).json()
    assert {i["status"] for i in after["invitations"]} == {"sent"}  # nothing was answered


@pytest.mark.integration
async def test_after_the_cut_off_the_link_shows_the_invitation_and_only_the_officer_changes_it(lineup):
    """A market day today: its answers through links closed at 18:00 yesterday. The link still shows the
    invitation (until the day is over), an answer through it is refused with a Thai 409 and changes
    nothing, and the officer records the producer's yes, then a change of mind."""
    http, day, invited = lineup
    today = await market_day(http, day["venue_id"], thai_today())
    added = await http.post(
        f"{P}/market-days/{today['id']}/lineup",
        json={"product_id": invited[0]["product_id"]},
        headers=OFFICER,
    )
    assert added.status_code == 201, added.text
    invitation = added.json()
    issued = (await http.post(f"{P}/invitations/{invitation['id']}/link", headers=OFFICER)).json()
    assert datetime.fromisoformat(issued["answers_until"]) == answers_close(thai_today()) < datetime.now(UTC)

    seen = await http.get(f"/public/invitations/{issued['token']}")
    assert seen.status_code == 200, seen.text
    assert seen.json()["status"] == "sent" and seen.json()["answers_until"] == issued["answers_until"]
    late = await http.post(f"/public/invitations/{issued['token']}/accept")
    assert late.status_code == 409, late.text
    assert late.json()["detail"]["code"] == "link_answers_closed"
    assert "กรุณาติดต่อเจ้าหน้าที่" in late.json()["detail"]["msg"]
    late_no = await http.post(f"/public/invitations/{issued['token']}/decline", json={"reason": "busy"})
    assert late_no.status_code == 409
    assert (await http.get(f"/public/invitations/{issued['token']}")).json()["status"] == "sent"

    accepted = await http.post(f"{P}/invitations/{invitation['id']}/accept", headers=OFFICER)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    changed = await http.post(
        f"{P}/invitations/{invitation['id']}/decline", json={"reason": "busy"}, headers=OFFICER
    )
    assert changed.status_code == 200 and changed.json()["invitation"]["status"] == "declined"


@pytest.mark.integration
async def test_a_revoked_link_is_refused_and_the_officer_gets_a_new_one(lineup, kafka):
    """One invitation's link revoked (a lost slip): its token is refused with a Thai 410 and answers
    nothing; the officer's new link works, and is the one issued again for the slip; another invitation's
    link is untouched. Issuing and revoking are events (through the outbox)."""
    http, _, invited = lineup
    lost, other = invited[1], invited[2]
    old = (await http.post(f"{P}/invitations/{lost['id']}/link", headers=OFFICER)).json()["token"]
    again = (await http.post(f"{P}/invitations/{lost['id']}/link", headers=OFFICER)).json()["token"]
    assert again == old  # the link in force: the slip shows the same one each time
    kept = (await http.post(f"{P}/invitations/{other['id']}/link", headers=OFFICER)).json()["token"]

    assert (
        await http.post(f"{P}/invitations/{lost['id']}/link/revoke", headers=COMMITTEE)
    ).status_code == 403
    revoked = await http.post(f"{P}/invitations/{lost['id']}/link/revoke", headers=OFFICER)
    assert revoked.status_code == 200, revoked.text
    new = revoked.json()["token"]
    assert new != old and revoked.json()["invitation_id"] == lost["id"]

    for refused in (
        await http.get(f"/public/invitations/{old}"),
        await http.post(f"/public/invitations/{old}/accept"),
        await http.post(f"/public/invitations/{old}/decline", json={"reason": "busy"}),
    ):
        assert refused.status_code == 410, refused.text
        assert refused.json()["detail"]["code"] == "link_revoked"
        assert "ลิงก์นี้ถูกยกเลิกแล้ว" in refused.json()["detail"]["msg"]
    lineup_now = (await http.get(f"{P}/market-days/{lost['market_day_id']}/lineup", headers=OFFICER)).json()
    assert {i["id"]: i["status"] for i in lineup_now["invitations"]}[lost["id"]] == "sent"

    assert (await http.post(f"{P}/invitations/{lost['id']}/link", headers=OFFICER)).json()["token"] == new
    accepted = await http.post(f"/public/invitations/{new}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert (await http.get(f"/public/invitations/{kept}")).status_code == 200

    found = await events(kafka, SCHEDULING_MARKET_DAYS, about("invitation_id", lost["id"]), 5)
    kinds = [e["type"] for e in found if e["type"].startswith("scheduling.invitation.link_")]
    assert kinds == [
        "scheduling.invitation.link_issued",
        "scheduling.invitation.link_revoked",
        "scheduling.invitation.link_issued",
    ]
    assert all(old not in str(e) and new not in str(e) for e in found)  # the token is never in an event


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
        try:
            raise ValueError(f"no route for /public/invitations/{token}/maybe")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        try:
            raise ValueError(f"bad /public/invitations/{token}/accept")
        except ValueError:
            logging.getLogger("shared.failures").exception("request failed")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    logged = "\n".join(caplog.handler.format(record) for record in caplog.records)
    assert "/public/invitations/<token>/accept" in logged and "/public/invitations/<token>/decline" in logged
    assert "/public/invitations/<token>/maybe" in logged  # the traceback is there, redacted
    assert logged.count("Traceback (most recent call last)") == 2
    assert token not in logged and token.rsplit(".", 1)[-1] not in logged
