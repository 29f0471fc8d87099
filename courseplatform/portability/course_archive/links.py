"""The signed, expiring download link of a finished export.

The token names the school and the export (its random uuid, never the row id) and is
signed with the secret key; it is valid ``COURSE_ARCHIVE_LINK_TTL_SECONDS`` and only
on the host of the school it names: another school's host, a changed character or an
old link is a 404 that says nothing about what exists.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from courseplatform.tenancy.middleware import SCHOOL_URLCONF
from courseplatform.tenancy.models import School

from ..models import CourseExport

SALT = "courseplatform.portability.course_archive.download"


class LinkInvalid(ValueError):
    pass


def download_path(export: CourseExport) -> str:
    token = signing.dumps({"s": export.school_id, "x": export.uuid.hex}, salt=SALT)
    return reverse("course_archive:download", kwargs={"token": token}, urlconf=SCHOOL_URLCONF)


def read_token(token: str, *, school: School) -> str:
    """The export uuid (hex) the token names, for this school; ``LinkInvalid`` otherwise."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.COURSE_ARCHIVE_LINK_TTL_SECONDS)
    except signing.BadSignature as exc:  # also SignatureExpired
        raise LinkInvalid("bad or expired link") from exc
    if (
        not isinstance(data, dict)
        or data.get("s") != school.pk
        or not isinstance(data.get("x"), str)
    ):
        raise LinkInvalid("link of another school")
    return str(data["x"])
