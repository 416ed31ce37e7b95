"""HTML to PDF with WeasyPrint, which shapes Thai through Pango and HarfBuzz and embeds the TLWG fonts
(subset) as real text; inline SVG stays vector."""

import html
import re
import threading

from services.publicity.media.fonts import Face, font_path

# SARA AM (ำ) written as NIKHAHIT + SARA AA (the nikhahit before a tone mark): each glyph keeps its own
# character in the PDF's text map, so copied or extracted text reads right (NFKC-equal).
SARA_AM = re.compile("([\u0e48-\u0e4b]?)\u0e33")
# The renderers run in threads off the event loop; WeasyPrint does not promise thread safety.
_one_at_a_time = threading.Lock()


def text(value: str) -> str:
    """Text for the HTML: escaped, SARA AM split."""
    return html.escape(SARA_AM.sub("\u0e4d\\1\u0e32", value))


def font_faces() -> str:
    """@font-face rules: `Text` (regular and bold) and `Headline`."""
    faces = [
        ("Text", "normal", Face.TEXT),
        ("Text", "bold", Face.TEXT_BOLD),
        ("Headline", "bold", Face.HEADLINE),
        ("Headline", "normal", Face.HEADLINE),
    ]
    return "".join(
        f"@font-face {{ font-family: {family}; font-weight: {weight}; "
        f"src: url({font_path(face).as_uri()}); }}"
        for family, weight, face in faces
    )


def render(body: str, style: str, title: str) -> bytes:
    from weasyprint import HTML  # loads Pango: only when a PDF is asked for

    page = (
        f'<!DOCTYPE html><html lang="th"><head><meta charset="utf-8"><title>{text(title)}</title>'
        f"<style>{font_faces()}{style}</style></head><body>{body}</body></html>"
    )
    with _one_at_a_time:
        return HTML(string=page).write_pdf()
