"""The renderers of the public artefacts: what a reader, a printer and a phone's camera get back from
them. PDFs are rasterised (pypdfium2) and their QR codes decoded (zxing-cpp) to the page's URL."""

import dataclasses
import io
import re
import unicodedata
from datetime import date, time

import docx
import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from services.publicity.media import (
    brand,
    flag_pdf,
    poster_pdf,
    press_release_docx,
    press_release_text,
    share,
    share_image,
    thai,
)
from services.publicity.media.inputs import MonthProgramme
from tests.publicity_media.samples import ANNOUNCEMENT, DAY_URL, LINEUP, MONTH, PROVINCE_URL, SUPHAN

MM = 72 / 25.4  # PDF points per millimetre
# near the bottom right corner of the share image's first photo tile, outside the sample photos' white disc
FIRST_TILE_CORNER = (
    share.WIDTH - share.MARGIN - 2 * share.PHOTO - share.GAP + share.PHOTO - 12,
    (share.HEIGHT - share.BAND - 2 * share.PHOTO - share.GAP) // 2 + share.PHOTO - 12,
)


def _pdf_page(data: bytes) -> pypdfium2.PdfPage:
    document = pypdfium2.PdfDocument(data)
    assert len(document) == 1
    return document[0]


def _qr_codes(page: pypdfium2.PdfPage, scale: float) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(page.render(scale=scale).to_pil())]


def _reads(text: str) -> str:
    """`text` in one form whether its SARA AM is one character or split into NIKHAHIT + SARA AA, before
    or after a tone mark (NFKC, then the tone mark first), its lines joined."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", " ").replace("\n", " ")
    return re.sub("\u0e4d([\u0e48-\u0e4b])", "\\1\u0e4d", text)


def _text(page: pypdfium2.PdfPage) -> str:
    """The page's text as a reader copying it gets it."""
    return _reads(page.get_textpage().get_text_bounded())


def _object_types(page: pypdfium2.PdfPage) -> set[int]:
    return {found.type for found in page.get_objects(max_depth=5)}


def _embedded_fonts(data: bytes) -> set[str]:
    fonts = set()
    for font in PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        for descendant in font.get("/DescendantFonts", [font]):
            descriptor = descendant.get_object()["/FontDescriptor"].get_object()
            if "/FontFile2" in descriptor or "/FontFile3" in descriptor:
                fonts.add(str(descriptor["/FontName"]).split("+")[-1])
    return fonts


def test_thai_dates_are_buddhist_era_with_weekday():
    assert thai.long_date(date(2019, 6, 15)) == "วันเสาร์ที่ 15 มิถุนายน 2562"
    assert thai.hours(time(9, 0), time(15, 30)) == "เวลา 09.00–15.30 น."
    assert thai.hours(None, None) == "เวลาแจ้งภายหลัง"  # not set yet: never invented
    assert thai.province_title("สุพรรณบุรี") == "จังหวัดสุพรรณบุรี"
    assert thai.province_title("กรุงเทพมหานคร") == "กรุงเทพมหานคร"


def test_prices_show_satang_only_when_there_are_some():
    assert thai.price(LINEUP[1].price_thb, "ผืน") == "1,850 บาท / ผืน"
    assert thai.price(LINEUP[2].price_thb, "ถุง") == "35.50 บาท / ถุง"


def test_the_flag_is_150_by_50_cm_and_its_qr_code_reads_back_as_the_province_page():
    data = flag_pdf(SUPHAN, PROVINCE_URL)
    page = _pdf_page(data)
    width, height = page.get_size()
    assert width == pytest.approx(500 * MM, abs=0.5)
    assert height == pytest.approx(1500 * MM, abs=0.5)
    # scale 0.2: 1181 px for 150 cm, about 9 px per QR module, as a phone sees it from a few metres
    assert _qr_codes(page, 0.2) == [PROVINCE_URL]


def test_the_flag_is_vector_with_its_thai_text_real_and_its_font_embedded():
    data = flag_pdf(SUPHAN, PROVINCE_URL)
    page = _pdf_page(data)
    assert pdfium_c.FPDF_PAGEOBJ_IMAGE not in _object_types(page)
    assert {pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_TEXT} <= _object_types(page)
    text = _text(page)
    assert _reads("จังหวัดสุพรรณบุรี") in text
    assert "OTOP" in text
    # embedded under their @font-face names: Headline is Garuda Bold, Text-Bold Laksaman Bold
    assert {"Headline", "Text-Bold"} <= _embedded_fonts(data)


def test_a_long_province_name_still_fits_the_flag():
    data = flag_pdf(dataclasses.replace(SUPHAN, name_th="พระนครศรีอยุธยา"), PROVINCE_URL)
    page = _pdf_page(data)
    assert _reads("จังหวัดพระนครศรีอยุธยา") in _text(page)
    assert _qr_codes(page, 0.2) == [PROVINCE_URL]


def test_the_poster_is_one_a4_page_with_the_day_the_lineup_and_a_qr_code_to_the_days_page():
    data = poster_pdf(ANNOUNCEMENT)
    page = _pdf_page(data)
    assert page.get_size() == pytest.approx((210 * MM, 297 * MM), abs=0.5)
    assert _qr_codes(page, 2) == [DAY_URL]
    text = _text(page)
    for expected in (
        "จังหวัดสุพรรณบุรี",
        "วันเสาร์ที่ 15 มิถุนายน 2562",
        "09.00–15.00 น.",
        "ตลาดประชารัฐ คนไทยยิ้มได้",
        "น้ำพริกเผากุ้งแม่น้ำ",
        "1,850 บาท / ผืน",
        "อ.ศรีประจันต์",
    ):
        assert _reads(expected) in text
    # the photos are the only images; the QR code is a path
    assert len([found for found in page.get_objects() if found.type == pdfium_c.FPDF_PAGEOBJ_IMAGE]) == 4


def test_a_long_lineup_stays_on_one_page_and_says_how_many_more():
    data = poster_pdf(dataclasses.replace(ANNOUNCEMENT, lineup=LINEUP * 4))
    page = _pdf_page(data)
    assert _reads("และสินค้าอีก 8 รายการ") in _text(page)
    assert _qr_codes(page, 2) == [DAY_URL]


def test_the_share_image_is_1200_by_630_with_the_product_photos():
    image = Image.open(io.BytesIO(share_image(ANNOUNCEMENT)))
    assert image.format == "PNG"
    assert image.size == (1200, 630)
    # the first photo (red, a white disc in the middle) fills the top left tile of the 2 × 2 grid
    red = image.convert("RGB").getpixel(FIRST_TILE_CORNER)
    assert red == pytest.approx((0xC0, 0x39, 0x2B), abs=12)


LONG_VENUE = dataclasses.replace(
    ANNOUNCEMENT.market_day,
    venue_name="ตลาดน้ำสามชุกร้อยปีตลาดเก่าริมแม่น้ำท่าจีนเมืองสุพรรณบุรีบ้านเรือนไม้โบราณสองฝั่งคลอง" * 2,
    address="หมู่ที่ 1 ตำบลสามชุก อำเภอสามชุก จังหวัดสุพรรณบุรี 72130 " * 4,
)


def test_a_venue_too_long_for_the_share_image_is_cut_short_not_drawn_over_the_photos():
    image = Image.open(io.BytesIO(share_image(dataclasses.replace(ANNOUNCEMENT, market_day=LONG_VENUE))))
    gap = range(share.MARGIN + share.TEXT_WIDTH + 1, share.WIDTH - share.MARGIN - 2 * share.PHOTO - share.GAP)
    background = {
        image.convert("RGB").getpixel((x, y)) for x in gap for y in range(share.HEIGHT - share.BAND)
    }
    assert background == {Image.new("RGB", (1, 1), brand.CREAM).getpixel((0, 0))}


def test_a_venue_too_long_for_the_poster_keeps_it_one_page():
    page = _pdf_page(poster_pdf(dataclasses.replace(ANNOUNCEMENT, market_day=LONG_VENUE, lineup=LINEUP * 4)))
    assert _qr_codes(page, 2) == [DAY_URL]
    assert _reads("และสินค้าอีก 8 รายการ") in _text(page)


def test_the_share_image_leaves_out_a_photo_that_does_not_decode():
    broken = dataclasses.replace(LINEUP[0], photo_jpeg=b"\xff\xd8 not really a JPEG")
    image = Image.open(io.BytesIO(share_image(dataclasses.replace(ANNOUNCEMENT, lineup=(broken,)))))
    assert image.size == (1200, 630)
    tile = image.convert("RGB").getpixel(FIRST_TILE_CORNER)
    assert tile == (0xF3, 0xE6, 0xC4)  # the empty tile's colour, not red


def test_the_press_release_names_every_market_with_its_venue_and_counts():
    text = press_release_text(MONTH)
    assert "ตลาดสินค้า OTOP เคลื่อนที่ (OTOP Mobile) จังหวัดสุพรรณบุรี เดือนมิถุนายน 2562" in text
    assert "จำนวน 2 ครั้ง" in text
    assert (
        "1. วันเสาร์ที่ 15 มิถุนายน 2562 เวลา 09.00–15.00 น. ณ ตลาดประชารัฐ คนไทยยิ้มได้ "
        "หน้าศาลากลางจังหวัดสุพรรณบุรี ถนนสุพรรณบุรี-ชัยนาท ตำบลสนามชัย อำเภอเมืองสุพรรณบุรี "
        "สินค้า 20 รายการ จากผู้ผลิต 14 ราย"
    ) in text
    assert "2. วันเสาร์ที่ 22 มิถุนายน 2562 เวลา 16.00–21.00 น. ณ ตลาดน้ำสามชุก" in text
    assert "สินค้า 18 รายการ จากผู้ผลิต 12 ราย" in text
    assert PROVINCE_URL in text
    assert "โทร. 0 3553 5042" in text


def test_a_month_without_markets_says_so():
    text = press_release_text(MonthProgramme(SUPHAN, PROVINCE_URL, 2019, 7, ()))
    assert "เดือนกรกฎาคม 2562 ยังไม่มีกำหนดวันตลาด" in text
    assert "1." not in text


def test_the_press_release_docx_says_the_same_in_thai_set_fonts():
    document = docx.Document(io.BytesIO(press_release_docx(MONTH)))
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    assert paragraphs == [line for line in press_release_text(MONTH).splitlines() if line]
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}cs") == "TH SarabunPSK"
