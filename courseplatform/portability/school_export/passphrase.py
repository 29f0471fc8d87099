"""The access codes of an export, encrypted with the owner's passphrase.

The format is OpenSSL's ``enc`` format, so the owner needs no program of ours to read
it: ``openssl enc -d -aes-256-cbc -pbkdf2 -iter 600000 -md sha256 -in
access_codes.csv.enc -out access_codes.csv``. That is ``Salted__``, an 8-byte random
salt, then AES-256-CBC (PKCS#7 padding) with the key and IV derived from the passphrase
by PBKDF2-HMAC-SHA256 (600,000 iterations, OWASP's figure for it). The file is secret,
not tamper-evident (CBC has no tag; OpenSSL's format has none to check): what protects
the zip as a whole is the signed, expiring download link to the owner's account.
Built on ``cryptography`` (already a dependency) rather than by hand.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

MAGIC = b"Salted__"
ITERATIONS = 600_000
MIN_LENGTH = 12
MAX_LENGTH = 200
OPENSSL_COMMAND = (
    "openssl enc -d -aes-256-cbc -pbkdf2 -iter 600000 -md sha256 "
    "-in access_codes.csv.enc -out access_codes.csv"
)


class DecryptError(ValueError):
    """Wrong passphrase or not such a file."""


def _key_iv(passphrase: str, salt: bytes) -> tuple[bytes, bytes]:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=48, salt=salt, iterations=ITERATIONS)
    derived = kdf.derive(passphrase.encode("utf-8"))
    return derived[:32], derived[32:]


def encrypt(data: bytes, passphrase: str) -> bytes:
    salt = os.urandom(8)
    key, iv = _key_iv(passphrase, salt)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return MAGIC + salt + encryptor.update(padded) + encryptor.finalize()


def decrypt(blob: bytes, passphrase: str) -> bytes:
    if len(blob) < 32 or not blob.startswith(MAGIC) or (len(blob) - 16) % 16:
        raise DecryptError("not an encrypted codes file")
    key, iv = _key_iv(passphrase, blob[8:16])
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(blob[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise DecryptError("wrong passphrase") from exc
