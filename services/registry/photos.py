"""Product photos, read and re-encoded: an adapter, like spreadsheets.py. An upload (JPEG, PNG or WebP,
from a phone's camera too) is decoded once, turned upright by its EXIF orientation and written again as
baseline JPEGs at each size, from pixels only: EXIF (GPS included), XMP, ICC and comments are not copied.
Hostile files are refused with a clear 4xx before they cost much: not an image (415), more pixels than
MAX_PIXELS or a decompression bomb (Pillow's DecompressionBombError), a truncated or damaged file (422).
A body over MAX_UPLOAD_BYTES never gets here (413, shared/service.py's BodyLimit)."""

import io
import warnings
from enum import StrEnum

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from shared.errors import Refused

MAX_UPLOAD_BYTES = 10_000_000  # a phone camera's JPEG is 2-8 MB; the gateway takes bodies up to 10 MiB
MAX_PIXELS = 50_000_000  # 48-50 MP phone cameras; decoded once at most, then resized
FORMATS = ("JPEG", "PNG", "WEBP")
CONTENT_TYPE = "image/jpeg"
QUALITY = 82


class Size(StrEnum):
    THUMB = "thumb"
    CARD = "card"
    FULL = "full"


LONGEST_SIDE = {Size.THUMB: 320, Size.CARD: 640, Size.FULL: 1280}


def _decoded(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise Refused(
                    "image_too_large",
                    f"the image is {image.width} x {image.height} pixels; at most {MAX_PIXELS:,} pixels",
                )
            if getattr(image, "n_frames", 1) > 1:
                raise Refused("animated_image", "an animated image is not a product photo")
            if image.format == "JPEG":  # decode at the scale needed (JPEG's DCT scaling): less memory
                image.draft("RGB", (2 * LONGEST_SIDE[Size.FULL],) * 2)
            # WeasyPrint, once imported in the same process (the test suite imports every service), turns on
            # Pillow's process-wide LOAD_TRUNCATED_IMAGES; a product photo is never accepted truncated.
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            image.load()
            return _upright_rgb(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Refused("decompression_bomb", f"the image decompresses to too many pixels: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise Refused("not_an_image", "not a JPEG, PNG or WebP image", status_code=415) from exc
    except (OSError, SyntaxError, ValueError) as exc:  # what Pillow raises for a damaged or truncated file
        raise Refused("unreadable_image", f"the image is damaged or truncated: {exc}") from exc


def _upright_rgb(image: Image.Image) -> Image.Image:
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        background = Image.new("RGB", upright.size, "white")  # JPEG has no transparency
        background.paste(upright.convert("RGBA"), mask=upright.convert("RGBA"))
        return background
    return upright.convert("RGB")


def reencoded(data: bytes) -> dict[Size, bytes]:
    """The photo as a JPEG at each size (longest side at most LONGEST_SIDE, never enlarged), with no
    metadata. CPU-bound: the service runs it in a worker thread."""
    pixels = _decoded(data)
    sizes = {}
    for size, longest in LONGEST_SIDE.items():
        resized = pixels.copy()
        resized.thumbnail((longest, longest), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        resized.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
        sizes[size] = out.getvalue()
    return sizes
