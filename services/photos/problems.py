"""The problems a photo can have: stable codes, what to tell the trainee, and whether the fixer can help.

Codes are a contract (the CLI's JSON, the registry's refusals and the chat all key on them); the
messages are plain Chinese and say what to do next.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, get_args

Code = Literal[
    "unreadable",
    "format",
    "file_size",
    "resolution",
    "orientation",
    "aspect",
    "no_face",
    "multiple_faces",
    "face_incomplete",
    "face_occluded",
    "face_size",
    "head_tilt",
    "head_yaw",
    "head_pitch",
    "eyes_closed",
    "mouth_open",
    "glasses_glare",
    "background",
    "grayscale",
    "blurry",
    "exposure",
]

# Every code, in the order problems are reported.
CODES: tuple[Code, ...] = get_args(Code)

MAX_BYTES = 30_000
TARGET_WIDTH = 295
TARGET_HEIGHT = 413

# What no check can see; said to the trainee instead of pretending to detect it.
GUIDANCE = (
    "请用近三个月内的正面免冠彩色照片：不化妆、不戴帽子和墨镜，不要用美颜或修图软件处理。"
    "是否美颜、化妆，程序无法可靠判断，审核时由人工把关。"
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the photo; `fixable` means `--fix` will repair it without a new photo."""

    code: Code
    message: str
    fixable: bool = False

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
