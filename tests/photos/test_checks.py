"""Every problem code: a photo that triggers it and a near miss that does not.

The photos are the astronaut of scikit-image (public domain) cut out and laid on a background, so
each case changes exactly one thing about an otherwise good 295x413 ID photo.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import pytest
from PIL import Image

from services.photos import CODES, check_photo
from services.photos.check import WHITE_ONLY
from tests.photos.synth import (
    FACE_BOX,
    ID_BLUE,
    Placement,
    astronaut_scene,
    cat,
    encode,
    face_wall,
    glasses,
    group,
    id_photo_jpeg,
    narrowed_eyes,
    open_mouth,
    portrait,
    shut_eyes,
    stored_for_orientation,
    turned,
)


def padded_to(data: bytes, size: int) -> bytes:
    """The same JPEG with bytes after its end marker (ignored by decoders), `size` bytes long."""
    assert len(data) <= size
    return data + b"\0" * (size - len(data))


def covered(
    rgb: np.ndarray, box: tuple[float, float, float, float], colour: tuple[int, int, int]
) -> np.ndarray:
    """`rgb` with a rectangle given in face-box units (x0, y0, x1, y1 of the standard frame's
    face box) painted over."""
    out = rgb.copy()
    # the standard frame puts the face box at 42% of the height, top at 26%, centred
    height, width = out.shape[:2]
    box_h = 0.42 * height
    box_w = box_h * FACE_BOX[2] / FACE_BOX[3]
    left, top = width / 2 - box_w / 2, 0.26 * height
    x0, y0, x1, y1 = box
    cv2.rectangle(
        out,
        (round(left + x0 * box_w), round(top + y0 * box_h)),
        (round(left + x1 * box_w), round(top + y1 * box_h)),
        colour,
        -1,
    )
    return out


def mpo() -> bytes:
    buffer = io.BytesIO()
    second = Image.fromarray(portrait(roll_degrees=3))
    Image.fromarray(portrait()).save(buffer, "MPO", save_all=True, append_images=[second], quality=60)
    return buffer.getvalue()


def gradient_background() -> np.ndarray:
    """A white wall lit from above, with sensor noise: still a plain white background."""
    shade = np.linspace(255, 232, 413)[:, None, None] * np.ones((413, 295, 3))
    noisy = shade + np.random.default_rng(7).normal(0, 2.5, shade.shape)
    return noisy.clip(0, 255).astype(np.uint8)


def with_poster() -> np.ndarray:
    wall = np.full((413, 295, 3), 255, np.uint8)
    wall[0:120, 0:60] = (40, 90, 160)
    return wall


def larger() -> np.ndarray:
    """The standard frame at 600x840, where eyes and mouth have room for their changes."""
    return portrait(600, 840)


def desaturated(rgb: np.ndarray, keep: float) -> np.ndarray:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hsv[..., 1] = (hsv[..., 1] * keep).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def two_people(second_x: float) -> np.ndarray:
    """A phone photo of two: the trainee in front, someone else at `second_x` of the width."""
    return group(
        1200,
        1600,
        [
            Placement(face_height=0.2, face_top=0.3, face_centre_x=second_x),
            Placement(face_height=0.25, face_top=0.25, face_centre_x=0.4),
        ],
    )


def badge() -> np.ndarray:
    """A small portrait on the trainee's chest, like a badge: too small to count as a second person."""
    rgb = portrait()
    small = cv2.resize(portrait(), (60, 84), interpolation=cv2.INTER_AREA)
    rgb[413 - 94 : 413 - 10, 295 - 65 : 295 - 5] = small
    return rgb


@dataclass(frozen=True)
class Case:
    code: str
    name: str
    photo: Callable[[], bytes]
    triggers: bool
    fixable: bool | None = None  # expected flag when it triggers
    white_only: bool = False


CASES = [
    Case("unreadable", "truncated JPEG", lambda: id_photo_jpeg()[:6000], True, False),
    Case("unreadable", "JPEG with junk after its end", lambda: id_photo_jpeg() + b"junk" * 50, False),
    Case("format", "WebP", lambda: encode(portrait(), "WEBP"), True, True),
    Case("format", "PNG", lambda: encode(portrait(), "PNG"), False),
    Case("format", "a phone's MPO (a JPEG with a depth picture after it)", lambda: mpo(), False),
    Case("file_size", "30,001 bytes", lambda: padded_to(id_photo_jpeg(), 30_001), True, True),
    Case("file_size", "exactly 30,000 bytes", lambda: padded_to(id_photo_jpeg(), 30_000), False),
    Case("resolution", "200x280", lambda: encode(portrait(200, 280)), True, False),
    Case(
        "resolution",
        "280x392: 5% short, enlarged by the fixer",
        lambda: encode(portrait(280, 392)),
        True,
        True,
    ),
    Case("resolution", "295x413", id_photo_jpeg, False),
    Case(
        "orientation",
        "landscape 560x400",
        lambda: encode(portrait(560, 400, face_height=0.4, face_top=0.25)),
        True,
        True,
    ),
    Case(
        "orientation",
        "upright by its EXIF tag (6), as phones store portraits",
        lambda: encode(stored_for_orientation(portrait(), 6), orientation=6),
        False,
    ),
    Case(
        "orientation", "lying on its side, no EXIF", lambda: encode(np.rot90(portrait()).copy()), True, True
    ),
    Case("orientation", "EXIF orientation 1", lambda: encode(portrait(), orientation=1), False),
    Case("aspect", "295x450", lambda: encode(portrait(295, 450)), True, True),
    Case("aspect", "300x420 (5:7)", lambda: encode(portrait(300, 420)), False),
    Case("no_face", "a cat", lambda: encode(cv2.resize(cat(), (295, 413))), True, False),
    Case("no_face", "the astronaut", id_photo_jpeg, False),
    Case("multiple_faces", "two, side by side", lambda: encode(two_people(0.65)), True, False),
    Case("multiple_faces", "two, far apart: cropped away", lambda: encode(two_people(0.88)), True, True),
    Case("multiple_faces", "a badge-sized portrait on the chest", lambda: encode(badge()), False),
    Case("face_incomplete", "cut by the left edge", lambda: encode(portrait(face_centre_x=0.1)), True, False),
    Case(
        "face_incomplete",
        "right half behind something white",
        lambda: encode(covered(portrait(), (0.55, -0.2, 2.0, 1.3), (255, 255, 255))),
        True,
        False,
    ),
    Case("face_incomplete", "off-centre but whole", lambda: encode(portrait(face_centre_x=0.27)), False),
    Case(
        "face_occluded",
        "a black bar over the eyes",
        lambda: encode(covered(portrait(), (-0.05, 0.25, 1.05, 0.5), (20, 20, 20))),
        True,
        False,
    ),
    Case(
        "face_occluded",
        "a hand-coloured patch over one eye",
        lambda: encode(covered(portrait(), (0.05, 0.25, 0.45, 0.5), (225, 170, 140))),
        True,
        False,
    ),
    Case(
        "face_occluded",
        "a blue mask over mouth and nose",
        lambda: encode(covered(portrait(), (0.0, 0.55, 1.05, 1.1), (120, 170, 220))),
        True,
        False,
    ),
    Case(
        "face_occluded",
        "a fringe over the forehead, eyes free",
        lambda: encode(covered(portrait(), (0.1, -0.05, 0.9, 0.2), (120, 95, 60))),
        False,
    ),
    Case(
        "face_size",
        "head too small (28%)",
        lambda: encode(portrait(face_height=0.28, face_top=0.33)),
        True,
        False,
    ),
    Case(
        "face_size",
        "head too large (56%)",
        lambda: encode(portrait(face_height=0.56, face_top=0.18)),
        True,
        False,
    ),
    Case(
        "face_size",
        "small head in a big photo: cropped",
        lambda: encode(portrait(1200, 1680, face_height=0.2, face_top=0.3)),
        True,
        True,
    ),
    Case("face_size", "34% and 50%", lambda: encode(portrait(face_height=0.34, face_top=0.3)), False),
    Case("face_size", "50%", lambda: encode(portrait(face_height=0.5, face_top=0.2)), False),
    Case(
        "head_tilt",
        "tilted 15 degrees",
        lambda: encode(portrait(600, 840, face_height=0.3, face_top=0.3, roll_degrees=15)),
        True,
        True,
    ),
    Case(
        "head_tilt",
        "tilted 8 degrees (eyes about 5 off level)",
        lambda: encode(portrait(roll_degrees=8)),
        False,
    ),
    Case(
        "background",
        "light grey wall: repainted",
        lambda: encode(portrait(background=(190, 190, 190))),
        True,
        True,
    ),
    Case(
        "background",
        "dark grey wall: replaced",
        lambda: encode(portrait(background=(60, 60, 60))),
        True,
        True,
    ),
    Case(
        "background",
        "the studio backdrop: replaced",
        lambda: encode(portrait(background=astronaut_scene())),
        True,
        True,
    ),
    Case(
        "background",
        "white with a poster: replaced",
        lambda: encode(portrait(background=with_poster())),
        True,
        True,
    ),
    Case(
        "background",
        "a close-up of a face on the wall: the person cannot be told from it",
        lambda: encode(portrait(background=face_wall())),
        True,
        False,
    ),
    Case(
        "background",
        "blue, for the management system: repainted",
        lambda: encode(portrait(background=ID_BLUE)),
        True,
        True,
        True,
    ),
    Case(
        "background",
        "white with shading and noise",
        lambda: encode(portrait(background=gradient_background())),
        False,
    ),
    Case("background", "ID blue", lambda: encode(portrait(background=ID_BLUE)), False),
    Case("grayscale", "black and white", lambda: encode(portrait(), mode="L"), True, False),
    Case("grayscale", "faded colours (40%)", lambda: encode(desaturated(portrait(), 0.4)), False),
    Case(
        "head_yaw",
        "face turned to one side",
        lambda: encode(turned(larger(), across=0.25)),
        True,
        False,
    ),
    Case("head_yaw", "turned a little", lambda: encode(turned(larger(), across=0.1)), False),
    Case("head_pitch", "chin down", lambda: encode(turned(larger(), down=0.12)), True, False),
    Case("head_pitch", "chin up", lambda: encode(turned(larger(), down=-0.12)), True, False),
    Case("head_pitch", "chin a little down", lambda: encode(turned(larger(), down=0.04)), False),
    Case("head_pitch", "chin a little up", lambda: encode(turned(larger(), down=-0.04)), False),
    Case("eyes_closed", "eyes shut", lambda: encode(shut_eyes(larger())), True, False),
    Case("eyes_closed", "narrow eyes, iris showing", lambda: encode(narrowed_eyes(larger())), False),
    Case("mouth_open", "mouth wide open", lambda: encode(open_mouth(larger(), 0.7)), True, False),
    Case("mouth_open", "lips a little apart", lambda: encode(open_mouth(larger(), 0.35)), False),
    Case("mouth_open", "a smile showing the teeth", lambda: encode(larger()), False),
    Case("glasses_glare", "a reflection over one eye", lambda: encode(glasses(larger(), 0.6)), True, False),
    Case(
        "glasses_glare",
        "a reflection hiding the whole eye (not taken for a hand or sunglasses)",
        lambda: encode(glasses(larger(), 0.9)),
        True,
        False,
    ),
    Case("glasses_glare", "glasses, no reflection", lambda: encode(glasses(larger())), False),
    Case(
        "glasses_glare",
        "glasses and the lamp's catch-light in each eye",
        lambda: encode(glasses(larger(), catch_lights=True)),
        False,
    ),
    Case(
        "glasses_glare",
        "a small reflection at the lens's edge",
        lambda: encode(glasses(larger(), 0.3)),
        False,
    ),
    Case("blurry", "out of focus", lambda: encode(cv2.GaussianBlur(portrait(), (0, 0), 2.0)), True, False),
    Case("blurry", "slightly soft", lambda: encode(cv2.GaussianBlur(portrait(), (0, 0), 0.7)), False),
    Case("exposure", "backlit face", lambda: encode(portrait(person_gamma=7)), True, True),
    Case("exposure", "face almost black", lambda: encode(portrait(person_gamma=14)), True, False),
    Case("exposure", "washed-out face", lambda: encode(portrait(person_gamma=0.25)), True, True),
    Case("exposure", "dim face", lambda: encode(portrait(person_gamma=5)), False),
    Case("exposure", "bright face", lambda: encode(portrait(person_gamma=0.7)), False),
]


def test_every_code_has_a_trigger_and_a_near_miss() -> None:
    for code in CODES:
        kinds = {case.triggers for case in CASES if case.code == code}
        assert kinds == {True, False}, code


@pytest.mark.parametrize("case", CASES, ids=[f"{c.code}: {c.name}" for c in CASES])
def test_check(case: Case) -> None:
    report = (
        check_photo(case.photo(), backgrounds=WHITE_ONLY) if case.white_only else check_photo(case.photo())
    )
    found = [problem for problem in report.problems if problem.code == case.code]
    if not case.triggers:
        assert not found, report.problems
        return
    assert len(found) == 1, report.problems
    assert found[0].fixable is case.fixable, found[0]
    assert found[0].message and not found[0].message.isascii()


def test_a_good_photo_passes_every_check() -> None:
    report = check_photo(id_photo_jpeg())
    assert report.ok, report.problems
    assert (report.width, report.height, report.file_format) == (295, 413, "JPEG")


def test_problems_come_in_the_order_of_the_codes() -> None:
    report = check_photo(encode(cv2.resize(cat(), (600, 400)), "BMP"))
    assert report.codes == sorted(report.codes, key=CODES.index)
    assert {"format", "file_size", "orientation", "no_face"} <= set(report.codes)


def test_glare_hiding_an_eye_is_not_taken_for_sunglasses() -> None:
    """Drawn glasses with a white reflection over the whole eye: the trainee is told about the
    reflection (take the glasses off, turn from the light), not asked to take off sunglasses."""
    codes = check_photo(encode(glasses(larger(), 0.9))).codes
    assert "glasses_glare" in codes and "face_occluded" not in codes
