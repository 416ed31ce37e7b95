"""The share image of a market day (Open Graph / LINE / Facebook preview): a 1200 × 630 PNG with the
province, the date in the Buddhist Era, the venue, a few product photos and the OTOP Mobile mark.
Pillow lays out Thai through libraqm, which places vowels and tone marks (Debian's libraqm0)."""

import io
import unicodedata
from collections.abc import Sequence
from functools import cache
from urllib.parse import urlsplit

from PIL import Image, ImageDraw, ImageFont, features

from services.publicity.media import brand, photos, thai
from services.publicity.media.fonts import Face, font_path
from services.publicity.media.inputs import DayAnnouncement, LineupItem

WIDTH, HEIGHT = 1200, 630
MARGIN = 56
TEXT_WIDTH = 560
PHOTO = 236  # each of the 2 × 2 photos, in pixels
GAP = 16
BAND = 88  # the green band along the bottom


class ThaiShapingMissing(RuntimeError):
    pass


@cache
def _font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    if not features.check("raqm"):
        raise ThaiShapingMissing("Pillow has no libraqm: install Debian's libraqm0 (scripts/setup.sh does)")
    return ImageFont.truetype(str(font_path(face)), size, layout_engine=ImageFont.Layout.RAQM)


def _wrapped(text: str, face: Face, size: int, width: int, max_lines: int) -> list[str] | None:
    """`text` broken at spaces into lines of at most `width` pixels, or None if it needs more lines.
    (Thai writes no spaces between words; a phrase breaks only where its author left a space.)"""
    font = _font(face, size)
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    if len(lines) > max_lines or any(font.getlength(line) > width for line in lines):
        return None
    return lines


def _shortened(text: str) -> str:
    """`text` less its last character, and less the marks that went with it (a Thai vowel or tone mark
    never stands alone)."""
    text = text[:-1]
    while text and unicodedata.category(text[-1]) == "Mn":
        text = text[:-1]
    return text.rstrip()


def _fit(text: str, face: Face, sizes: Sequence[int], width: int, max_lines: int) -> tuple[int, list[str]]:
    """The largest of `sizes` (largest first) at which `text` fits; at the smallest, the text cut short
    with '…'."""
    for size in sizes:
        if lines := _wrapped(text, face, size, width, max_lines):
            return size, lines
    while text:
        text = _shortened(text)
        if lines := _wrapped(text + "…", face, sizes[-1], width, max_lines):
            return sizes[-1], lines
    return sizes[-1], []


def _text_block(
    draw: ImageDraw.ImageDraw, y: int, text: str, face: Face, sizes: Sequence[int], max_lines: int, fill: str
) -> int:
    size, lines = _fit(text, face, sizes, TEXT_WIDTH, max_lines)
    font = _font(face, size)
    for line in lines:
        draw.text((MARGIN, y), line, font=font, fill=fill)
        y += round(size * 1.25)
    return y


def _photo_grid(canvas: Image.Image, lineup: tuple[LineupItem, ...]) -> None:
    pictures = [image for item in lineup if (image := photos.decoded(item.photo_jpeg))][:4]
    left = WIDTH - MARGIN - 2 * PHOTO - GAP
    top = (HEIGHT - BAND - 2 * PHOTO - GAP) // 2
    mask = Image.new("L", (PHOTO, PHOTO), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, PHOTO - 1, PHOTO - 1), radius=18, fill=255)
    draw = ImageDraw.Draw(canvas)
    for index in range(4):
        x = left + (index % 2) * (PHOTO + GAP)
        y = top + (index // 2) * (PHOTO + GAP)
        if index < len(pictures):
            canvas.paste(photos.cover(pictures[index], PHOTO, PHOTO), (x, y), mask)
        else:  # no photo: a tile in the brand's colours
            draw.rounded_rectangle((x, y, x + PHOTO - 1, y + PHOTO - 1), radius=18, fill="#f3e6c4")
            font = _font(Face.HEADLINE, 44)
            draw.text((x + PHOTO // 2, y + PHOTO // 2), "OTOP", font=font, fill=brand.GOLD, anchor="mm")


def _mark(draw: ImageDraw.ImageDraw, x: int, y: int, size: int) -> None:
    """The OTOP Mobile word mark: "OTOP" in white, "Mobile" in gold, on the green band."""
    otop, mobile = brand.MARK
    font = _font(Face.HEADLINE, size)
    draw.text((x, y), otop, font=font, fill="white", anchor="lm")
    draw.text((x + font.getlength(otop + " "), y), mobile, font=font, fill=brand.GOLD, anchor="lm")


def share_image(announcement: DayAnnouncement) -> bytes:
    """1200 × 630 PNG."""
    day = announcement.market_day
    canvas = Image.new("RGB", (WIDTH, HEIGHT), brand.CREAM)
    draw = ImageDraw.Draw(canvas)

    y = 44
    y = _text_block(draw, y, brand.TAGLINE, Face.TEXT_BOLD, (34,), 1, brand.GREEN)
    y = _text_block(
        draw,
        y,
        thai.province_title(announcement.province.name_th),
        Face.HEADLINE,
        range(64, 39, -4),
        1,
        brand.GREEN,
    )
    y += 8
    y = _text_block(draw, y, thai.long_date(day.day), Face.TEXT_BOLD, range(48, 35, -2), 1, brand.INK)
    y = _text_block(draw, y, thai.hours(day.starts, day.ends), Face.TEXT, (40,), 1, brand.INK)
    y += 10
    y = _text_block(draw, y, day.venue_name, Face.TEXT_BOLD, range(44, 31, -2), 2, brand.GREEN)
    _text_block(draw, y, day.address, Face.TEXT, range(32, 25, -2), 2, brand.INK)

    _photo_grid(canvas, announcement.lineup)

    draw.rectangle((0, HEIGHT - BAND, WIDTH, HEIGHT), fill=brand.GREEN)
    _mark(draw, MARGIN, HEIGHT - BAND // 2, 46)
    draw.text(
        (WIDTH - MARGIN, HEIGHT - BAND // 2),
        urlsplit(announcement.page_url).netloc,
        font=_font(Face.TEXT, 30),
        fill="white",
        anchor="rm",
    )
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()
