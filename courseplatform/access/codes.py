"""Code format, digests and encryption.

A code is 80 random bits from ``secrets`` written in Crockford base32 (no I, L,
O, U) as four groups of four: ``K7QM-3XTA-9BDR-W2HN``. People type codes from
paper and phones and paste them from documents, chats and PDFs, so input is
forgiving: Unicode is NFKC-normalised (full-width letters, non-breaking spaces),
case is ignored, every kind of whitespace, dash, hyphen and minus sign and every
invisible character (zero-width spaces, joiners, soft hyphens, direction marks)
is dropped, and the look-alikes O→0, I/L→1 are mapped. Anything else that is
left (a control character, punctuation, another script) makes it "not a code".
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from django.conf import settings

from courseplatform.ops import crypto

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 16  # 16 chars x 5 bits = 80 bits
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_ALLOWED = frozenset(ALPHABET)
MAX_INPUT_CHARS = 64

# Dashes that are not in the "Pd" category (Unicode's Dash property adds the first
# four; the rest are minus signs people meet in word processors).
_OTHER_DASHES = frozenset("\u2053\u207b\u208b\u2212\u2796\u02d7\u2043")
# Default_Ignorable_Code_Point characters outside the "Cf" (format) category:
# combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian and
# other variation selectors, and unassigned code points reserved as ignorable.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
)


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


def _is_separator(char: str) -> bool:
    """Whitespace, a dash of any kind, or a character that renders as nothing."""
    if char.isspace() or char in _OTHER_DASHES:
        return True
    if unicodedata.category(char) in ("Pd", "Cf"):
        return True
    point = ord(char)
    return any(low <= point <= high for low, high in _IGNORABLE_RANGES)


def normalize_code(raw: str) -> str:
    """Canonical form of what a person typed or pasted, or CodeFormatError."""
    if not isinstance(raw, str) or len(raw) > MAX_INPUT_CHARS:
        raise CodeFormatError("That is not a valid code.")
    composed = unicodedata.normalize("NFKC", raw)
    kept = "".join(char for char in composed if not _is_separator(char))
    cleaned = kept.upper().translate(_LOOKALIKES)
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
