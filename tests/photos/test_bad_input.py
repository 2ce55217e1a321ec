"""Whatever a phone or a careless export sends gets a clear problem code instead of a crash."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image

from services.photos import check_photo, fix_photo
from tests.photos.synth import (
    animated_gif,
    encode,
    heic_like,
    id_photo_jpeg,
    png16,
    png_bomb,
    portrait,
    stored_for_orientation,
    transparent_png,
)


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("zero bytes", lambda: b"", "unreadable"),
        ("text renamed .jpg", lambda: "我的照片\n".encode() * 20, "unreadable"),
        ("truncated JPEG", lambda: id_photo_jpeg()[:3000], "unreadable"),
        ("only a JPEG header", lambda: id_photo_jpeg()[:2], "unreadable"),
        ("20000x20000 PNG bomb", png_bomb, "unreadable"),
        ("6000x6000 PNG: too many pixels to decode whole", lambda: png_bomb(6000), "unreadable"),
        ("HEIC", heic_like, "format"),
    ],
)
def test_unusable_files_get_one_clear_problem(name: str, make: Callable[[], bytes], code: str) -> None:
    report = check_photo(make())
    assert report.codes == [code], name
    assert report.problems[0].fixable is False
    assert not report.problems[0].message.isascii()


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("CMYK JPEG", lambda: encode(portrait(), mode="CMYK"), "CMYK"),
        ("16-bit colour PNG", lambda: png16(portrait(), grey=False), "16 位"),
        ("animated GIF", animated_gif, "动图"),
        ("BMP", lambda: encode(portrait(), "BMP"), "BMP"),
        ("PNG with a transparent top", transparent_png, "透明"),
    ],
)
def test_odd_encodings_are_a_fixable_format_problem(name: str, make: Callable[[], bytes], words: str) -> None:
    data = make()
    report = check_photo(data)
    formats = [p for p in report.problems if p.code == "format"]
    assert len(formats) == 1 and formats[0].fixable, (name, report.problems)
    assert words in formats[0].message
    outcome = fix_photo(data)
    assert outcome.fixed is not None, (name, outcome.after)
    assert check_photo(outcome.fixed.data).ok


def test_a_16_bit_grey_png_is_read_and_found_grey() -> None:
    report = check_photo(png16(portrait(), grey=True))
    assert {"format", "grayscale"} <= set(report.codes)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_judged_upright(orientation: int) -> None:
    """A phone stores the sensor's pixels and a tag saying how to turn them (6 for every upright
    portrait): the check judges the photo as shown, so a good one passes whatever its tag."""
    data = encode(stored_for_orientation(portrait(), orientation), orientation=orientation)
    report = check_photo(data)
    assert (report.width, report.height) == (295, 413)
    assert report.ok, report.problems


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_the_fixer_applies_the_exif_turn(orientation: int) -> None:
    """Systems and PDFs that ignore the tag would show the passing photo lying down, so the copy to
    submit has the turn in its pixels."""
    data = encode(stored_for_orientation(portrait(), orientation), orientation=orientation)
    outcome = fix_photo(data)
    assert outcome.original.ok
    assert outcome.fixed is not None and outcome.fixed.changed
    with Image.open(io.BytesIO(outcome.fixed.data)) as fixed:
        assert fixed.size == (295, 413)
        assert fixed.getexif().get(0x0112) is None
    assert check_photo(outcome.fixed.data).ok
