"""The shipped TFLite models load with OpenCV alone and answer in the shapes the code expects."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from services.photos.networks import FACE_DETECTION, FACE_MESH, MODELS, SEGMENTATION

SHA256 = {
    SEGMENTATION: "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    FACE_MESH: "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    FACE_DETECTION: "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
}


@pytest.mark.parametrize(
    ("name", "size", "shapes"),
    [
        (SEGMENTATION, 256, [(1, 1, 256, 256)]),
        (FACE_MESH, 192, [(1, 1404, 1, 1), (1, 1, 1, 1)]),
        (FACE_DETECTION, 128, [(1, 896, 1), (1, 896, 16)]),
    ],
)
def test_each_model_loads_with_opencv(name: str, size: int, shapes: list[tuple[int, ...]]) -> None:
    path = MODELS / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256[name]
    assert SHA256[name] in (MODELS / "README.md").read_text()
    net = cv2.dnn.readNetFromTFLite(str(path))
    net.setInput(cv2.dnn.blobFromImage(np.full((size, size, 3), 128, np.uint8), 1 / 255))
    outputs = net.forward(net.getUnconnectedOutLayersNames())
    assert sorted(out.shape for out in outputs) == sorted(shapes)


def test_the_licence_ships_beside_them() -> None:
    assert "Apache License" in (MODELS / "LICENSE.txt").read_text()
