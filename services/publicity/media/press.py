"""The month's press release for radio and local newspapers: which markets, when, where, how many products
and producers, and where to see more. One wording, given as plain text (to read on air, to paste) and as
a Word document (python-docx, set in TH SarabunPSK as the department's documents are)."""

import io
from dataclasses import dataclass

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from services.publicity.media import thai
from services.publicity.media.inputs import MonthDay, MonthProgramme

FONT = "TH SarabunPSK"
TEXT_PT, TITLE_PT = 16, 20


@dataclass(frozen=True)
class Release:
    kicker: str
    title: str
    lead: str
    days: tuple[str, ...]
    closing: tuple[str, ...]


def _day(number: int, entry: MonthDay) -> str:
    day = entry.market_day
    return (
        f"{number}. {thai.long_date(day.day)} {thai.hours(day.starts, day.ends)} "
        f"ณ {day.venue_name} {day.address} "
        f"สินค้า {entry.products} รายการ จากผู้ผลิต {entry.producers} ราย"
    )


def release(month: MonthProgramme) -> Release:
    province = thai.province_title(month.province.name_th)
    when = f"เดือน{thai.month_year(month.year, month.month)}"
    days = tuple(_day(number, entry) for number, entry in enumerate(month.days, 1))
    invitation = (
        f"{province} ขอเชิญชวนประชาชนและนักท่องเที่ยวเลือกซื้อสินค้า OTOP คุณภาพจากผู้ผลิตในชุมชน "
        "ในโครงการ OTOP เคลื่อนที่ (OTOP Mobile) ซึ่งนำสินค้าไปจำหน่ายที่ตลาดประชารัฐและแหล่งท่องเที่ยว"
    )
    lead = (
        f"{invitation} {when} จำนวน {len(days)} ครั้ง ดังนี้"
        if days
        else f"{invitation} {when} ยังไม่มีกำหนดวันตลาด โปรดติดตามกำหนดการได้ทางเว็บไซต์"
    )
    closing = [f"ดูรายการสินค้า แผนที่ และวันตลาดทั้งหมดได้ที่ {month.page_url}"]
    if month.contact:
        closing.append(f"สอบถามรายละเอียดเพิ่มเติม: {month.contact}")
    return Release(
        kicker="ข่าวประชาสัมพันธ์",
        title=f"ตลาดสินค้า OTOP เคลื่อนที่ (OTOP Mobile) {province} {when}",
        lead=lead,
        days=days,
        closing=tuple(closing),
    )


def press_release_text(month: MonthProgramme) -> str:
    """Plain UTF-8 text, paragraphs separated by a blank line."""
    found = release(month)
    return "\n\n".join([found.kicker, found.title, found.lead, "\n".join(found.days), *found.closing]) + "\n"


def _thai_style(style, points: int) -> None:
    """Thai is a complex script to Word: its font is the w:cs one and its size w:szCs."""
    style.font.name = FONT
    style.font.size = Pt(points)
    r_pr = style.element.get_or_add_rPr()
    fonts = r_pr.get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)  # a theme font would win over the one named here
    fonts.set(qn("w:cs"), FONT)
    for tag, values in (
        ("w:szCs", {"w:val": str(points * 2)}),
        ("w:lang", {"w:val": "th-TH", "w:bidi": "th-TH"}),
    ):
        element = r_pr.find(qn(tag))
        if element is None:
            element = OxmlElement(tag)
            r_pr.append(element)
        for name, value in values.items():
            element.set(qn(name), value)


def press_release_docx(month: MonthProgramme) -> bytes:
    found = release(month)
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2)
    _thai_style(document.styles["Normal"], TEXT_PT)
    _thai_style(document.styles["Title"], TITLE_PT)
    document.core_properties.title = found.title
    document.core_properties.language = "th-TH"
    document.add_paragraph(found.kicker).runs[0].bold = True
    document.add_paragraph(found.title, style="Title")
    document.add_paragraph(found.lead)
    for day in found.days:
        document.add_paragraph(day).paragraph_format.left_indent = Cm(1)
    for line in found.closing:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
