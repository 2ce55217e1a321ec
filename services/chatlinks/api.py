"""The chat front-end's routes, mounted by the backend app."""

from fastapi import APIRouter

from services.chatlinks import bindings, links, passwords, photos

router = APIRouter()
router.include_router(bindings.router)
router.include_router(photos.router)
router.include_router(passwords.router)
router.include_router(links.router)
