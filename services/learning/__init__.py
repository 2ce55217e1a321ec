"""The continuing-education platform (继续教育平台): accounts, catalog, enrolment, no-skip learning,
assessment and the hours review that writes to the management system; plus its web player."""

from fastapi import APIRouter

from services.learning.api import router as api_router
from services.learning.player import router as player_router

router = APIRouter()
router.include_router(api_router)
router.include_router(player_router)

__all__ = ["router"]
