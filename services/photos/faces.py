"""Face detection with mediapipe's short-range face detector (BlazeFace, `models/`), run by OpenCV.

The network sees the picture shrunk into a 128x128 square (letterboxed, so faces keep their shape)
and scores 896 fixed anchors; each anchor's box and six points are decoded and overlapping boxes
are merged by score, as mediapipe does. It is meant for faces within about two metres of a phone,
which is every ID photo and selfie, and costs a few milliseconds where MTCNN's image pyramid cost
tens.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from services.photos.networks import FACE_DETECTION, network

INPUT = 128
# mediapipe's own threshold: a face half outside the picture scores 0.6, whole ones 0.8-0.96; the
# mesh then confirms the main face (a cat's scores 0.49)
MIN_CONFIDENCE = 0.5
CLEAR_CONFIDENCE = 0.75  # below this everywhere, the picture is searched again in tiles
TILE_SHARE = 0.5  # a tile's side, of the picture's longer side (tiles overlap by half)
OVERLAP = 0.3  # boxes overlapping more than this (intersection over union) are one face
# Faces narrower than this share of the picture's shorter side are prints, badges or noise.
MIN_FACE_SHARE = 0.06

Point = tuple[float, float]


@dataclass(frozen=True)
class Face:
    """One face in the coordinates of the picture it was found in. The detector gives the mouth's
    centre only, so its faces carry that point in both corners; the mesh's faces carry the corners."""

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
def anchors() -> np.ndarray:
    """The detector's anchor centres (896 x 2, in 0..1): two per cell of a 16x16 grid, then six per
    cell of an 8x8 grid (mediapipe's SSD anchors for this model, all of unit size)."""
    centres = []
    for cells, per_cell in ((16, 2), (8, 6)):
        for row in range(cells):
            for column in range(cells):
                centres.extend([((column + 0.5) / cells, (row + 0.5) / cells)] * per_cell)
    return np.array(centres, np.float32)


def detect(rgb: np.ndarray) -> list[Face]:
    """Confident faces in `rgb` (coordinates of `rgb`), largest first. When the whole picture shows
    no clear face, it is searched again in overlapping tiles, and the clear faces found there are
    taken instead: a face under a tenth of a phone photo's height is too small for the detector's
    128x128 view of the whole picture, and what it then answers is a guess."""
    height, width = rgb.shape[:2]
    faces = _search(rgb)
    if not any(face.confidence >= CLEAR_CONFIDENCE for face in faces):
        side = max(1, round(TILE_SHARE * max(height, width)))
        step = max(1, side // 2)
        tiled: list[Face] = []
        for top in range(0, max(1, height - side + step), step):
            for left in range(0, max(1, width - side + step), step):
                shift = np.array([[1.0, 0.0, left], [0.0, 1.0, top]])
                tile = rgb[top : top + side, left : left + side]
                tiled.extend(face.transformed(shift) for face in _search(tile) if _clear_within(face, tile))
        faces = tiled or faces
    smallest = MIN_FACE_SHARE * min(height, width)
    return sorted(
        _distinct(f for f in faces if f.width >= smallest), key=lambda face: face.area, reverse=True
    )


def _clear_within(face: Face, tile: np.ndarray) -> bool:
    """A clear face wholly inside `tile`: one cut by the tile's edge gets a box that is a guess."""
    height, width = tile.shape[:2]
    inside = face.x >= 0 and face.y >= 0 and face.x + face.width <= width and face.y + face.height <= height
    return inside and face.confidence >= CLEAR_CONFIDENCE


def _distinct(faces: Iterable[Face]) -> list[Face]:
    """One face per person: a face whose centre lies in a more confident face's box, or whose box
    holds that face's centre, is that face seen again (from another tile, or cut by a tile's edge)."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda face: face.confidence, reverse=True):
        if not any(_holds_centre(face, other) or _holds_centre(other, face) for other in kept):
            kept.append(face)
    return kept


def _holds_centre(face: Face, other: Face) -> bool:
    x, y = other.x + other.width / 2, other.y + other.height / 2
    return face.x <= x <= face.x + face.width and face.y <= y <= face.y + face.height


def _search(rgb: np.ndarray) -> list[Face]:
    """The detector's faces in `rgb`, shrunk whole into its 128x128 input."""
    height, width = rgb.shape[:2]
    scale = INPUT / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    square = np.zeros((INPUT, INPUT, 3), np.uint8)
    left, top = (INPUT - size[0]) // 2, (INPUT - size[1]) // 2
    square[top : top + size[1], left : left + size[0]] = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    blob = cv2.dnn.blobFromImage(square, 1 / 127.5, mean=(127.5, 127.5, 127.5))
    scores, boxes = network(FACE_DETECTION).run(blob)
    scores = 1 / (1 + np.exp(-np.clip(scores.reshape(-1).astype(np.float64), -100, 100)))
    chosen = np.flatnonzero(scores >= MIN_CONFIDENCE)
    if chosen.size == 0:
        return []
    # x, y, width, height, then six x, y points, all in input pixels relative to the anchor
    raw = boxes.reshape(-1, 16)[chosen] / INPUT
    raw[:, 0::2] += anchors()[chosen, :1]
    raw[:, 1::2] += anchors()[chosen, 1:]
    raw[:, 2:4] -= anchors()[chosen]  # width and height are not offsets
    to_picture = np.array([[1 / scale, 0, -left / scale], [0, 1 / scale, -top / scale]]) * [INPUT, INPUT, 1]
    return [_face(values, float(score), to_picture) for values, score in _merged(raw, scores[chosen])]


def _merged(raw: np.ndarray, scores: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """Overlapping detections averaged by score into one (mediapipe's weighted suppression)."""
    order = list(np.argsort(-scores))
    corners = np.hstack([raw[:, :2] - raw[:, 2:4] / 2, raw[:, :2] + raw[:, 2:4] / 2])
    merged = []
    while order:
        best = order[0]
        rest = corners[order]
        inner = np.clip(
            np.minimum(rest[:, 2:], corners[best, 2:]) - np.maximum(rest[:, :2], corners[best, :2]), 0, None
        )
        common = inner[:, 0] * inner[:, 1]
        areas = (rest[:, 2] - rest[:, 0]) * (rest[:, 3] - rest[:, 1])
        union = areas + areas[0] - common
        overlapping = common / np.maximum(union, 1e-9) > OVERLAP
        group = [index for index, same in zip(order, overlapping, strict=True) if same]
        weights = scores[group][:, None]
        merged.append(((raw[group] * weights).sum(axis=0) / weights.sum(), float(scores[best])))
        order = [index for index, same in zip(order, overlapping, strict=True) if not same]
    return merged


def _face(values: np.ndarray, score: float, to_picture: np.ndarray) -> Face:
    """A face from one decoded detection (0..1 of the input square), in picture coordinates."""
    centre_x, centre_y, box_width, box_height = (float(v) for v in values[:4])
    points = values[4:].reshape(6, 2)  # the subject's right eye, left eye, nose tip, mouth, ears
    square = Face(
        x=centre_x - box_width / 2,
        y=centre_y - box_height / 2,
        width=box_width,
        height=box_height,
        confidence=score,
        left_eye=(float(points[0, 0]), float(points[0, 1])),
        right_eye=(float(points[1, 0]), float(points[1, 1])),
        nose=(float(points[2, 0]), float(points[2, 1])),
        mouth_left=(float(points[3, 0]), float(points[3, 1])),
        mouth_right=(float(points[3, 0]), float(points[3, 1])),
    )
    return square.transformed(to_picture)
