"""Pixel measurements behind the checks: background, colour, sharpness, exposure, hidden features.

Each returns plain numbers or verdicts for one face; the thresholds live next to the measurement
they judge, and were set on synthetic ID photos (see tests/photos) with a margin both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from services.photos.faces import Face, Point

Background = Literal["white", "blue"]

# Background: median colour in OpenCV's 8-bit Lab (L 0..255, a and b centred on 128).
WHITE_MIN_L = 220
WHITE_MAX_CHROMA = 14
BLUE_MAX_B = 128 - 18
BLUE_MAX_ABS_A = 40
# at most this share of background pixels may differ clearly from the median (hair, a shadow edge)
OUTLIER_DISTANCE = 30
MAX_OUTLIER_SHARE = 0.04
MIN_BACKGROUND_PIXELS = 400

SAMPLE_PIXELS = 30_000
GRAYSCALE_MAX_CHROMA = 8  # 99.5th percentile of chroma over the picture

# Sharpness: variance of the Laplacian of the face scaled to a fixed width, over its grey variance.
SHARPNESS_WIDTH = 128
MIN_SHARPNESS = 0.015

FACE_DARK = 60  # mean grey of the face's centre
FACE_BRIGHT = 220
MAX_CLIPPED_SHARE = 0.12  # share of face pixels at 250 or more
FIXABLE_DARK = 35  # below this the face holds too little detail to brighten
FIXABLE_CLIPPED_SHARE = 0.30
TARGET_FACE_GREY = 150

# A feature counts as hidden when its patch is flat: grey standard deviation scaled to a face of
# mean grey 128 (a dark but real eye still has contrast; a hand, mask or sunglasses do not).
MIN_FEATURE_CONTRAST = 14.0


@dataclass(frozen=True)
class BackgroundReading:
    colour: tuple[int, int, int]  # median RGB
    kind: Background | None  # None: neither white nor blue
    uniform: bool
    lightness: float  # median L, 0..255


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)


def _sparse(array: np.ndarray) -> np.ndarray:
    """Every n-th row and column, leaving about SAMPLE_PIXELS: colour statistics need no more."""
    step = max(1, int((array.shape[0] * array.shape[1] / SAMPLE_PIXELS) ** 0.5))
    return array[::step, ::step]


def background_mask(height: int, width: int, faces: list[Face]) -> np.ndarray:
    """Where the background should be: around the head above the chin, or the top band and top
    corners when no face was found. Other people (heads and bodies) are left out."""
    mask = np.zeros((height, width), np.uint8)
    if not faces:
        mask[: max(1, height // 20), :] = 1
        mask[: height // 2, : max(1, width // 12)] = 1
        mask[: height // 2, width - max(1, width // 12) :] = 1
        return mask.astype(bool)
    main = faces[0]
    mask[: max(0, int(main.y + 0.8 * main.height)), :] = 1
    for face in faces:
        centre = (round(face.x + face.width / 2), round(face.y + 0.4 * face.height))
        axes = (round(0.95 * face.width), round(0.95 * face.height))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 0, -1)
        body_top = max(0, round(face.y + 0.8 * face.height))
        mask[body_top:, max(0, round(face.x - face.width)) : max(0, round(face.x + 2 * face.width))] = 0
    return mask.astype(bool)


def read_background(rgb: np.ndarray, faces: list[Face]) -> BackgroundReading | None:
    """The background's colour and evenness, or None when too little of it shows to judge."""
    mask = _sparse(background_mask(rgb.shape[0], rgb.shape[1], faces))
    if mask.sum() < MIN_BACKGROUND_PIXELS:
        return None
    samples_rgb = _sparse(rgb)[mask]
    samples = _lab(samples_rgb[None, :, :])[0]
    median = np.median(samples, axis=0)
    distance = np.linalg.norm(samples - median, axis=1)
    uniform = float((distance > OUTLIER_DISTANCE).mean()) <= MAX_OUTLIER_SHARE
    lightness, a, b = (float(v) for v in median)
    chroma = float(np.hypot(a - 128, b - 128))
    kind: Background | None = None
    if lightness >= WHITE_MIN_L and chroma <= WHITE_MAX_CHROMA:
        kind = "white"
    elif b <= BLUE_MAX_B and abs(a - 128) <= BLUE_MAX_ABS_A and b < a:
        kind = "blue"
    colour = tuple(int(v) for v in np.median(samples_rgb, axis=0))
    return BackgroundReading(
        colour=(colour[0], colour[1], colour[2]), kind=kind, uniform=uniform, lightness=lightness
    )


def is_grayscale(rgb: np.ndarray) -> bool:
    lab = _lab(np.ascontiguousarray(_sparse(rgb)))
    chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    return float(np.percentile(chroma, 99.5)) < GRAYSCALE_MAX_CHROMA


def _crop(grey: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    height, width = grey.shape
    left, top = max(0, round(x0)), max(0, round(y0))
    right, bottom = min(width, round(x1)), min(height, round(y1))
    if right - left < 2 or bottom - top < 2:
        return np.zeros((0, 0), grey.dtype)
    return grey[top:bottom, left:right]


def face_centre(grey: np.ndarray, face: Face) -> np.ndarray:
    """The middle of the face box (eyes, nose, mouth, cheeks; little hair or background)."""
    return _crop(
        grey,
        face.x + 0.2 * face.width,
        face.y + 0.2 * face.height,
        face.x + 0.8 * face.width,
        face.y + 0.85 * face.height,
    )


def sharpness(grey: np.ndarray, face: Face) -> float:
    region = _crop(grey, face.x, face.y, face.x + face.width, face.y + face.height)
    if region.size == 0:
        return 0.0
    height = max(2, round(region.shape[0] * SHARPNESS_WIDTH / region.shape[1]))
    region = cv2.resize(region, (SHARPNESS_WIDTH, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    variance = float(region.var())
    if variance < 1.0:
        return 0.0
    return float(cv2.Laplacian(region, cv2.CV_32F).var()) / variance


@dataclass(frozen=True)
class Exposure:
    mean: float
    clipped_share: float

    @property
    def too_dark(self) -> bool:
        return self.mean < FACE_DARK

    @property
    def too_bright(self) -> bool:
        return self.mean > FACE_BRIGHT or self.clipped_share > MAX_CLIPPED_SHARE

    @property
    def fixable(self) -> bool:
        if self.too_dark:
            return self.mean >= FIXABLE_DARK
        return self.clipped_share <= FIXABLE_CLIPPED_SHARE

    def gamma(self) -> float:
        """The gamma that brings the face's mean grey to a natural level, leaving white white."""
        mean = min(max(self.mean, 1.0), 254.0)
        return float(np.log(TARGET_FACE_GREY / 255) / np.log(mean / 255))


def exposure(grey: np.ndarray, face: Face) -> Exposure:
    region = face_centre(grey, face)
    if region.size == 0:
        return Exposure(mean=128.0, clipped_share=0.0)
    return Exposure(mean=float(region.mean()), clipped_share=float((region >= 250).mean()))


def _contrast(
    grey: np.ndarray, centre: Point, half_width: float, half_height: float, face_mean: float
) -> float:
    patch = _crop(
        grey, centre[0] - half_width, centre[1] - half_height, centre[0] + half_width, centre[1] + half_height
    )
    if patch.size == 0:
        return 0.0
    return float(patch.std()) * 128 / max(face_mean, 20.0)


@dataclass(frozen=True)
class Visibility:
    left_eye: bool
    right_eye: bool
    mouth: bool
    mouth_left: bool
    mouth_right: bool

    @property
    def half_face_hidden(self) -> bool:
        return (not self.left_eye and not self.mouth_left) or (not self.right_eye and not self.mouth_right)

    @property
    def feature_hidden(self) -> bool:
        return not (self.left_eye and self.right_eye and self.mouth)


def visibility(grey: np.ndarray, face: Face) -> Visibility:
    """Whether each eye and the mouth show real detail at the landmarks the mesh predicts (it predicts
    them even under a hand or a mask, so the pixels have to confirm them)."""
    unit = max(face.eye_distance, 4.0)
    centre = face_centre(grey, face)
    face_mean = float(centre.mean()) if centre.size else 128.0

    def shows(point: Point, half_width: float, half_height: float) -> bool:
        return _contrast(grey, point, half_width, half_height, face_mean) >= MIN_FEATURE_CONTRAST

    mouth_half_width = max(abs(face.mouth_right[0] - face.mouth_left[0]) / 2, 0.15 * unit)
    return Visibility(
        left_eye=shows(face.left_eye, 0.15 * unit, 0.15 * unit),
        right_eye=shows(face.right_eye, 0.15 * unit, 0.15 * unit),
        mouth=shows(face.mouth_centre, mouth_half_width, 0.12 * unit),
        mouth_left=shows(face.mouth_left, 0.12 * unit, 0.12 * unit),
        mouth_right=shows(face.mouth_right, 0.12 * unit, 0.12 * unit),
    )


HALF_FACE_BACKGROUND_SHARE = 0.5
_BACKGROUND_DISTANCE = 18


def half_face_is_background(rgb: np.ndarray, face: Face, colour: tuple[int, int, int]) -> bool:
    """Whether one side of the face box (split at the nose) is mostly background: a face half hidden
    behind something the colour of the wall, or half outside a cut-out."""
    split = round(face.nose[0])
    top, bottom = max(0, round(face.y)), min(rgb.shape[0], round(face.y + face.height))
    sides = (
        rgb[top:bottom, max(0, round(face.x)) : split],
        rgb[top:bottom, split : round(face.x + face.width)],
    )
    reference = _lab(np.array([[colour]], np.uint8))[0, 0]
    for side in sides:
        if side.size == 0:
            return True
        distance = np.linalg.norm(_lab(np.ascontiguousarray(side)) - reference, axis=2)
        if float((distance < _BACKGROUND_DISTANCE).mean()) > HALF_FACE_BACKGROUND_SHARE:
            return True
    return False
