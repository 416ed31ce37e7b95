"""The report as a PDF: the outline of `layout` as HTML, laid out by WeasyPrint (Pango and HarfBuzz shape
Thai and break its lines between words) in an embedded Thai font, Arundina Sans (Debian's fonts-arundina,
installed by scripts/setup.sh)."""

import base64
import html
import re
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

from services.monitoring.report.charts import Chart, chart_png
from services.monitoring.report.layout import Bullets, Document, Heading, Paragraph
from services.monitoring.report.tables import Cell, Table, cell_text
from shared.errors import ServiceError

FONT_DIR = Path("/usr/share/fonts/truetype/arundina")
FONT_FILES = {"normal": "ArundinaSans.ttf", "bold": "ArundinaSans-Bold.ttf"}
# SARA AM (ำ) is drawn as NIKHAHIT + SARA AA, with the nikhahit before a tone mark. Written so, each glyph
# keeps its own character in the PDF's text map, and copied or extracted text reads right (NFKC-equal).
SARA_AM = re.compile("([\u0e48-\u0e4b]?)\u0e33")
STYLE = """
@page { size: A4; margin: 2cm; @bottom-center { content: counter(page); font: 10pt ThaiReport; } }
body { font-family: ThaiReport; font-size: 12pt; line-height: 1.5; }
h1 { font-size: 18pt; text-align: center; margin: 0; }
h2 { font-size: 14pt; margin: 0.8em 0 0.3em; }
h3 { font-size: 12pt; margin: 0.6em 0 0.2em; }
p { margin: 0.2em 0; }
ul { margin: 0.2em 0; padding-left: 1.5em; }
table { border-collapse: collapse; width: 100%; margin: 0.3em 0 0.8em; font-size: 10pt; line-height: 1.3; }
th, td { border: 0.5pt solid #000; padding: 2pt 4pt; vertical-align: top; }
th { background: #e8e8e8; }
td.number { text-align: right; white-space: nowrap; }
td.date { white-space: nowrap; }
img.chart { width: 100%; margin: 0.3em 0 0.8em; }
"""


# The API renders off the event loop, in threads; WeasyPrint does not promise thread safety.
_one_at_a_time = threading.Lock()


class ThaiFontMissing(ServiceError):
    """The machine lacks the Thai font a PDF (or a chart) is drawn with: the file cannot be made (503)."""

    status_code = 503


def font_files() -> dict[str, Path]:
    found = {weight: FONT_DIR / name for weight, name in FONT_FILES.items()}
    missing = [str(path) for path in found.values() if not path.is_file()]
    if missing:
        raise ThaiFontMissing(
            f"the Thai PDF font is missing ({', '.join(missing)}): install Debian's fonts-arundina "
            "(bash scripts/setup.sh does)"
        )
    return found


def _text(text: str) -> str:
    return html.escape(SARA_AM.sub("\u0e4d\\1\u0e32", text))


def _cell(value: Cell, thai_digits: bool) -> str:
    kind = "number" if isinstance(value, int | Decimal) else "date" if isinstance(value, date) else "text"
    return f'<td class="{kind}">{_text(cell_text(value, thai_digits))}</td>'


def _table(table: Table, thai_digits: bool) -> str:
    head = "".join(f"<th>{_text(header)}</th>" for header in table.headers)
    rows = "".join(f"<tr>{''.join(_cell(value, thai_digits) for value in row)}</tr>" for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def to_html(doc: Document) -> str:
    faces = "".join(
        f"@font-face {{ font-family: ThaiReport; font-weight: {weight}; src: url({path.as_uri()}); }}"
        for weight, path in font_files().items()
    )
    parts = []
    for block in doc.blocks:
        match block:
            case Heading(level, text):
                parts.append(f"<h{level}>{_text(text)}</h{level}>")
            case Paragraph(text):
                parts.append(f"<p>{_text(text)}</p>")
            case Bullets(items):
                parts.append("<ul>" + "".join(f"<li>{_text(item)}</li>" for item in items) + "</ul>")
            case Table():
                parts.append(_table(block, doc.thai_digits))
            case Chart():
                png = base64.b64encode(chart_png(block, doc.thai_digits)).decode()
                parts.append(
                    f'<img class="chart" alt="{_text(block.title)}" src="data:image/png;base64,{png}">'
                )
    return (
        f'<!DOCTYPE html><html lang="th"><head><meta charset="utf-8"><title>{_text(doc.title)}</title>'
        f"<style>{faces}{STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )


def to_pdf(doc: Document) -> bytes:
    from weasyprint import HTML  # loads Pango: only when a PDF is asked for

    page = to_html(doc)
    with _one_at_a_time:
        return HTML(string=page).write_pdf()
