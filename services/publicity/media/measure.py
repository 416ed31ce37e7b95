"""Text measured in the fonts the PDFs embed (Pillow with libraqm shapes as HarfBuzz does in WeasyPrint),
to choose the size at which a name of any length fills its space."""

from functools import cache

from PIL import ImageFont

from services.publicity.media.fonts import Face, font_path

_REFERENCE_SIZE = 100


@cache
def _font(face: Face) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(face)), _REFERENCE_SIZE, layout_engine=ImageFont.Layout.RAQM)


def width_in_ems(text: str, face: Face) -> float:
    """The advance width of `text` on one line, in ems of the font size."""
    return _font(face).getlength(text) / _REFERENCE_SIZE


def fitting_size(text: str, face: Face, width: float, largest: float) -> float:
    """The font size (in the unit of `width`) at which `text` fills `width` on one line, at most `largest`."""
    return min(largest, width / max(width_in_ems(text, face), 0.01))
