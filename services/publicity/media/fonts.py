"""The Thai fonts the renderers embed, from Debian's fonts-thai-tlwg (installed by scripts/setup.sh):
Laksaman (TLWG's libre TH Sarabun, the Thai government's document face) for text, Garuda Bold for
headlines. Pillow shapes Thai with libraqm (Debian's libraqm0); WeasyPrint with Pango and HarfBuzz."""

from enum import StrEnum
from pathlib import Path

TLWG = Path("/usr/share/fonts/truetype/tlwg")


class Face(StrEnum):
    TEXT = "Laksaman.ttf"
    TEXT_BOLD = "Laksaman-Bold.ttf"
    HEADLINE = "Garuda-Bold.ttf"


class ThaiFontMissing(RuntimeError):
    pass


def font_path(face: Face) -> Path:
    path = TLWG / face.value
    if not path.is_file():
        raise ThaiFontMissing(f"the Thai font {path} is missing: install Debian's fonts-thai-tlwg")
    return path
