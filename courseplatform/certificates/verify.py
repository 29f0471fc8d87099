"""Is this PDF a genuine certificate of this school? (the verification page's upload)

Checks, in order, each with its own answer: the file (size, PDF header, readable by
pypdf), the signature in its document information (present, ours, over exactly the
fields it carries), the school (the fields name this school, and the certificate
exists here with the same fields), and the page itself (the student, the course and
the id printed on it are the signed ones: a PDF whose visible text was edited but
whose metadata was kept fails). A genuine but revoked certificate says so.
"""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from courseplatform.tenancy.models import School

from . import signing
from .models import Certificate
from .pdf import PAYLOAD_KEY, SIGNATURE_KEY
from .selectors import CODE_PATTERN

if TYPE_CHECKING:
    from pypdf import PdfReader

logger = logging.getLogger(__name__)

GENUINE = "genuine"
REVOKED = "revoked"
ALTERED = "altered"
NOT_OURS = "not_ours"


class UnreadableUpload(ValueError):
    """The upload is not a PDF we can read; the message says why."""


@dataclass(frozen=True)
class Verdict:
    outcome: str  # GENUINE, REVOKED, ALTERED or NOT_OURS
    message: str
    certificate: Certificate | None = None

    @property
    def is_genuine(self) -> bool:
        return self.outcome == GENUINE


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def read_pdf(upload: Any) -> PdfReader:
    from pypdf import PdfReader  # imported on use: see pdf._with_signature

    size = getattr(upload, "size", None)
    if not size:
        raise UnreadableUpload(_("The file is empty."))
    limit = settings.CERTIFICATE_UPLOAD_MAX_BYTES
    if size > limit:
        raise UnreadableUpload(
            _("The file is %(size)s MB; a certificate PDF is at most %(limit)s MB.")
            % {
                "size": number_format(size / 1048576, 1, use_l10n=True),
                "limit": number_format(limit / 1048576, 0, use_l10n=True),
            }
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    if b"%PDF-" not in data[:1024]:
        raise UnreadableUpload(_("This file is not a PDF."))
    try:
        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) < 1:
            raise UnreadableUpload(_("This PDF has no pages."))
        reader.metadata  # noqa: B018 - parse the document information now
    except UnreadableUpload:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise UnreadableUpload(_("This PDF is damaged and cannot be read.")) from exc
    return reader


def verify_pdf(*, school: School, upload: Any) -> Verdict:
    """The verdict on an uploaded PDF; UnreadableUpload for a file that is no PDF."""
    reader = read_pdf(upload)
    info: Any = reader.metadata or {}
    payload = info.get(PAYLOAD_KEY)
    signature = info.get(SIGNATURE_KEY)
    if not isinstance(payload, str) or not isinstance(signature, str):
        return Verdict(NOT_OURS, _("This PDF carries no certificate signature of this school."))
    if not signing.is_valid(payload, signature):
        return Verdict(
            ALTERED, _("The signature does not match: this PDF was changed after it was issued.")
        )
    try:
        fields = json.loads(payload)
    except ValueError:  # pragma: no cover - only our own key signs payloads
        return Verdict(ALTERED, _("The signed fields cannot be read."))
    code = str(fields.get("id", ""))
    if fields.get("school_id") != school.pk or not CODE_PATTERN.match(code):
        return Verdict(NOT_OURS, _("This certificate was not issued by this school."))
    certificate = Certificate.objects.filter(school=school, code=code).first()
    if certificate is None:
        return Verdict(NOT_OURS, _("This certificate was not issued by this school."))
    if signing.certificate_fields(certificate) != fields:
        return Verdict(
            ALTERED, _("The signed fields differ from the certificate this school issued.")
        )
    try:
        text = _normalise(reader.pages[0].extract_text() or "")
    except Exception:  # a page whose text cannot be extracted cannot be checked
        logger.info("certificate %s: text extraction failed", certificate.pk, exc_info=True)
        text = ""
    printed = [certificate.student_name, certificate.course_title, certificate.code]
    if not all(_normalise(value) in text for value in printed):
        return Verdict(
            ALTERED,
            _(
                "The text on this PDF differs from what was signed: it was changed after it "
                "was issued."
            ),
            certificate,
        )
    if certificate.is_revoked:
        return Verdict(
            REVOKED,
            _("This certificate was issued by this school but has been revoked."),
            certificate,
        )
    return Verdict(
        GENUINE, _("This PDF is a genuine certificate issued by this school."), certificate
    )
