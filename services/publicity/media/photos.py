"""The product photos the renderers place: decoded defensively (a photo that does not decode is left
out, never an error: the artefact still prints) and cropped to fill their frame."""

import io

from PIL import Image, ImageOps, UnidentifiedImageError

# The registry's photos are at most 1280 px; anything far larger is not one of them.
MAX_PIXELS = 4_000_000


def decoded(jpeg: bytes | None) -> Image.Image | None:
    if not jpeg:
        return None
    try:
        with Image.open(io.BytesIO(jpeg)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            return ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def cover(image: Image.Image, width: int, height: int) -> Image.Image:
    """`image` scaled and centre-cropped to fill width × height."""
    return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()
