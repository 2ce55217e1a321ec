"""`POST /api/photos/check`: the photo check over HTTP, for the chat actions before the final upload.

Stateless and without login: it keeps nothing. With `fix=true` the answer carries the repaired
photo (base64), ready to send to the management system's photo slot.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from services.photos.check import BOTH_BACKGROUNDS, WHITE_ONLY, check_photo_async
from services.photos.fix import fix_photo_async

router = APIRouter(prefix="/api/photos", tags=["photos"])


class ProblemOut(BaseModel):
    code: str
    message: str
    fixable: bool


class FixedOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    size: int = Field(alias="bytes")
    width: int
    height: int
    content_base64: str


class CheckAnswer(BaseModel):
    ok: bool
    problems: list[ProblemOut]
    fixed: FixedOut | None = None


@router.post("/check", response_model=CheckAnswer, response_model_by_alias=True)
async def check(file: UploadFile, fix: bool = False, white_only: bool = False) -> CheckAnswer:
    """Every problem of the photo; with `fix`, also the repaired photo when all are fixable (or the
    photo itself when it already passes). `white_only` applies the management system's rule."""
    data = await file.read()
    backgrounds = WHITE_ONLY if white_only else BOTH_BACKGROUNDS
    if not fix:
        report = await check_photo_async(data, backgrounds=backgrounds)
        return CheckAnswer(ok=report.ok, problems=[ProblemOut(**p.as_dict()) for p in report.problems])
    outcome = await fix_photo_async(data, backgrounds=backgrounds)
    fixed = outcome.fixed
    return CheckAnswer(
        ok=fixed is not None,
        problems=[ProblemOut(**p.as_dict()) for p in outcome.original.problems],
        fixed=FixedOut(
            size=len(fixed.data),
            width=fixed.width,
            height=fixed.height,
            content_base64=base64.b64encode(fixed.data).decode(),
        )
        if fixed
        else None,
    )
