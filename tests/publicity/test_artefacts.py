"""The artefacts the public pages link, served from the read models against real Kafka and PostgreSQL: the
share images (the one a day page's og:image names), the flag's and the poster's QR codes, the month's press
release, the lineup's photos fetched from the registry's photo route (and a missing one left out)."""

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from uuid import uuid4

import docx
import pytest
from PIL import Image

from services.publicity.main import spec
from shared.contracts.registry import ProducerRegistered, ProductRegistered
from shared.contracts.scheduling import (
    InvitationAccepted,
    InvitationSent,
    MarketDayScheduled,
    VenueRegistered,
)
from shared.thailand import thai_today
from tests.conftest import eventually, running_service
from tests.publicity.support import Crawled, publish, skip_earlier_events
from tests.publicity_media.samples import photo
from tests.publicity_media.test_media import _pdf_page, _qr_codes

pytestmark = pytest.mark.integration

YEAR = thai_today().year + 1  # a month of market days ahead, whatever today is
FIRST, SECOND = date(YEAR, 6, 13), date(YEAR, 6, 27)
PUBLIC = "https://otop.example.go.th"
MAKER = ProducerRegistered(
    producer_id=uuid4(),
    revision=1,
    name="กลุ่มทอผ้าบ้านดอน",
    producer_type="community_group",
    amphoe_code="7201",
    experienced=True,
)
SILK, HONEY = (
    ProductRegistered(
        product_id=uuid4(),
        producer_id=MAKER.producer_id,
        name=name,
        category=category,
        star_level=3,
        quadrant="D",
        nawatwithi=False,
        price_thb=Decimal(price),
        unit=unit,
        photo_id=uuid4(),
    )
    for name, category, price, unit in (
        ("ผ้าไหมทอมือลายดอกพิกุล", "textile", "1850", "ผืน"),
        ("น้ำผึ้งดอกลำไย", "food", "150", "ขวด"),
    )
)
VENUE = VenueRegistered(
    venue_id=uuid4(),
    name="ตลาดประชารัฐ คนไทยยิ้มได้ สุพรรณบุรี",
    kind="pracharat_market",
    amphoe_code="7201",
    tambon_code="720101",
    address="หน้าศาลากลางจังหวัด",
)
DAY, LATER = uuid4(), uuid4()


def scheduled(market_day_id, when):
    return MarketDayScheduled(
        market_day_id=market_day_id,
        revision=1,
        venue_id=VENUE.venue_id,
        venue_name=VENUE.name,
        venue_kind=VENUE.kind,
        day=when,
        starts_at="08:00",
        ends_at="16:00",
        status="scheduled",
    )


@contextmanager
def registry_photos(served: dict[str, bytes]) -> Iterator[tuple[str, list[str]]]:
    """The registry's public photo route, as far as the artefacts use it: its base URL and the paths asked."""
    asked: list[str] = []

    class Photos(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            asked.append(self.path)
            body = served.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Photos)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


async def test_the_artefacts_the_pages_link(kafka, database_url, monkeypatch):
    await skip_earlier_events(kafka)
    await publish(
        kafka,
        MAKER,
        SILK,
        HONEY,
        VENUE,
        scheduled(DAY, FIRST),
        scheduled(LATER, SECOND),
        *(
            cls(invitation_id=invitation, market_day_id=DAY, product_id=product.product_id)
            for product, invitation in ((SILK, uuid4()), (HONEY, uuid4()))
            for cls in (InvitationSent, InvitationAccepted)
        ),
    )
    silk_path = f"/photos/{SILK.photo_id}/card.jpg"
    with registry_photos({silk_path: photo("#8e44ad", "silk")}) as (photos_url, asked):
        monkeypatch.setenv("OTOP_PUBLIC_URL", PUBLIC)
        monkeypatch.setenv("OTOP_PUBLICITY_PHOTOS_URL", photos_url)
        async with running_service(spec, database_url, kafka) as http:

            async def all_in() -> bool:
                day = await http.get(f"/p/72/days/{DAY}")
                later = await http.get(f"/p/72/days/{LATER}")
                return later.status_code == 200 and day.status_code == 200 and HONEY.name in day.text

            await eventually(all_in, timeout=60)

            # the day page's share preview answers, 1200 × 630, with the lineup's photos asked for
            image = Crawled((await http.get(f"/p/72/days/{DAY}")).text).meta["og:image"]
            assert image == f"{PUBLIC}/p/72/days/{DAY}/share.png"
            answer = await http.get(urlsplit(image).path)
            assert answer.status_code == 200, answer.text[:300]
            assert answer.headers["content-type"] == "image/png"
            assert answer.headers["cache-control"] == "public, max-age=300"
            assert Image.open(io.BytesIO(answer.content)).size == (1200, 630)
            assert sorted(asked) == sorted([silk_path, f"/photos/{HONEY.photo_id}/card.jpg"])

            province_image = await http.get("/p/72/share.png")
            assert province_image.status_code == 200
            assert Image.open(io.BytesIO(province_image.content)).size == (1200, 630)

            # the flag's QR code is the province page; the poster's the day's page
            flag = await http.get("/p/72/flag.pdf")
            assert flag.status_code == 200 and flag.headers["content-type"] == "application/pdf"
            assert "attachment" in flag.headers["content-disposition"]
            assert _qr_codes(_pdf_page(flag.content), 0.2) == [f"{PUBLIC}/p/72"]
            poster = await http.get(f"/p/72/days/{DAY}/poster.pdf")
            assert poster.status_code == 200 and poster.headers["content-type"] == "application/pdf"
            assert _qr_codes(_pdf_page(poster.content), 2) == [f"{PUBLIC}/p/72/days/{DAY}"]

            # the month's press release names both days' venue, with the first day's counts
            month = f"{YEAR}-06"
            text = await http.get(f"/p/72/press/{month}.txt")
            assert text.status_code == 200, text.text[:300]
            assert text.headers["content-type"] == "text/plain; charset=utf-8"
            assert f'filename="otop-mobile-72-{month}-press.txt"' in text.headers["content-disposition"]
            assert text.text.count(VENUE.name) >= 2
            assert "สินค้า 2 รายการ จากผู้ผลิต 1 ราย" in text.text
            assert "สินค้า 0 รายการ จากผู้ผลิต 0 ราย" in text.text
            assert f"{PUBLIC}/p/72" in text.text
            word = await http.get(f"/p/72/press/{month}.docx")
            assert word.status_code == 200
            paragraphs = " ".join(p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs)
            assert "สินค้า 2 รายการ จากผู้ผลิต 1 ราย" in paragraphs

            # nothing there: the Thai 404 page; a month not written as one: a 422 saying how
            for path in (
                f"/p/72/days/{uuid4()}/share.png",
                f"/p/72/days/{uuid4()}/poster.pdf",
                "/p/72/days/not-a-day/poster.pdf",
                f"/p/73/days/{DAY}/poster.pdf",
                f"/p/72/press/{YEAR}-07.txt",
                "/p/99/flag.pdf",
            ):
                missing = await http.get(path)
                assert missing.status_code == 404, path
                assert "text/html" in missing.headers["content-type"], path
            malformed = await http.get(f"/p/72/press/{YEAR}-13.txt")
            assert malformed.status_code == 422
            assert "YYYY-MM" in malformed.text


async def test_artefacts_without_the_photo_route(kafka, database_url):
    """Unset, the share image is made without photos rather than failing."""
    await skip_earlier_events(kafka)
    when = thai_today() + timedelta(days=2)
    await publish(kafka, MAKER, SILK, VENUE, scheduled(DAY, when))
    await publish(
        kafka,
        InvitationSent(invitation_id=(invited := uuid4()), market_day_id=DAY, product_id=SILK.product_id),
        InvitationAccepted(invitation_id=invited, market_day_id=DAY, product_id=SILK.product_id),
    )
    async with running_service(spec, database_url, kafka) as http:

        async def in_lineup() -> bool:
            answer = await http.get(f"/p/72/days/{DAY}")
            return answer.status_code == 200 and SILK.name in answer.text

        await eventually(in_lineup, timeout=60)
        answer = await http.get(f"/p/72/days/{DAY}/share.png")
        assert answer.status_code == 200
        assert Image.open(io.BytesIO(answer.content)).size == (1200, 630)
