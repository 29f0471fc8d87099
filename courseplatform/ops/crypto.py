"""Encryption at rest for small secrets (access codes, video keys).

Fernet (AES-128-CBC + HMAC-SHA256) with a key list from ``ENCRYPTION_KEYS``,
newest first: encryption uses the first key, decryption tries them all, so a
new key can be rolled in before the old one is dropped (``rotate``).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(ValueError):
    pass


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(data: bytes) -> str:
    return _current().encrypt(data).decode()


def decrypt(token: str) -> bytes:
    try:
        return _current().decrypt(token.encode())
    except InvalidToken as exc:
        raise DecryptionError("cannot decrypt: its key is not in ENCRYPTION_KEYS") from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` under the current (first) key."""
    return _current().rotate(token.encode()).decode()
