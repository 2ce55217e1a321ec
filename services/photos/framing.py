"""Standard head framing for a 1-inch (25x35 mm, 295x413 px) photo, measured on the face box that the
face mesh gives (`mesh.Mesh.face`: a brow-to-chin box placed by the forehead, chin and cheek points).

The box runs from the brow to the chin; the crown sits about half a box height above it. In the
standard frame the box is 42% of the photo's height with its top at 26%, which leaves the crown
about 7% below the top edge and the shoulders in view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.photos.faces import Face
from services.photos.problems import TARGET_HEIGHT, TARGET_WIDTH

STANDARD_FACE_HEIGHT = 0.42
STANDARD_FACE_TOP = 0.26
MIN_FACE_HEIGHT = 0.32
MAX_FACE_HEIGHT = 0.54
CROWN_ABOVE_BOX = 0.25  # in box heights: less room than this above the box and the crown is cut
EDGE_MARGIN = 2.0  # pixels; a box this close to the border is cut by it
TARGET_ASPECT = TARGET_WIDTH / TARGET_HEIGHT
ASPECT_TOLERANCE = 0.015
MAX_TILT_DEGREES = 8.0
MAX_FIXABLE_TILT_DEGREES = 25.0
# The fixer may enlarge a little (a 5% short photo looks the same) and lay a little plain
# background beyond the top and sides; never below, where the shoulders would end in the air.
MIN_SOURCE_SHARE = 0.8
MAX_PAD_SHARE = 0.12
MAX_BOTTOM_PAD_SHARE = 0.02


@dataclass(frozen=True)
class Crop:
    """A rectangle in picture coordinates (it may reach past the edges) and the tilt to undo."""

    x: float
    y: float
    width: float
    height: float
    roll_degrees: float = 0.0

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


def touches_edge(face: Face, width: int, height: int) -> bool:
    points = (face.left_eye, face.right_eye, face.nose, face.mouth_left, face.mouth_right)
    outside = any(not (0 <= x < width and 0 <= y < height) for x, y in points)
    return (
        outside
        or face.x <= EDGE_MARGIN
        or face.y <= EDGE_MARGIN
        or face.x + face.width >= width - EDGE_MARGIN
        or face.y + face.height >= height - EDGE_MARGIN
    )


def crown_cut(face: Face) -> bool:
    return face.y < CROWN_ABOVE_BOX * face.height


def rotate_point(
    point: tuple[float, float], centre: tuple[float, float], degrees: float
) -> tuple[float, float]:
    """`point` turned by `degrees` about `centre` the way OpenCV's rotation matrix turns pixels."""
    angle = math.radians(degrees)
    dx, dy = point[0] - centre[0], point[1] - centre[1]
    return (
        centre[0] + dx * math.cos(angle) + dy * math.sin(angle),
        centre[1] - dx * math.sin(angle) + dy * math.cos(angle),
    )


def standard_crop(face: Face, *, level: bool) -> Crop:
    """The standard frame around `face`; with `level`, in the picture turned so the eyes are level
    (turned about the eye centre, which therefore stays put)."""
    roll = face.roll_degrees if level else 0.0
    centre_x = face.x + face.width / 2
    centre_y = face.y + face.height / 2
    if roll:
        centre_x, centre_y = rotate_point((centre_x, centre_y), face.eye_centre, roll)
    height = face.height / STANDARD_FACE_HEIGHT
    width = height * TARGET_ASPECT
    top = centre_y - face.height / 2 - STANDARD_FACE_TOP * height
    return Crop(x=centre_x - width / 2, y=top, width=width, height=height, roll_degrees=roll)


@dataclass(frozen=True)
class CropVerdict:
    feasible: bool
    reason: str = ""


def judge_crop(crop: Crop, width: int, height: int, *, scale: float, can_pad: bool) -> CropVerdict:
    """Whether the fixer can make a good 295x413 photo from `crop` of a `width` x `height` picture
    holding `scale` of the original's pixels per original pixel."""
    if crop.width / scale < MIN_SOURCE_SHARE * TARGET_WIDTH:
        return CropVerdict(False, "照片像素太少，人像放大后会模糊")
    pad_top = max(0.0, -crop.y) / crop.height
    pad_bottom = max(0.0, crop.bottom - height) / crop.height
    pad_side = max(0.0, -crop.x, crop.right - width) / crop.width
    if pad_bottom > MAX_BOTTOM_PAD_SHARE:
        return CropVerdict(False, "人像太靠下，要把肩膀也拍进去")
    if max(pad_top, pad_side) > (MAX_PAD_SHARE if can_pad else MAX_BOTTOM_PAD_SHARE):
        return CropVerdict(False, "人像离照片边缘太近，头部周围要多留些背景")
    return CropVerdict(True)
