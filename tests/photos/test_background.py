"""Any wall becomes a plain one: the person is cut out with the shipped selfie-segmentation model
and laid on pure white (blue on request), without a fringe of the old wall's colour."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from services.photos import WHITE_ONLY, check_photo, fix_photo
from tests.photos.synth import astronaut_scene, encode, portrait

_noise = np.random.default_rng(11).integers(0, 256, (413, 295, 3)).astype(np.uint8)
WALLS: dict[str, tuple[int, int, int] | np.ndarray] = {
    "busy: the studio with flag and shuttle": astronaut_scene(),
    "busy: coloured noise": _noise,
    "busy: a launch pad (NASA, public domain)": data.rocket(),
    "dark: a night-time dormitory wall": (28, 26, 30),
    "coloured: red": (200, 35, 35),
    "coloured: green": (50, 160, 70),
    "coloured: ID blue, for the management system": (67, 142, 219),
}


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize("wall", WALLS)
def test_a_photo_on_any_wall_comes_out_passing_and_white(wall: str) -> None:
    data = encode(portrait(600, 840, background=WALLS[wall]), quality=90)
    outcome = fix_photo(data, backgrounds=WHITE_ONLY)
    background = [p for p in outcome.original.problems if p.code == "background"]
    assert background and background[0].fixable, outcome.original.problems
    assert outcome.fixed is not None, outcome.after
    assert check_photo(outcome.fixed.data, backgrounds=WHITE_ONLY).ok
    fixed = pixels(outcome.fixed.data)
    for corner in (fixed[:40, :40], fixed[:40, -40:], fixed[150:200, :12], fixed[150:200, -12:]):
        assert corner.min() >= 240, wall


def test_blue_on_request() -> None:
    data = encode(portrait(600, 840, background=(200, 35, 35)), quality=90)
    outcome = fix_photo(data, backgrounds=("blue",))
    assert outcome.fixed is not None, outcome.after
    assert check_photo(outcome.fixed.data, backgrounds=("blue",)).ok
    corner = pixels(outcome.fixed.data)[:40, :40].reshape(-1, 3).mean(axis=0)
    assert corner[2] > 200 and corner[0] < 90, corner


def test_no_red_fringe_is_left_round_the_hair() -> None:
    """The edge of the person on a red wall, once replaced, is as red as on a white wall: neither
    a band of the old wall nor its tint on the hair stays."""
    on_red = fix_photo(encode(portrait(background=(200, 35, 35)), quality=95))
    on_grey = fix_photo(encode(portrait(background=(190, 190, 190)), quality=95))
    assert on_red.fixed is not None and on_grey.fixed is not None

    def redness(data: bytes) -> float:
        lab = cv2.cvtColor(pixels(data), cv2.COLOR_RGB2LAB).astype(np.float32)
        band = cv2.dilate((lab[..., 0] < 235).astype(np.uint8), np.ones((3, 3), np.uint8))
        outline = band - cv2.erode(band, np.ones((9, 9), np.uint8))
        return float(lab[..., 1][outline > 0].mean() - 128)

    assert redness(on_red.fixed.data) - redness(on_grey.fixed.data) < 3.0
