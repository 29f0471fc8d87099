"""Code format, digests and encryption.

A code is 80 random bits from ``secrets`` written in Crockford base32 (no I, L,
O, U) as four groups of four: ``K7QM-3XTA-9BDR-W2HN``. People type codes from
paper and phones, so input is forgiving: case, spaces and hyphens are ignored
and the look-alikes O→0, I/L→1 are mapped.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

from courseplatform.ops import crypto

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 16  # 16 chars x 5 bits = 80 bits
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_ALLOWED = frozenset(ALPHABET)


class CodeFormatError(ValueError):
    pass


def generate_code() -> str:
    value = int.from_bytes(secrets.token_bytes(CODE_CHARS * 5 // 8), "big")
    chars = []
    for _ in range(CODE_CHARS):
        value, index = divmod(value, 32)
        chars.append(ALPHABET[index])
    return "".join(chars)


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize_code(raw: str) -> str:
    """Canonical form of what a person typed, or CodeFormatError."""
    if not isinstance(raw, str) or len(raw) > 64:
        raise CodeFormatError("That is not a valid code.")
    cleaned = "".join(raw.split()).replace("-", "").upper().translate(_LOOKALIKES)
    if len(cleaned) != CODE_CHARS or not set(cleaned) <= _ALLOWED:
        raise CodeFormatError(
            "That does not look like a code. Codes have 16 letters and digits, "
            "like K7QM-3XTA-9BDR-W2HN."
        )
    return cleaned


def code_digest(code: str) -> str:
    return hmac.new(settings.ACCESS_CODE_HMAC_KEY, code.encode(), hashlib.sha256).hexdigest()


def encrypt_code(code: str) -> str:
    return crypto.encrypt(code.encode())


def decrypt_code(ciphertext: str) -> str:
    try:
        return crypto.decrypt(ciphertext).decode()
    except crypto.DecryptionError as exc:
        raise ValueError("cannot decrypt: the key it was encrypted with is not configured") from exc


def reencrypt_code(ciphertext: str) -> str:
    """Re-encrypt with the current (first) key, for key rotation."""
    return crypto.rotate(ciphertext)
