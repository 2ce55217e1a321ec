"""A verdict belongs to the photo, not to one encoding of it: saving it again at any usual JPEG
quality, or trimming a few pixels off its edges, must not change what the check says."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from services.photos import check_photo
from tests.photos.synth import encode, portrait

# Passing photos, two of them close to the face-size limits (32% and 54% of the height).
PASSING = {
    "standard": lambda: portrait(),
    "small head (33%)": lambda: portrait(face_height=0.33, face_top=0.26),
    "large head (50%)": lambda: portrait(face_height=0.5, face_top=0.15),
    "600x840": lambda: portrait(600, 840),
}


def verdict(data: bytes) -> list[str]:
    """The codes about the picture; the file's size depends on the encoding, rightly."""
    return [code for code in check_photo(data).codes if code != "file_size"]


def saved_again(data: bytes, quality: int) -> bytes:
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(data)) as image:
        image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@pytest.mark.parametrize("name", PASSING)
def test_a_passing_photo_passes_at_every_usual_jpeg_quality(name: str) -> None:
    original = encode(PASSING[name](), quality=85)
    assert verdict(original) == []
    for quality in range(70, 96, 5):
        assert verdict(saved_again(original, quality)) == [], quality


@pytest.mark.parametrize("name", ["small head (33%)", "large head (50%)", "600x840"])
def test_a_passing_photo_passes_with_a_few_pixels_trimmed(name: str) -> None:
    rgb = PASSING[name]()
    for top, left, bottom, right in [(0, 0, 0, 0), (4, 0, 0, 3), (0, 3, 6, 0), (5, 5, 5, 5), (0, 0, 8, 6)]:
        trimmed = np.ascontiguousarray(rgb[top : rgb.shape[0] - bottom, left : rgb.shape[1] - right])
        codes = verdict(encode(trimmed, quality=85))
        # a trimmed 295x413 photo is a few pixels short, and rightly told so; nothing else may change
        assert [code for code in codes if code != "resolution"] == [], (top, left, bottom, right)
