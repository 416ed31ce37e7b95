"""The public read models from the registry's and scheduling's events and the pages built on them, against
real Kafka and PostgreSQL: what shows, what never shows (a phone without consent, a cancel reason), what
changes within seconds (a cancellation, consent withdrawn), the preview tags and JSON-LD a crawler reads in
the first response, and the Thai 404 page."""

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import asyncpg
import pytest

from services.publicity.main import spec
from shared.contracts.registry import ProducerRegistered, ProducerUpdated, ProductRegistered, ProductUpdated
from shared.contracts.scheduling import (
    InvitationAccepted,
    InvitationDeclined,
    InvitationSent,
    MarketDayCancelled,
    MarketDayHeld,
    MarketDayRescheduled,
    MarketDayScheduled,
    PlanSet,
    VenueRegistered,
)
from shared.thailand import thai_today
from tests.conftest import eventually, running_service
from tests.publicity.support import Crawled, publish, skip_earlier_events

pytestmark = pytest.mark.integration

TODAY = thai_today()
PHONE_AGREED, PHONE_PRIVATE = "081-234-5678", "089-999-0000"
HOSTILE = '</script><script>alert(1)</script> & <b>"ตลาด"</b>'
CANCEL_REASON = "ผู้ว่าฯ ติดประชุม (internal)"

AGREED = ProducerRegistered(
    producer_id=uuid4(),
    revision=1,
    name="กลุ่มทอผ้าบ้านดอน",
    producer_type="community_group",
    amphoe_code="7201",
    experienced=True,
    contact_name="คุณสมใจ",
    phone=PHONE_AGREED,
    public_contact_consent=True,
)
PRIVATE = ProducerRegistered(
    producer_id=uuid4(),
    revision=1,
    name="กลุ่มแม่บ้านเกษตรกรสามชุก",
    producer_type="community_group",
    amphoe_code="7207",
    experienced=False,
    contact_name="คุณสมศรี ไม่เปิดเผย",
    phone=PHONE_PRIVATE,
)
CLOTH = ProductRegistered(
    product_id=uuid4(),
    producer_id=AGREED.producer_id,
    name="ผ้าซิ่นตีนจก",
    category="textile",
    star_level=3,
    quadrant="D",
    nawatwithi=True,
    price_thb=Decimal("380"),
    unit="ผืน",
    photo_id=uuid4(),
)
RICE = ProductRegistered(
    product_id=uuid4(),
    producer_id=PRIVATE.producer_id,
    name="ข้าวกล้องหอมมะลิ",
    category="food",
    star_level=2,
    quadrant="D",
    nawatwithi=False,
    price_thb=Decimal("45.50"),
    unit="ถุง",
)
VENUE = VenueRegistered(
    venue_id=uuid4(),
    name="ตลาดประชารัฐ คนไทยยิ้มได้ สุพรรณบุรี",
    kind="pracharat_market",
    amphoe_code="7201",
    tambon_code="720101",
    address="หน้าศาลากลางจังหวัด",
    latitude=14.4745,
    longitude=100.1177,
    contact_name="ผู้จัดการตลาด",
    phone="035-000-111",
)
ODD_VENUE = VenueRegistered(venue_id=uuid4(), name=HOSTILE, kind="tourist_spot", amphoe_code="7201")
PLAN = PlanSet(
    plan_id=uuid4(),
    revision=1,
    name="โครงการ OTOP เคลื่อนที่",
    first_month=TODAY.replace(day=1),
    last_month=(TODAY.replace(day=1) + timedelta(days=62)).replace(day=1),
    market_days_per_month=4,
    products_per_market_day=20,
)


def day(cls, venue, when, revision, market_day_id, status="scheduled", **extra):
    return cls(
        market_day_id=market_day_id,
        revision=revision,
        plan_id=PLAN.plan_id,
        venue_id=venue.venue_id,
        venue_name=venue.name,
        venue_kind=venue.kind,
        day=when,
        starts_at="08:00",
        ends_at="16:00",
        status=status,
        **extra,
    )


NEXT, CANCELLED, MOVED, HELD, ODD = (uuid4() for _ in range(5))


async def test_the_public_pages_from_events(kafka, database_url):
    await skip_earlier_events(kafka)
    invitations = {product.product_id: uuid4() for product in (CLOTH, RICE)}
    await publish(
        kafka,
        AGREED,
        PRIVATE,
        CLOTH,
        RICE,
        VENUE,
        ODD_VENUE,
        PLAN,
        day(MarketDayScheduled, VENUE, TODAY + timedelta(days=3), 1, NEXT),
        *(
            cls(invitation_id=invitations[p.product_id], market_day_id=NEXT, product_id=p.product_id, **extra)
            for p in (CLOTH, RICE)
            for cls, extra in ((InvitationSent, {}), (InvitationAccepted, {}))
        ),
        day(MarketDayScheduled, VENUE, TODAY + timedelta(days=10), 1, CANCELLED),
        day(
            MarketDayCancelled,
            VENUE,
            TODAY + timedelta(days=10),
            2,
            CANCELLED,
            status="cancelled",
            cancel_reason=CANCEL_REASON,
        ),
        InvitationSent(invitation_id=uuid4(), market_day_id=CANCELLED, product_id=RICE.product_id),
        InvitationDeclined(
            invitation_id=uuid4(),
            market_day_id=CANCELLED,
            product_id=CLOTH.product_id,
            reason="busy",
            note="ลับ",
        ),
        day(MarketDayScheduled, VENUE, TODAY + timedelta(days=5), 1, MOVED),
        day(MarketDayRescheduled, ODD_VENUE, TODAY + timedelta(days=6), 2, MOVED),
        day(MarketDayHeld, VENUE, TODAY - timedelta(days=4), 2, HELD, status="held"),
        day(MarketDayScheduled, ODD_VENUE, TODAY + timedelta(days=20), 1, ODD),
    )
    async with running_service(spec, database_url, kafka) as http:

        async def page(path: str, status: int = 200, **params) -> Crawled:
            answer = await http.get(path, params=params)
            assert answer.status_code == status, (path, answer.status_code, answer.text[:300])
            return Crawled(answer.text)

        async def lineup_in() -> bool:
            answer = await http.get(f"/p/72/days/{NEXT}")
            return answer.status_code == 200 and CLOTH.name in answer.text and RICE.name in answer.text

        await eventually(lineup_in, timeout=60)

        async def all_days_in() -> bool:
            answer = await http.get("/p/72")
            # and the venues (another topic, another consumer) with their addresses
            return (
                answer.status_code == 200
                and answer.text.count("/p/72/days/") >= 5
                and "หน้าศาลากลางจังหวัด" in answer.text
            )

        await eventually(all_days_in, timeout=60)

        # --- the province page: the next market first, in the Buddhist Era, with its venue and map links
        province = await page("/p/72")
        next_day = TODAY + timedelta(days=3)
        assert f"{next_day.day} " in province.visible and str(next_day.year + 543) in province.visible
        assert "หน้าศาลากลางจังหวัด" in province.visible
        assert "geo:14.474500,100.117700?q=14.474500,100.117700(" in " ".join(province.anchors)
        assert any(
            a.startswith("https://www.google.com/maps/search/?api=1&query=14.474500")
            for a in province.anchors
        )
        assert "/api/scheduling/provinces/72/calendar.ics" in province.anchors
        assert "ยกเลิก" in province.visible and "เลื่อนวัน" in province.visible
        assert province.meta["og:image"] == "http://service/p/72/share.png"
        assert province.meta["og:url"] == "http://service/p/72" == province.canonical
        assert (
            province.meta["description"] and province.meta["og:description"] == province.meta["description"]
        )
        assert any(a.startswith("https://social-plugins.line.me/lineit/share?url=") for a in province.anchors)
        assert any(a.startswith("https://www.facebook.com/sharer/sharer.php?u=") for a in province.anchors)

        # --- a market day: its lineup with what a buyer needs, its Event for search engines
        market = await page(f"/p/72/days/{NEXT}")
        assert market.title.startswith("OTOP เคลื่อนที่")
        assert "380 บาท / ผืน" in market.visible and "45.50 บาท / ถุง" in market.visible
        assert "★★★" in market.visible and "นวัตวิถี" in market.visible
        assert "เมืองสุพรรณบุรี" in market.visible and "สามชุก" in market.visible  # the producers' districts
        assert f"/p/photos/{CLOTH.photo_id}/thumb.jpg" in (await http.get(f"/p/72/days/{NEXT}")).text
        assert f"/p/72/producers/{AGREED.producer_id}" in market.anchors
        assert market.meta["og:image"] == f"http://service/p/72/days/{NEXT}/share.png"
        assert market.meta["twitter:card"] == "summary_large_image"
        assert market.meta["twitter:image"] == market.meta["og:image"]
        assert market.meta["og:title"] == market.title
        assert market.meta["og:url"] == f"http://service/p/72/days/{NEXT}" == market.canonical
        assert VENUE.name in market.meta["description"] and "สินค้าชุมชน 2 รายการ" in market.meta["description"]
        for preview in (market.meta["og:image"], province.meta["og:image"]):  # what a share preview fetches
            image = await http.get(preview)
            assert image.status_code == 200 and image.headers["content-type"] == "image/png", preview
        [event] = market.json_ld
        assert event["@type"] == "Event" and event["eventStatus"] == "https://schema.org/EventScheduled"
        assert event["startDate"] == f"{next_day.isoformat()}T08:00:00+07:00"
        assert event["endDate"] == f"{next_day.isoformat()}T16:00:00+07:00"
        assert event["location"]["@type"] == "Place" and event["location"]["name"] == VENUE.name
        assert event["location"]["address"] == {
            "@type": "PostalAddress",
            "streetAddress": "หน้าศาลากลางจังหวัด",
            "addressLocality": "เมืองสุพรรณบุรี",
            "addressRegion": "สุพรรณบุรี",
            "postalCode": "72000",
            "addressCountry": "TH",
        }
        assert event["location"]["geo"] == {
            "@type": "GeoCoordinates",
            "latitude": 14.4745,
            "longitude": 100.1177,
        }
        assert event["organizer"]["@type"] == "GovernmentOrganization"
        assert event["url"] == f"http://service/p/72/days/{NEXT}"

        # --- a cancelled day says so, with the public label only; no lineup is advertised
        cancelled = await page(f"/p/72/days/{CANCELLED}")
        assert "ยกเลิกการจัดตลาดครั้งนี้" in cancelled.visible
        assert cancelled.json_ld[0]["eventStatus"] == "https://schema.org/EventCancelled"
        assert cancelled.title.startswith("ยกเลิก")
        assert RICE.name not in cancelled.visible

        # --- a rescheduled day says where and when it was before
        moved = await page(f"/p/72/days/{MOVED}")
        [moved_event] = moved.json_ld
        assert moved_event["eventStatus"] == "https://schema.org/EventRescheduled"
        assert moved_event["previousStartDate"] == f"{(TODAY + timedelta(days=5)).isoformat()}T08:00:00+07:00"
        assert "เลื่อนวัน" in moved.visible and VENUE.name in moved.visible

        # --- held: a recent market
        assert "ตลาดครั้งนี้จัดไปแล้ว" in (await page(f"/p/72/days/{HELD}")).visible

        # --- nothing a page builds can be injected: a hostile venue name, a hostile query string
        odd = await http.get(f"/p/72/days/{ODD}", params={"lang": HOSTILE, "q": "<script>alert(2)</script>"})
        assert odd.status_code == 200
        assert "<script>alert" not in odd.text and "alert(2)" not in odd.text
        crawled = Crawled(odd.text)
        assert crawled.scripts == ["application/ld+json"]
        assert crawled.json_ld[0]["location"]["name"] == HOSTILE  # escaped in transit, intact when parsed
        assert HOSTILE in crawled.visible

        # --- English on request, Thai by default; links keep the language
        english = await page(f"/p/72/days/{NEXT}", lang="en")
        assert "380 THB / ผืน" in english.visible and "On sale" in english.visible
        assert f"/p/72/producers/{AGREED.producer_id}?lang=en" in english.anchors
        assert english.meta["og:locale"] == "en_US" and market.meta["og:locale"] == "th_TH"

        # --- producers: the contact shows only where the producer agreed
        agreed = await page(f"/p/72/producers/{AGREED.producer_id}")
        assert PHONE_AGREED in agreed.visible and "คุณสมใจ" in agreed.visible
        assert "tel:081-234-5678" in agreed.anchors
        assert CLOTH.name in agreed.visible and VENUE.name in agreed.visible  # the market they go to
        private = await page(f"/p/72/producers/{PRIVATE.producer_id}")
        assert PRIVATE.name in private.visible and RICE.name in private.visible
        pages = [f"/p/72/producers/{PRIVATE.producer_id}", "/p/", "/p/72", "/p/72/sitemap.xml"]
        pages += [f"/p/72/days/{each}" for each in (NEXT, CANCELLED, MOVED, HELD, ODD)]
        for path in pages:
            for lang in ("th", "en"):
                body = (await http.get(path, params={"lang": lang})).text
                assert PHONE_PRIVATE not in body and "คุณสมศรี" not in body, path
                assert CANCEL_REASON not in body and "035-000-111" not in body and "ผู้จัดการตลาด" not in body
        database = await asyncpg.connect(database_url)
        try:
            stored = await database.fetchrow(
                "SELECT contact_name, phone FROM producers WHERE id = $1", PRIVATE.producer_id
            )
            assert tuple(stored) == (None, None)  # never stored in the public database at all
            columns = {
                r["column_name"]
                for r in await database.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
                )
            }
            assert not columns & {"cancel_reason", "reason", "note", "quadrant", "amount_thb"}
        finally:
            await database.close()

        # --- bad addresses: the Thai 404 page
        for path in (
            "/p/99",
            "/p/xx",
            f"/p/10/days/{NEXT}",  # another province's day
            f"/p/72/days/{uuid4()}",
            "/p/72/days/not-a-uuid",
            f"/p/72/producers/{uuid4()}",
            "/p/72/nothing/here",
        ):
            missing = await page(path, status=404)
            assert "ไม่พบหน้าที่ต้องการ" in missing.title and missing.meta["robots"] == "noindex"

        # --- crawlers: robots.txt and the sitemaps
        robots = (await http.get("/robots.txt")).text
        assert "Sitemap: http://service/p/sitemap.xml" in robots and "Disallow: /api/" in robots
        assert "http://service/p/72/sitemap.xml" in (await http.get("/p/sitemap.xml")).text
        sitemap = (await http.get("/p/72/sitemap.xml")).text
        assert (
            f"http://service/p/72/days/{NEXT}" in sitemap
            and f"/p/72/producers/{AGREED.producer_id}" in sitemap
        )

        # --- changes show within seconds: a cancellation, a price, consent withdrawn; older revisions lose
        await publish(
            kafka,
            day(
                MarketDayCancelled, VENUE, next_day, 2, NEXT, status="cancelled", cancel_reason=CANCEL_REASON
            ),
            ProductUpdated(**{**CLOTH.model_dump(), "revision": 2, "price_thb": Decimal("420")}),
            ProducerUpdated(**{**AGREED.model_dump(), "revision": 2, "public_contact_consent": False}),
            day(MarketDayScheduled, VENUE, next_day, 1, NEXT),  # redelivered late: older, ignored
        )

        async def shows_cancelled() -> bool:
            crawled = Crawled((await http.get(f"/p/72/days/{NEXT}")).text)
            return crawled.json_ld[0]["eventStatus"] == "https://schema.org/EventCancelled"

        await eventually(shows_cancelled, timeout=20)
        assert "ยกเลิกการจัดตลาดครั้งนี้" in (await page(f"/p/72/days/{NEXT}")).visible

        async def consent_gone() -> bool:
            return PHONE_AGREED not in (await http.get(f"/p/72/producers/{AGREED.producer_id}")).text

        await eventually(consent_gone, timeout=20)
        agreed = await page(f"/p/72/producers/{AGREED.producer_id}")
        assert "420 บาท / ผืน" in agreed.visible
        # The next market is no longer the cancelled one.
        province = await page("/p/72")
        assert province.meta["og:description"].startswith("ตลาดครั้งถัดไป")
        assert str((TODAY + timedelta(days=6)).day) in province.meta["og:description"]


async def test_the_index_lists_provinces_with_markets_ahead(kafka, database_url):
    await skip_earlier_events(kafka)
    venue = VenueRegistered(venue_id=uuid4(), name="ถนนคนเดินเชียงคาน", kind="tourist_spot", amphoe_code="4207")
    await publish(kafka, venue, province="42")
    await publish(kafka, day(MarketDayScheduled, venue, TODAY + timedelta(days=2), 1, uuid4()), province="42")
    async with running_service(spec, database_url, kafka) as http:

        async def listed() -> str | None:
            answer = await http.get("/p/")
            return answer.text if "เลย" in answer.text else None

        index = Crawled(await eventually(listed, timeout=60))
        assert "/p/42" in index.anchors
        assert (await http.get("/p/72")).status_code == 404  # no market days there in this database
        head = await http.head("/p/42")
        assert head.status_code == 200 and head.headers["cache-control"] == "public, max-age=10"
