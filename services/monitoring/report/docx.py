"""The report as a Word document (python-docx): the outline of `layout` with Word's own title, heading,
list and table styles, set in TH SarabunPSK (the Thai government's document font) where the reader has it."""

import io
from decimal import Decimal

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.font import CT_RPr
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.text.font import Font

from services.monitoring.report.charts import Chart, chart_png
from services.monitoring.report.layout import Bullets, Document, Heading, Paragraph
from services.monitoring.report.pdf import ThaiFontMissing
from services.monitoring.report.tables import Table, cell_text

FONT = "TH SarabunPSK"
STYLE_SIZES = {"Normal": 16, "Title": 22, "Heading 1": 18, "Heading 2": 16, "List Bullet": 16}
HEADING_STYLES = {1: "Title", 2: "Heading 1", 3: "Heading 2"}
TABLE_FONT_SIZE = 14
# The end of a run's properties in the schema's order (CT_RPr), for the ones python-docx does not set.
RUN_PROPERTIES_TAIL = (
    "w:szCs",
    "w:highlight",
    "w:u",
    "w:effect",
    "w:bdr",
    "w:shd",
    "w:fitText",
    "w:vertAlign",
    "w:rtl",
    "w:cs",
    "w:em",
    "w:lang",
    "w:eastAsianLayout",
    "w:specVanish",
    "w:oMath",
)


def _property(r_pr: CT_RPr, tag: str, **values: str) -> None:
    """Sets a run property python-docx has no API for, in the order the schema wants."""
    found = r_pr.find(qn(tag))
    if found is None:
        found = OxmlElement(tag)
        r_pr.insert_element_before(found, *RUN_PROPERTIES_TAIL[RUN_PROPERTIES_TAIL.index(tag) + 1 :])
    for name, value in values.items():
        found.set(qn(f"w:{name}"), value)


def _size(font: Font, r_pr: CT_RPr, points: int) -> None:
    """Thai is a complex script to Word, sized by w:szCs (and set in the w:cs font)."""
    font.size = Pt(points)
    _property(r_pr, "w:szCs", val=str(points * 2))


def _set_font(style, points: int) -> None:
    style.font.name = FONT
    if style.name != "Normal":
        style.font.color.rgb = RGBColor(0, 0, 0)
    r_pr = style.element.get_or_add_rPr()
    fonts = r_pr.get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)  # a theme font would win over the one named here
    fonts.set(qn("w:cs"), FONT)
    _size(style.font, r_pr, points)
    _property(r_pr, "w:lang", val="th-TH", bidi="th-TH")


def _table(document, table: Table, thai_digits: bool) -> None:
    grid = document.add_table(rows=1, cols=len(table.headers), style="Table Grid")
    for cell, header in zip(grid.rows[0].cells, table.headers, strict=True):
        cell.text = header
        cell.paragraphs[0].runs[0].bold = True
    for row in table.rows:
        for cell, value in zip(grid.add_row().cells, row, strict=True):
            cell.text = cell_text(value, thai_digits)
            if isinstance(value, int | Decimal):
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in grid.rows:
        for cell in row.cells:
            for run in cell.paragraphs[0].runs:
                _size(run.font, run._r.get_or_add_rPr(), TABLE_FONT_SIZE)
    document.add_paragraph()


def _chart(document, chart: Chart, thai_digits: bool) -> None:
    """The chart as a picture; without the Thai font to draw it, its title (the DOCX is still made)."""
    try:
        document.add_picture(io.BytesIO(chart_png(chart, thai_digits)), width=Cm(17))
    except ThaiFontMissing:
        document.add_paragraph(f"แผนภูมิ: {chart.title} (ไม่มีแบบอักษรไทยสำหรับวาดแผนภูมิบนเครื่องแม่ข่าย)")


def to_docx(doc: Document) -> bytes:
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Cm(2)
    for name, size in STYLE_SIZES.items():
        _set_font(document.styles[name], size)
    document.core_properties.title = doc.title
    document.core_properties.language = "th-TH"
    for block in doc.blocks:
        match block:
            case Heading(level, text):
                document.add_paragraph(text, style=HEADING_STYLES[level])
            case Paragraph(text):
                document.add_paragraph(text)
            case Bullets(items):
                for item in items:
                    document.add_paragraph(item, style="List Bullet")
            case Table():
                _table(document, block, doc.thai_digits)
            case Chart():
                _chart(document, block, doc.thai_digits)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
