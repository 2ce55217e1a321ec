"""A portrait stored sideways with an EXIF orientation (as phones store them, and as the photo check
accepts) is drawn upright on the certificate: a PDF knows nothing of EXIF tags."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from services.documents.pdf import photo
from tests.photos.synth import id_photo_jpeg


def _sideways_with_tag(upright: bytes) -> bytes:
    """The same portrait, its pixels turned a quarter and tagged orientation 6 to turn them back."""
    image = Image.open(io.BytesIO(upright)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def _drawn_size(data: bytes) -> tuple[int, int]:
    out = io.BytesIO()
    canvas = Canvas(out)
    photo(canvas, data, 50, 50, 100, 140)
    canvas.save()
    page = PdfReader(io.BytesIO(out.getvalue())).pages[0]
    [image] = page.images
    return image.image.size


def test_a_tagged_sideways_portrait_is_drawn_upright() -> None:
    upright = id_photo_jpeg()
    width, height = _drawn_size(_sideways_with_tag(upright))
    assert height > width
    assert _drawn_size(upright) == Image.open(io.BytesIO(upright)).size  # an untagged one as it is
