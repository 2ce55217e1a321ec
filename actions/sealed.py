"""Values a later turn needs but chat history must never hold — an ID number and a phone together log
in — travel in a slot sealed (Fernet: AES with an HMAC) under a key derived from the assistant's
service key. The tracker keeps carrying them from turn to turn as Rasa expects, under an external
Rasa server too, while the stored history holds only ciphertext nobody without the key can open, and
a seal older than two hours opens no more."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

MAX_AGE_SECONDS = 7200


def _fernet(service_key: str) -> Fernet:
    digest = hashlib.sha256(b"jianpei sealed slots\x00" + service_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(service_key: str, value: str) -> str:
    return _fernet(service_key).encrypt(value.encode()).decode()


def unseal(service_key: str, token: str) -> str | None:
    """The sealed value; None for a token tampered with, sealed under another key, or too old."""
    try:
        return _fernet(service_key).decrypt(token.encode(), ttl=MAX_AGE_SECONDS).decode()
    except (InvalidToken, ValueError):
        return None
