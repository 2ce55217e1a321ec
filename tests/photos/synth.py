"""Synthetic ID photos made from scikit-image's public-domain astronaut portrait (and its cat).

The astronaut is cut out once per run (GrabCut seeded with a hand-drawn mask) and then laid on any
background, at any scale, position and tilt, so each test states the one thing it changes.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from PIL import Image
from skimage import data

from services.photos.problems import TARGET_HEIGHT, TARGET_WIDTH

# Where MTCNN puts the astronaut's face in the 512x512 original (x, y, width, height).
FACE_BOX = (179.0, 60.0, 89.0, 113.0)
WHITE = (255, 255, 255)
_DRAW_PIXELS = 2_000_000
ID_BLUE = (67, 142, 219)


@cache
def astronaut_cutout() -> tuple[np.ndarray, np.ndarray]:
    """The astronaut's RGB and an alpha mask (0..1) of her head and shoulders."""
    rgb = data.astronaut()
    mask = np.full(rgb.shape[:2], cv2.GC_BGD, np.uint8)
    cv2.ellipse(mask, (226, 100), (95, 105), 0, 0, 360, cv2.GC_PR_FGD, -1)
    body = np.array([[120, 170], [330, 170], [370, 330], [380, 512], [0, 512], [20, 300]], np.int32)
    cv2.fillPoly(mask, [body], cv2.GC_PR_FGD)
    cv2.ellipse(mask, (224, 110), (40, 55), 0, 0, 360, cv2.GC_FGD, -1)
    cv2.rectangle(mask, (150, 200), (300, 300), cv2.GC_FGD, -1)
    models = (np.zeros((1, 65)), np.zeros((1, 65)))
    cv2.grabCut(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), mask, (0, 0, 1, 1), *models, 3, cv2.GC_INIT_WITH_MASK)
    alpha = np.isin(mask, [cv2.GC_FGD, cv2.GC_PR_FGD]).astype(np.float32)
    return rgb, cv2.GaussianBlur(alpha, (3, 3), 0)


@dataclass(frozen=True)
class Placement:
    """Where the astronaut's face box goes: `face_height` of the picture's height, its top at
    `face_top` of the height, its centre at `face_centre_x` of the width; turned by `roll_degrees`.
    A `person_gamma` above 1 darkens her (a backlit face), below 1 washes her out."""

    face_height: float = 0.42
    face_top: float = 0.26
    face_centre_x: float = 0.5
    roll_degrees: float = 0.0
    person_gamma: float = 1.0


def _layer(width: int, height: int, placement: Placement) -> tuple[np.ndarray, np.ndarray]:
    rgb, alpha = astronaut_cutout()
    if placement.person_gamma != 1.0:
        rgb = (255 * (rgb / 255) ** placement.person_gamma).round().astype(np.uint8)
    box_x, box_y, box_w, box_h = FACE_BOX
    scale = placement.face_height * height / box_h
    centre_src = (box_x + box_w / 2, box_y + box_h / 2)
    centre_dst = (
        placement.face_centre_x * width,
        placement.face_top * height + placement.face_height * height / 2,
    )
    matrix = cv2.getRotationMatrix2D(centre_src, placement.roll_degrees, scale)
    matrix[0, 2] += centre_dst[0] - centre_src[0]
    matrix[1, 2] += centre_dst[1] - centre_src[1]
    size = (width, height)
    person = cv2.warpAffine(rgb, matrix, size, flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    cover = cv2.warpAffine(alpha, matrix, size, flags=cv2.INTER_LINEAR)[..., None]
    return person.astype(np.float32), cover


def group(
    width: int,
    height: int,
    people: list[Placement],
    background: tuple[int, int, int] | np.ndarray = WHITE,
) -> np.ndarray:
    """Astronauts laid over `background` in order (the last one in front). Big pictures are drawn
    at two megapixels and enlarged: the source is only 512x512, so nothing is lost but time."""
    if width * height > _DRAW_PIXELS:
        factor = math.sqrt(_DRAW_PIXELS / (width * height))
        small = group(int(width * factor), int(height * factor), people, background)
        return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    size = (width, height)
    if isinstance(background, np.ndarray):
        picture = cv2.resize(background, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    else:
        picture = np.empty((height, width, 3), np.float32)
        picture[:] = background
    for placement in people:
        person, cover = _layer(width, height, placement)
        picture = cover * person + (1 - cover) * picture
    return picture.round().clip(0, 255).astype(np.uint8)


def portrait(
    width: int = TARGET_WIDTH,
    height: int = TARGET_HEIGHT,
    *,
    background: tuple[int, int, int] | np.ndarray = WHITE,
    **placement: float,
) -> np.ndarray:
    """The astronaut framed as an ID photo (the standard frame unless `placement` says otherwise)."""
    return group(width, height, [Placement(**placement)], background)


def id_photo_jpeg(quality: int = 85) -> bytes:
    """A photo both systems accept: 295x413 JPEG, white background, standard framing."""
    return encode(portrait(), quality=quality)


def face_wall() -> np.ndarray:
    """A wall covered by an enlarged photo of a face (too large to be taken for a second person):
    nothing tells the person in front from it."""
    return cv2.resize(portrait()[100:300, 50:250], (TARGET_WIDTH, TARGET_HEIGHT))


def cat() -> np.ndarray:
    return data.chelsea()


def astronaut_scene() -> np.ndarray:
    """The original picture: flag, shuttle model, grey studio backdrop."""
    return data.astronaut()


def encode(
    rgb: np.ndarray,
    image_format: str = "JPEG",
    *,
    quality: int = 90,
    orientation: int | None = None,
    mode: str | None = None,
) -> bytes:
    image = Image.fromarray(rgb)
    if mode:
        image = image.convert(mode)
    options: dict[str, object] = {}
    if image_format == "JPEG":
        options["quality"] = quality
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def stored_for_orientation(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a camera stores so that EXIF `orientation` shows `rgb` upright."""
    inverse = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    if orientation == 1:
        return rgb
    return np.asarray(Image.fromarray(rgb).transpose(inverse[orientation]))


# Files that are not what an upload form expects.


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of side x side pixels, all black: a few kilobytes that would need 400 MB."""
    row = b"\0" * (1 + side // 8)
    packer = zlib.compressobj(9)
    compressed = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", compressed)
        + png_chunk(b"IEND", b"")
    )


def png16(rgb: np.ndarray, *, grey: bool) -> bytes:
    wide = rgb.astype(np.uint16) * 257
    picture = cv2.cvtColor(wide, cv2.COLOR_RGB2GRAY) if grey else cv2.cvtColor(wide, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", picture)
    assert ok
    return encoded.tobytes()


def animated_gif() -> bytes:
    frames = [Image.fromarray(portrait()), Image.fromarray(portrait(roll_degrees=5))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return buffer.getvalue()


def transparent_png() -> bytes:
    rgba = np.dstack([portrait(), np.full((413, 295), 255, np.uint8)])
    rgba[:60, :, 3] = 0
    return encode(rgba, "PNG")


def heic_like() -> bytes:
    """The start of an iPhone HEIC file: an ISO-BMFF `ftyp` box with the `heic` brand."""
    return struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0" + b"mif1heic" + b"\0" * 200


# Faces that changed: the standard portrait's features moved, in units of its face box (x from the
# box's left, y from its top, both in box widths and heights; measured on the 295x413 portrait).
LEFT_EYE = (0.27, 0.36)
RIGHT_EYE = (0.76, 0.38)
NOSE = (0.5, 0.6)
MOUTH = (0.49, 0.7)
EYE_WIDTH = 0.22
MOUTH_WIDTH = 0.5


def _box(rgb: np.ndarray) -> tuple[float, float, float, float]:
    """The face box of a portrait in the standard frame: left, top, width, height in pixels."""
    height, width = rgb.shape[:2]
    box_h = 0.42 * height
    box_w = box_h * FACE_BOX[2] / FACE_BOX[3]
    return width / 2 - box_w / 2, 0.26 * height, box_w, box_h


def _at(rgb: np.ndarray, point: tuple[float, float]) -> tuple[float, float]:
    left, top, box_w, box_h = _box(rgb)
    return left + point[0] * box_w, top + point[1] * box_h


def turned(rgb: np.ndarray, across: float = 0.0, down: float = 0.0) -> np.ndarray:
    """The middle of the face (nose, mouth, eyes' inner corners) pushed sideways by `across` and
    down by `down` box sizes, the outline left in place: how a head turned or nodding looks."""
    box_w, box_h = _box(rgb)[2:]
    centre = _at(rgb, NOSE)
    rows, columns = np.mgrid[0 : rgb.shape[0], 0 : rgb.shape[1]].astype(np.float32)
    bump = np.exp(
        -(((columns - centre[0]) / (0.28 * box_w)) ** 2 + ((rows - centre[1]) / (0.35 * box_h)) ** 2) / 2
    )
    return cv2.remap(
        rgb,
        columns - across * box_w * bump,
        rows - down * box_h * bump,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def shut_eyes(rgb: np.ndarray) -> np.ndarray:
    """Both eyes painted over with the skin below them, a dark lash line along the shut lids."""
    out = rgb.copy()
    eye = EYE_WIDTH * _box(rgb)[2]
    for point in (LEFT_EYE, RIGHT_EYE):
        x, y = _at(rgb, point)
        skin = out[round(y + 0.9 * eye), round(x)].tolist()
        cv2.ellipse(out, (round(x), round(y)), (round(0.62 * eye), round(0.32 * eye)), 0, 0, 360, skin, -1)
        lash = (round(x), round(y + 0.05 * eye))
        cv2.ellipse(out, lash, (round(0.55 * eye), round(0.12 * eye)), 0, 10, 170, (60, 40, 30), 2)
    return cv2.GaussianBlur(out, (3, 3), 0)


def open_mouth(rgb: np.ndarray, opening: float) -> np.ndarray:
    """A dark open mouth `opening` mouth widths tall drawn between the lips."""
    out = rgb.copy()
    x, y = _at(rgb, MOUTH)
    mouth = MOUTH_WIDTH * _box(rgb)[2]
    centre = (round(x), round(y + 0.3 * opening * mouth))
    cv2.ellipse(out, centre, (round(0.38 * mouth), round(0.5 * opening * mouth)), 0, 0, 360, (70, 20, 25), -1)
    return cv2.GaussianBlur(out, (3, 3), 0)


def narrowed_eyes(rgb: np.ndarray) -> np.ndarray:
    """Both eyes squeezed to about half their height, as narrow or squinting eyes: the iris shows."""
    eye = EYE_WIDTH * _box(rgb)[2]
    rows, columns = np.mgrid[0 : rgb.shape[0], 0 : rgb.shape[1]].astype(np.float32)
    source = rows.copy()
    for point in (LEFT_EYE, RIGHT_EYE):
        x, y = _at(rgb, point)
        weight = np.exp(-(((columns - x) / (0.7 * eye)) ** 4 + ((rows - y) / (0.45 * eye)) ** 4))
        source += weight * (rows - y)  # sample twice as far from the eye's middle line
    return cv2.remap(rgb, columns, source, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def glasses(rgb: np.ndarray, glare: float = 0.0, *, catch_lights: bool = False) -> np.ndarray:
    """Dark-rimmed glasses drawn over the eyes. `glare` above 0 lays a soft white reflection on the
    lens on the picture's left, `glare` lens heights tall; `catch_lights` puts the small white
    reflection of a lamp in each eye, as every well-lit eye has."""
    out = rgb.copy()
    eye = EYE_WIDTH * _box(rgb)[2]
    for point in (LEFT_EYE, RIGHT_EYE):
        x, y = _at(rgb, point)
        rim = max(2, round(0.08 * eye))
        cv2.ellipse(
            out, (round(x), round(y)), (round(0.85 * eye), round(0.6 * eye)), 0, 0, 360, (30, 30, 30), rim
        )
        if catch_lights:
            cv2.circle(
                out, (round(x + 0.05 * eye), round(y - 0.05 * eye)), max(1, round(0.06 * eye)), WHITE, -1
            )
    if glare > 0:
        x, y = _at(rgb, LEFT_EYE)
        reflection = np.zeros(out.shape[:2], np.float32)
        centre = (round(x + 0.1 * eye), round(y - 0.05 * eye))
        cv2.ellipse(
            reflection, centre, (round(0.7 * glare * eye), round(0.45 * glare * eye)), -20, 0, 360, 1.0, -1
        )
        cover = cv2.GaussianBlur(reflection, (0, 0), 0.08 * eye)[..., None]
        out = (cover * 255 + (1 - cover) * out).round().astype(np.uint8)
    return cv2.GaussianBlur(out, (3, 3), 0)
