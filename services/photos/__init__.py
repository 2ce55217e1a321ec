"""Photo validation and repair for both systems' ID photo (JPEG/PNG, white or blue, 295x413, 30,000 bytes).

`check_photo` lists every problem with a stable code, a Chinese message and whether `fix_photo` can
mend it; the `*_async` forms run the CPU work in a worker thread for the API.
"""

from services.photos.check import BOTH_BACKGROUNDS, WHITE_ONLY, Report, check_photo, check_photo_async
from services.photos.fix import Fixed, FixOutcome, fix_photo, fix_photo_async
from services.photos.problems import CODES, GUIDANCE, MAX_BYTES, TARGET_HEIGHT, TARGET_WIDTH, Problem

__all__ = [
    "BOTH_BACKGROUNDS",
    "CODES",
    "GUIDANCE",
    "MAX_BYTES",
    "TARGET_HEIGHT",
    "TARGET_WIDTH",
    "WHITE_ONLY",
    "FixOutcome",
    "Fixed",
    "Problem",
    "Report",
    "check_photo",
    "check_photo_async",
    "fix_photo",
    "fix_photo_async",
]
