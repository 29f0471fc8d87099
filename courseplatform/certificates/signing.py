"""The signature a certificate's PDF carries: HMAC-SHA256 over its fields.

The signed fields are a canonical JSON object (sorted keys, no spaces, UTF-8): the
certificate id, the school's id and name, the student's name, the course title, the
certificate title and the issue date. The PDF keeps that JSON and the signature in its
document information (``/CertificatePayload``, ``/CertificateSignature``), where
``verify_pdf`` finds them again; changing any field, or the signature, breaks it.

Keys come from ``CERTIFICATE_SIGNING_KEYS`` (newest first): the first signs, any
verifies, so keys can be rotated without failing older PDFs. The signature names no
key: every configured key is tried (a handful at most).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from .models import Certificate

VERSION = 1
SIGNATURE_PREFIX = "hmac-sha256:"


def certificate_fields(certificate: Certificate) -> dict[str, Any]:
    """What the signature covers: exactly the certificate as issued."""
    return {
        "v": VERSION,
        "id": certificate.code,
        "school_id": certificate.school_id,
        "school": certificate.school_name,
        "student": certificate.student_name,
        "course": certificate.course_title,
        "title": certificate.title,
        "issued": certificate.issued_at.date().isoformat(),
    }


def canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _mac(key: str, payload: str) -> str:
    return hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()


def sign(payload: str) -> str:
    return SIGNATURE_PREFIX + _mac(settings.CERTIFICATE_SIGNING_KEYS[0], payload)


def is_valid(payload: str, signature: str) -> bool:
    """Whether ``signature`` is ours over exactly ``payload`` (constant-time compare)."""
    if not signature.startswith(SIGNATURE_PREFIX):
        return False
    mac = signature.removeprefix(SIGNATURE_PREFIX)
    valid = False
    for key in settings.CERTIFICATE_SIGNING_KEYS:
        valid |= hmac.compare_digest(_mac(key, payload), mac)
    return valid
