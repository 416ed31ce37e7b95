"""The printed and shared artefacts of the public pages, as pure renderers (no I/O but the fonts):
the share image of a market day (PNG), its A4 poster (PDF), the province's 50 × 150 cm flag (PDF) and
the month's press release (plain text and DOCX). Inputs are the frozen values of `inputs`."""

from services.publicity.media.flag import flag_pdf
from services.publicity.media.poster import poster_pdf
from services.publicity.media.press import press_release_docx, press_release_text
from services.publicity.media.share import share_image

__all__ = ["flag_pdf", "poster_pdf", "press_release_docx", "press_release_text", "share_image"]
