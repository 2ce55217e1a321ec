"""PDF drawing shared by every document: the embedded Chinese font, text, photos and QR codes.

The font ships inside this package (fonts/, Apache-2.0) and is embedded as a subset of the glyphs a
document uses, so a PDF shows the same on any phone or printer and stays small. It is parsed once
per process; rendering holds a lock because the parsed font keeps per-document subset state.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import qrcode
from PIL import Image, ImageOps
from qrcode.constants import ERROR_CORRECT_M
from reportlab import rl_config
from reportlab.lib.colors import Color, black, white
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONT = "DroidSansFallback"
FONT_FILE = Path(__file__).parent / "fonts" / "DroidSansFallback.ttf"
INK = Color(0.1, 0.1, 0.1)
ACCENT = Color(0.55, 0.07, 0.07)
QUIET_ZONE_MODULES = 4
_TOKENS = re.compile(r"[A-Za-z0-9*.:/\-]+|.", re.S)

_lock = threading.Lock()
_font_ready = False


def _ensure_font() -> None:
    global _font_ready
    if not _font_ready:
        # Binary streams: ASCII85 would make every PDF a quarter larger and, without ReportLab's
        # optional C accelerator, cost a third of the rendering time.
        rl_config.useA85 = 0
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))
        _font_ready = True


def render(
    draw: Callable[[Canvas], None], *, pagesize: tuple[float, float], title: str, created: datetime
) -> bytes:
    """Run `draw` on a fresh canvas and return the PDF; the same input always gives the same bytes."""
    buffer = io.BytesIO()
    with _lock:
        _ensure_font()
        canvas = Canvas(buffer, pagesize=pagesize, invariant=True, pageCompression=1, initialFontName=FONT)
        canvas.setTitle(title)
        canvas.setAuthor("建培助手")
        canvas.setCreator("jianpei")
        canvas.setDateFormatter(lambda *_: created.strftime("D:%Y%m%d%H%M%S+00'00'"))
        draw(canvas)
        canvas.save()
    return buffer.getvalue()


def text_width(text: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, FONT, size))


def text(
    canvas: Canvas,
    x: float,
    y: float,
    value: str,
    *,
    size: float = 11,
    bold: bool = False,
    colour: Color = INK,
) -> None:
    """Draw one line at baseline (x, y). The font has no bold face, so bold strokes the outline too."""
    canvas.saveState()
    obj = canvas.beginText(x, y)
    obj.setFont(FONT, size)
    obj.setFillColor(colour)
    if bold:
        canvas.setStrokeColor(colour)
        canvas.setLineWidth(size / 30)
        obj.setTextRenderMode(2)
    obj.textOut(value)
    canvas.drawText(obj)
    canvas.restoreState()


def centred(canvas: Canvas, centre_x: float, y: float, value: str, **style: object) -> None:
    size = float(style.get("size", 11))  # type: ignore[arg-type]
    text(canvas, centre_x - text_width(value, size) / 2, y, value, **style)  # type: ignore[arg-type]


def wrap(value: str, size: float, width: float, *, keep: tuple[str, ...] = ()) -> list[str]:
    """Break text into lines no wider than `width`: between any two Chinese characters, but never
    inside a number, a Latin word or one of the `keep` strings (a certificate number, a name)."""
    pattern = _TOKENS
    if keep:
        kept = "|".join(re.escape(item) for item in sorted(keep, key=len, reverse=True) if item)
        pattern = re.compile(f"{kept}|{_TOKENS.pattern}", re.S)
    lines: list[str] = []
    current = ""
    for token in pattern.findall(value):
        if current and text_width(current + token, size) > width:
            lines.append(current)
            current = token.lstrip()
        else:
            current += token
    return [*lines, current] if current or not lines else lines


ORIENTATION = 0x0112  # the EXIF tag


def photo(canvas: Canvas, data: bytes, x: float, y: float, width: float, height: float) -> None:
    """The holder's photo fitted into the box. JPEG data is embedded as is, without recompression,
    unless the file is stored turned with an EXIF orientation (as phones store portraits): a PDF
    ignores the tag, so that photo is turned upright first."""
    image = Image.open(io.BytesIO(data))
    turned = image.getexif().get(ORIENTATION, 1) != 1
    reader = ImageReader(ImageOps.exif_transpose(image) if turned else io.BytesIO(data))
    image_width, image_height = reader.getSize()
    scale = min(width / image_width, height / image_height)
    drawn_width, drawn_height = image_width * scale, image_height * scale
    canvas.drawImage(
        reader, x + (width - drawn_width) / 2, y + (height - drawn_height) / 2, drawn_width, drawn_height
    )


def qr_code(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """A vector QR code of `url` whose quiet zone included fills the square (x, y, size)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE_MODULES)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    module = size / len(matrix)
    canvas.setFillColor(white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(black)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + 1) * module
        start: int | None = None
        for column, dark in enumerate([*row, False]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                path.rect(x + start * module, top, (column - start) * module, module)
                start = None
    canvas.drawPath(path, stroke=0, fill=1)
