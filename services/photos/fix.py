"""The fixer: from a photo whose problems are all fixable, a 295x413 JPEG that passes the check.

It turns the picture upright, levels the eyes, evens out the exposure, cuts the standard head frame
around the face, scales it to 295x413 and saves the best JPEG quality that fits in 30,000 bytes, at
300 DPI and without metadata. A photo that already passes is returned byte for byte, unless it is
upright only by its EXIF tag.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Collection
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from services.photos import segment
from services.photos.check import BOTH_BACKGROUNDS, Analysis, Report, analyse, check_photo, report_of
from services.photos.framing import Crop
from services.photos.loading import load
from services.photos.measures import Background
from services.photos.problems import MAX_BYTES, TARGET_HEIGHT, TARGET_WIDTH

# The fixer cuts from the check's copy when that holds enough pixels for the frame, and otherwise
# decodes more of the file, up to this, so the cut-out keeps its detail.
FIX_LONG_SIDE = 2000
DPI = 300
MIN_QUALITY, MAX_QUALITY = 40, 95
UNDER_FRAME_MARGIN = 4  # source pixels kept around the frame, for the interpolation at its edge


@dataclass(frozen=True)
class Fixed:
    """A photo that passes the check (`changed` is False when it is the original, untouched)."""

    data: bytes
    width: int
    height: int
    changed: bool


@dataclass(frozen=True)
class FixOutcome:
    original: Report
    fixed: Fixed | None  # None when a problem needs a new photo
    after: Report | None = None  # the check of the repaired file, when one was made


def fix_photo(data: bytes, *, backgrounds: Collection[Background] = BOTH_BACKGROUNDS) -> FixOutcome:
    analysis = analyse(data, backgrounds=backgrounds)
    original = report_of(analysis)
    as_is = None
    if original.ok and original.width and original.height:
        as_is = Fixed(data, original.width, original.height, changed=False)
        if analysis.loaded is None or analysis.loaded.exif_orientation == 1:
            return FixOutcome(original, as_is)
        # It passes as shown, but a system or PDF that ignores the EXIF turn would show it lying
        # down: the turn is written into the pixels.
    elif not analysis.fixable:
        return FixOutcome(original, None)
    encoded = encode_jpeg(render(data, analysis))
    after = check_photo(encoded, backgrounds=backgrounds)
    fixed = Fixed(encoded, TARGET_WIDTH, TARGET_HEIGHT, changed=True) if after.ok else as_is
    return FixOutcome(original, fixed, after)


async def fix_photo_async(
    data: bytes, *, backgrounds: Collection[Background] = BOTH_BACKGROUNDS
) -> FixOutcome:
    """`fix_photo` in a worker thread, so the event loop keeps serving."""
    return await asyncio.to_thread(fix_photo, data, backgrounds=backgrounds)


def render(data: bytes, analysis: Analysis) -> np.ndarray:
    """The 295x413 RGB picture: upright, level, evenly lit, framed, on a new wall if needed."""
    assert analysis.loaded is not None
    analysed = analysis.loaded.rgb  # upright and turned already
    crop = analysis.crop
    if crop is None:  # the framing already passes and the standard frame does not fit: keep it
        crop = Crop(0, 0, analysed.shape[1], analysed.shape[0])
    rgb = analysed
    if crop.height < TARGET_HEIGHT and analysis.loaded.scale < 1.0:
        # The check's copy is too small for this frame: decode just enough more of the file.
        long_side = min(FIX_LONG_SIDE, math.ceil(max(analysed.shape[:2]) * TARGET_HEIGHT / crop.height))
        rgb = load(data, long_side=long_side).rgb
        if analysis.quarter_turns:
            rgb = np.ascontiguousarray(np.rot90(rgb, analysis.quarter_turns))
    if analysis.gamma != 1.0:
        table = (255 * (np.arange(256) / 255) ** analysis.gamma).round().clip(0, 255).astype(np.uint8)
        rgb = table[rgb]
    factor = rgb.shape[1] / analysed.shape[1]
    face = analysis.face
    eye = face.eye_centre if face else (0.0, 0.0)
    picture, mapping = _warp(rgb, crop, (eye[0] * factor, eye[1] * factor), factor)
    if analysis.paint is not None and analysis.person is not None:
        # the check's person mask, carried through the same map as the picture
        alpha = analysis.person.alpha(mapping, (TARGET_WIDTH, TARGET_HEIGHT))
        picture = segment.replace_background(picture, alpha, analysis.paint)
    return picture


def _warp(
    rgb: np.ndarray, crop: Crop, eye: tuple[float, float], factor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cut `crop` (analysis coordinates; `factor` converts to `rgb`'s) out of `rgb` turned about
    `eye` by the crop's roll, scaled to 295x413; with the map from analysis to output coordinates.
    Only the part of `rgb` under the frame is worked on: it is shrunk first with area averaging, so
    the warp itself never shrinks or aliases."""
    scale = TARGET_WIDTH / (crop.width * factor)
    angle = math.radians(crop.roll_degrees)
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    linear = np.array([[cos, sin], [-sin, cos]])
    corner = np.array([crop.x * factor, crop.y * factor])
    centre = np.array(eye)
    shift = scale * (centre - corner) - linear @ centre
    left, top, right, bottom = _under_frame(np.hstack([linear, shift[:, None]]), rgb.shape[1], rgb.shape[0])
    part = rgb[top:bottom, left:right]
    to_part = linear
    if scale < 1.0:
        size = (max(1, round(part.shape[1] * scale)), max(1, round(part.shape[0] * scale)))
        to_part = linear @ np.diag([part.shape[1] / size[0], part.shape[0] / size[1]])
        part = cv2.resize(part, size, interpolation=cv2.INTER_AREA)
    picture = cv2.warpAffine(
        part,
        np.hstack([to_part, (linear @ np.array([left, top]) + shift)[:, None]]),
        (TARGET_WIDTH, TARGET_HEIGHT),
        flags=cv2.INTER_CUBIC if scale > 1.0 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return picture, np.hstack([linear * factor, shift[:, None]])


def _under_frame(matrix: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """The pixels of a `width` x `height` picture that the affine `matrix` (picture -> output)
    brings into the output, with a margin for interpolation: left, top, right, bottom."""
    inverse = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0], [TARGET_WIDTH, 0], [0, TARGET_HEIGHT], [TARGET_WIDTH, TARGET_HEIGHT]], float)
    source = corners @ inverse[:, :2].T + inverse[:, 2]
    low = np.clip(np.floor(source.min(axis=0)) - UNDER_FRAME_MARGIN, 0, [width - 1, height - 1]).astype(int)
    high = np.clip(np.ceil(source.max(axis=0)) + UNDER_FRAME_MARGIN, low + 1, [width, height]).astype(int)
    return int(low[0]), int(low[1]), int(high[0]), int(high[1])


def encode_jpeg(rgb: np.ndarray, max_bytes: int = MAX_BYTES) -> bytes:
    """The highest JPEG quality whose file fits in `max_bytes` (binary search), 300 DPI, no metadata."""
    image = Image.fromarray(rgb, "RGB")
    best = _jpeg(image, MIN_QUALITY)
    low, high = MIN_QUALITY + 1, MAX_QUALITY
    while low <= high:
        quality = (low + high) // 2
        candidate = _jpeg(image, quality)
        if len(candidate) <= max_bytes:
            best, low = candidate, quality + 1
        else:
            high = quality - 1
    return best


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True, dpi=(DPI, DPI))
    return buffer.getvalue()
