"""Background replacement: mediapipe's selfie segmentation finds the person, the rest becomes a
plain white (or blue) wall.

The network sees the picture squeezed to 256x256 and answers a person probability per pixel; its
soft edge is kept as the alpha of hair. The new wall is laid in by un-mixing: where a pixel is part
person and part wall, the old wall's colour (estimated from the wall pixels around it) is taken out
and the new one put in, so a red wall leaves no red fringe; a band inside the edge also loses the
tint that light from a coloured wall casts on hair and cheeks.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from services.photos.faces import Face
from services.photos.networks import SEGMENTATION, network

INPUT = 256
# probabilities between these are the edge; below is wall, above is person
EDGE_LOW, EDGE_HIGH = 0.25, 0.75
# The mask is trusted when the face is person and little of the picture is undecided.
MIN_FACE_PERSON = 0.9
MAX_UNDECIDED_SHARE = 0.08
MIN_UNMIX_ALPHA = 0.1  # below this a pixel is too little person to recover its colour from
SPILL_BAND = 0.04  # of the picture's width: how far inside the edge the wall's tint is taken out
SPILL_STRENGTH = 0.8
PAINTS = {"white": (255, 255, 255), "blue": (67, 142, 219)}


@dataclass(frozen=True)
class PersonMask:
    """The network's person probability (INPUT x INPUT) for a picture of `size` (width, height)."""

    probability: np.ndarray
    size: tuple[int, int]
    undecided_share: float
    face_person: float  # mean probability inside the middle of the face

    @property
    def trusted(self) -> bool:
        return self.face_person >= MIN_FACE_PERSON and self.undecided_share <= MAX_UNDECIDED_SHARE

    def alpha(self, mapping: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """The person's alpha (float32, 1 = person) in a picture made from this one by the affine
        `mapping`, `size` pixels large: the small map is carried there in one warp, so no full-size
        copy of the photo's mask is ever made."""
        to_picture = np.array([[self.size[0] / INPUT, 0, 0], [0, self.size[1] / INPUT, 0], [0, 0, 1]])
        matrix = mapping @ to_picture
        probability = cv2.warpAffine(
            self.probability, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        alpha = np.clip((probability - EDGE_LOW) / (EDGE_HIGH - EDGE_LOW), 0.0, 1.0)
        return alpha * alpha * (3 - 2 * alpha)  # smoothstep: a soft edge without a grey halo


def person_mask(rgb: np.ndarray, face: Face) -> PersonMask:
    height, width = rgb.shape[:2]
    # squeezed with area averaging in one step (blobFromImage's own resize would not average)
    small = cv2.resize(rgb, (INPUT, INPUT), interpolation=cv2.INTER_AREA)
    blob = cv2.dnn.blobFromImage(small, 1 / 255, swapRB=False)
    probability = network(SEGMENTATION).run(blob)[0].reshape(INPUT, INPUT).astype(np.float32)
    undecided = float(((probability > 0.1) & (probability < 0.9)).mean())
    sx, sy = INPUT / width, INPUT / height
    x0, x1 = round((face.x + 0.25 * face.width) * sx), round((face.x + 0.75 * face.width) * sx)
    y0, y1 = round((face.y + 0.25 * face.height) * sy), round((face.y + 0.75 * face.height) * sy)
    middle = probability[max(0, y0) : max(1, y1 + 1), max(0, x0) : max(1, x1 + 1)]
    return PersonMask(probability, (width, height), undecided, float(middle.mean()) if middle.size else 0.0)


def _wall_behind(rgb: np.ndarray, alpha: np.ndarray, zone: np.ndarray) -> np.ndarray:
    """The old wall's colour at the `zone` pixels (N x 3), spread inwards from the wall around."""
    weight = (alpha < 0.05).astype(np.float32)
    size = max(3, (round(0.08 * rgb.shape[1]) // 2) * 2 + 1)
    spread_weight = cv2.blur(weight, (size, size))[zone][:, None]
    spread = cv2.blur(rgb.astype(np.float32) * weight[..., None], (size, size))[zone]
    mean = cv2.mean(rgb, mask=weight.astype(np.uint8))[:3] if weight.any() else (255.0, 255.0, 255.0)
    wall = spread / np.maximum(spread_weight, 1e-3)
    return np.where(spread_weight > 0.02, wall, np.array(mean, np.float32)).astype(np.float32)


def replace_background(rgb: np.ndarray, alpha: np.ndarray, paint: str = "white") -> np.ndarray:
    """`rgb` with everything but the person painted `paint`: each edge pixel's person colour is
    recovered by taking the old wall's share out, then laid on the new wall by the same share.
    Only the edge and the band inside it need that work; the rest is person or new wall."""
    new = np.array(PAINTS[paint], np.float32)
    person = alpha >= 1.0
    out = np.empty(rgb.shape, np.uint8)
    out[:] = PAINTS[paint]
    cv2.copyTo(rgb, person.astype(np.uint8), out)  # numpy's broadcast copyto costs twice as much
    band = max(1, round(SPILL_BAND * rgb.shape[1]))
    inside = cv2.distanceTransform((alpha > 0.5).astype(np.uint8), cv2.DIST_L2, 3)
    zone = ((alpha > 0) & ~person) | ((inside > 0) & (inside < band))
    if not zone.any():
        return out
    share = alpha[zone][:, None]
    picture = rgb[zone].astype(np.float32)
    wall = _wall_behind(rgb, alpha, zone)
    recovered = (picture - (1 - share) * wall) / np.maximum(share, MIN_UNMIX_ALPHA)
    recovered = np.where(share >= 1.0, picture, np.clip(recovered, 0, 255))
    spill = np.clip(1 - inside[zone] / band, 0, 1) * SPILL_STRENGTH
    recovered = _remove_spill(recovered, wall, spill)
    out[zone] = (share * recovered + (1 - share) * new).round().clip(0, 255).astype(np.uint8)
    return out


def _remove_spill(colours: np.ndarray, wall: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Take the wall's hue out of person colours (N x 3) near the edge: coloured light on hair."""
    lab = cv2.cvtColor((colours / 255).astype(np.float32)[None], cv2.COLOR_RGB2LAB)[0]
    tint = cv2.cvtColor((wall / 255).astype(np.float32)[None], cv2.COLOR_RGB2LAB)[0][:, 1:]
    length = np.linalg.norm(tint, axis=1, keepdims=True)
    direction = tint / np.maximum(length, 1e-3)
    along = np.clip((lab[:, 1:] * direction).sum(axis=1, keepdims=True), 0, None)
    lab[:, 1:] -= direction * along * weight[:, None] * np.clip(length / 20, 0, 1)
    return cv2.cvtColor(lab[None], cv2.COLOR_LAB2RGB)[0] * 255
