"""The TFLite networks shipped in `models/` (from the mediapipe wheel, see its README), run by OpenCV.

Each network is read once per process on first use; an OpenCV network is not safe to run from two
threads at once, so each has its own lock (the API runs checks in worker threads).
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

import cv2
import numpy as np

MODELS = Path(__file__).parent / "models"
SEGMENTATION = "selfie_segmentation.tflite"
FACE_MESH = "face_landmark.tflite"
FACE_DETECTION = "face_detection_short_range.tflite"


class Network:
    """One network and the lock that serialises its use."""

    def __init__(self, name: str) -> None:
        self.net = cv2.dnn.readNetFromTFLite(str(MODELS / name))
        self.outputs = list(self.net.getUnconnectedOutLayersNames())
        self.lock = threading.Lock()

    def run(self, blob: np.ndarray) -> list[np.ndarray]:
        with self.lock:
            self.net.setInput(blob)
            return [np.array(out) for out in self.net.forward(self.outputs)]


@cache
def network(name: str) -> Network:
    return Network(name)
