"""Reading a PDF as a person and a phone would: its text, and the QR codes on its rasterised pages."""

from __future__ import annotations

import io
import re

import pymupdf
import zxingcpp
from PIL import Image
from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def qr_urls(data: bytes, dpi: int = 150) -> list[str]:
    """Rasterise every page and decode what a phone camera would read."""
    found: list[str] = []
    with pymupdf.open(stream=data, filetype="pdf") as document:
        for page in document:
            pixmap = page.get_pixmap(dpi=dpi)
            image = Image.open(io.BytesIO(pixmap.tobytes("png")))
            found += [result.text for result in zxingcpp.read_barcodes(image)]
    return found


def embedded_fonts(data: bytes) -> list[tuple[str, str]]:
    """(font name, file extension) of each font in the PDF; an empty extension means not embedded."""
    with pymupdf.open(stream=data, filetype="pdf") as document:
        return [(font[3], font[1]) for page in document for font in page.get_fonts()]


def page_status(html: str) -> str:
    """The status word the verification page shows (有效 / 已更新 / 已撤销)."""
    found = re.search(r'<dd class="status [a-z]+">([^<]+)</dd>', html)
    assert found, "the page shows a status"
    return found.group(1)
