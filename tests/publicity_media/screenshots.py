"""Writes the PNG renderings of docs/publicity/ from the sample inputs:
`.venv/bin/python -m tests.publicity_media.screenshots`."""

import dataclasses
from pathlib import Path

import pypdfium2

from services.publicity.media import flag_pdf, poster_pdf, share_image
from tests.publicity_media.samples import ANNOUNCEMENT, FULL_LINEUP, PROVINCE_URL, SUPHAN

DOCS = Path(__file__).resolve().parents[2] / "docs" / "publicity"


def _png(pdf: bytes, scale: float, path: Path) -> None:
    pypdfium2.PdfDocument(pdf)[0].render(scale=scale).to_pil().save(path, optimize=True)


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    market = dataclasses.replace(ANNOUNCEMENT, lineup=FULL_LINEUP)
    (DOCS / "share-image.png").write_bytes(share_image(market))
    _png(poster_pdf(market), 1.2, DOCS / "poster.png")
    _png(flag_pdf(SUPHAN, PROVINCE_URL), 0.3, DOCS / "flag.png")


if __name__ == "__main__":
    main()
