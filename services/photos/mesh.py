"""The 468-point face mesh (mediapipe's face_landmark model, run by OpenCV) on the face the detector found.

A detector's box moves by several per cent of the face when the same photo is saved again, which
was enough to flip the face-size verdict. The mesh is fitted to the face itself and moves far less,
so the frame, the head's pose and the state of eyes and mouth are read from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from services.photos.faces import Face, Point
from services.photos.networks import FACE_MESH, network

INPUT = 192
# The crop's side: in the detector box's sides for the first fit, in the first mesh's extent for the
# second (mediapipe's own margin; the model wants the whole face with room around it).
DETECTION_CROP = 1.6
MESH_CROP = 1.5
# The mesh's face score: 1.0 on the tests' portraits and the cameraman, below 0.02 on the cat the
# detector mistakes for a face.
MIN_FACE_SCORE = 0.5

# Points of the canonical mesh (the subject's right is the picture's left).
FOREHEAD, CHIN, NOSE_TIP = 10, 152, 1
CHEEK_LEFT, CHEEK_RIGHT = 234, 454  # the picture's left and right edge of the face
MOUTH_LEFT, MOUTH_RIGHT, LIP_UPPER, LIP_LOWER = 61, 291, 13, 14
# each eye: outer corner, inner corner, upper lid, lower lid (left and right in the picture)
EYE_LEFT = (33, 133, 159, 145)
EYE_RIGHT = (263, 362, 386, 374)
# The face box the checks' limits were set on (the brow-to-chin box of MTCNN, the detector once
# used) in mesh terms, fitted on the tests' portraits: its top lies this share of the
# forehead-to-chin distance above the forehead point, its bottom this share above the chin point,
# and it is this share of the cheek-to-cheek width wide.
BOX_TOP = 0.08
BOX_BOTTOM = 0.055
BOX_WIDTH = 0.943

# Pose and expression limits, set on the tests' portraits with a margin both ways. A frontal face
# reads a pitch of about -12 degrees (the mesh's forehead point sits behind its chin point).
MAX_YAW_DEGREES = 10.0
LEVEL_PITCH_DEGREES = -12.0
MAX_PITCH_DEGREES = 10.0
# Eyes count as shut when the lids are close (open eyes read 0.33-0.40) and an eye shows no dark
# iris: the mesh alone also reads narrow or squinting eyes as nearly shut.
SHUT_EYE_OPENNESS = 0.28
IRIS_DARK_SHARE = 0.2  # of the eye's middle darker than IRIS_DARKNESS of the face's mean grey
IRIS_DARKNESS = 0.55
OPEN_MOUTH = 0.3  # a smile showing the teeth reads about 0.2
# Glare on glasses: white (every channel at least GLARE_WHITE) over more than MAX_GLARE_SHARE of a
# lens-sized ellipse about either eye. The catch-lights in bare eyes cover about 0.005 of it; a
# reflection over the eye 0.08 and more (drawn lenses, see tests/photos).
GLARE_WHITE = 235
MAX_GLARE_SHARE = 0.04
LENS = (0.75, 0.5)  # the ellipse's half-axes in eye widths


@dataclass(frozen=True)
class Mesh:
    points: np.ndarray  # 468 x 3: x, y in picture pixels, z (depth) in the same scale
    score: float  # 0..1, how sure the model is that a face fills the crop

    def at(self, index: int) -> Point:
        return (float(self.points[index, 0]), float(self.points[index, 1]))

    def _eye(self, indices: tuple[int, int, int, int]) -> tuple[Point, float]:
        outer, inner, upper, lower = (self.points[i, :2] for i in indices)
        centre = (outer + inner) / 2
        width = float(np.linalg.norm(outer - inner))
        return (float(centre[0]), float(centre[1])), float(np.linalg.norm(upper - lower)) / max(width, 1.0)

    @property
    def eye_openness(self) -> float:
        """The more closed eye's lid gap over its width (about 0.3 open, under 0.1 shut)."""
        return min(self._eye(EYE_LEFT)[1], self._eye(EYE_RIGHT)[1])

    @property
    def mouth_openness(self) -> float:
        """The gap between the inner lips over the mouth's width."""
        gap = float(np.linalg.norm(self.points[LIP_UPPER, :2] - self.points[LIP_LOWER, :2]))
        width = float(np.linalg.norm(self.points[MOUTH_LEFT, :2] - self.points[MOUTH_RIGHT, :2]))
        return gap / max(width, 1.0)

    @property
    def pose(self) -> tuple[float, float, float]:
        """Yaw (turned left or right), pitch (chin up or down) and roll in degrees, from the 3D
        directions across the face (cheek to cheek) and down it (forehead to chin)."""
        across = self.points[CHEEK_RIGHT] - self.points[CHEEK_LEFT]
        down = self.points[CHIN] - self.points[FOREHEAD]
        yaw = math.degrees(math.atan2(float(across[2]), float(np.hypot(across[0], across[1]))))
        pitch = math.degrees(math.atan2(-float(down[2]), float(np.hypot(down[0], down[1]))))
        left, right = self._eye(EYE_LEFT)[0], self._eye(EYE_RIGHT)[0]
        roll = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
        return yaw, pitch, roll

    def iris_share(self, grey: np.ndarray, face_mean: float) -> float:
        """The share of the middle of the less open-looking eye that is as dark as an iris: an open
        eye, however narrow, shows one; a shut eye is lid skin and a line of lashes."""
        shares = []
        for outer, inner, _upper, _lower in (EYE_LEFT, EYE_RIGHT):
            a, b = self.points[outer, :2], self.points[inner, :2]
            centre, width = (a + b) / 2, float(np.linalg.norm(a - b))
            mask = np.zeros(grey.shape, np.uint8)
            axes = (max(1, round(0.4 * width)), max(1, round(0.15 * width)))
            cv2.ellipse(mask, (round(float(centre[0])), round(float(centre[1]))), axes, 0, 0, 360, 1, -1)
            inside = grey[mask > 0]
            shares.append(float((inside < IRIS_DARKNESS * face_mean).mean()) if inside.size else 0.0)
        return min(shares)

    def glare_share(self, rgb: np.ndarray) -> float:
        """The larger share of white pixels in the lens area about either eye: a light reflected by
        glasses hides the eye behind a white patch far larger than the eye's own catch-light."""
        shares = []
        for outer, inner, _upper, _lower in (EYE_LEFT, EYE_RIGHT):
            a, b = self.points[outer, :2], self.points[inner, :2]
            centre, width = (a + b) / 2, float(np.linalg.norm(a - b))
            axes = (max(1, round(LENS[0] * width)), max(1, round(LENS[1] * width)))
            left = max(0, round(float(centre[0])) - axes[0])
            top = max(0, round(float(centre[1])) - axes[1])
            window = rgb[top : top + 2 * axes[1] + 1, left : left + 2 * axes[0] + 1]
            mask = np.zeros(window.shape[:2], np.uint8)
            middle = (round(float(centre[0])) - left, round(float(centre[1])) - top)
            cv2.ellipse(mask, middle, axes, 0, 0, 360, 1, -1)
            inside = window[mask > 0]
            shares.append(float((inside.min(axis=1) >= GLARE_WHITE).mean()) if inside.size else 0.0)
        return max(shares)

    def face(self, confidence: float) -> Face:
        """The face as the rest of the check measures it: the brow-to-chin box and five points taken
        from the mesh, turned with the head's roll."""
        forehead, chin = self.points[FOREHEAD, :2], self.points[CHIN, :2]
        down = chin - forehead
        top, bottom = forehead - BOX_TOP * down, chin - BOX_BOTTOM * down
        height = float(np.linalg.norm(bottom - top))
        width = float(np.linalg.norm(self.points[CHEEK_RIGHT, :2] - self.points[CHEEK_LEFT, :2])) * BOX_WIDTH
        centre_x = float(self.points[CHEEK_LEFT, 0] + self.points[CHEEK_RIGHT, 0]) / 2
        centre_y = float(top[1] + bottom[1]) / 2
        return Face(
            x=centre_x - width / 2,
            y=centre_y - height / 2,
            width=width,
            height=height,
            confidence=confidence,
            left_eye=self._eye(EYE_LEFT)[0],
            right_eye=self._eye(EYE_RIGHT)[0],
            nose=self.at(NOSE_TIP),
            mouth_left=self.at(MOUTH_LEFT),
            mouth_right=self.at(MOUTH_RIGHT),
        )


def fit(rgb: np.ndarray, face: Face) -> Mesh:
    """The mesh of `face` in `rgb`, fitted twice as mediapipe tracks a face: first on a crop around
    the detector's box, then on a crop around that mesh itself, so the answer depends on the face
    and not on where the detector happened to put its box."""
    first = _fitted(
        rgb,
        (face.x + face.width / 2, face.y + face.height / 2),
        DETECTION_CROP * max(face.width, face.height),
        face.roll_degrees,
    )
    if first.score < MIN_FACE_SCORE:
        return first
    roll = first.pose[2]
    turn = cv2.getRotationMatrix2D((0.0, 0.0), roll, 1.0)[:, :2]  # picture -> level face
    level = first.points[:, :2] @ turn.T
    low, high = level.min(axis=0), level.max(axis=0)
    centre = ((low + high) / 2) @ turn  # back to the picture: the inverse of a rotation is its transpose
    return _fitted(rgb, (float(centre[0]), float(centre[1])), MESH_CROP * float((high - low).max()), roll)


def _fitted(rgb: np.ndarray, centre: Point, side: float, roll_degrees: float) -> Mesh:
    """The mesh in the square of `side` pixels about `centre`, cut out turned by `roll_degrees`."""
    matrix = cv2.getRotationMatrix2D(centre, roll_degrees, INPUT / side)
    matrix[0, 2] += INPUT / 2 - centre[0]
    matrix[1, 2] += INPUT / 2 - centre[1]
    crop = cv2.warpAffine(rgb, matrix, (INPUT, INPUT), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    outputs = network(FACE_MESH).run(cv2.dnn.blobFromImage(crop, 1 / 255))
    coordinates = next(out for out in outputs if out.size == 468 * 3).reshape(468, 3)
    logit = float(next(out for out in outputs if out.size == 1).ravel()[0])
    inverse = cv2.invertAffineTransform(matrix)
    xy = coordinates[:, :2] @ inverse[:, :2].T + inverse[:, 2]
    z = coordinates[:, 2:] * side / INPUT
    return Mesh(points=np.hstack([xy, z]), score=1 / (1 + math.exp(-max(min(logit, 50.0), -50.0))))
