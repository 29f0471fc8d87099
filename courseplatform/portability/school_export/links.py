"""The signed link of a finished whole-school export (emailed, and on the export page).

It names the school and the export's random uuid (never the row id), is signed with the
secret key, and is valid ``SCHOOL_EXPORT_TTL_HOURS``, on the host of the school it
names only: anything else is ``LinkInvalid``, which the view answers with a 404.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from courseplatform.tenancy.models import School

from ..models import SchoolExport

SALT = "courseplatform.portability.school_export.download"


class LinkInvalid(ValueError):
    pass


def link_ttl_seconds() -> int:
    return int(settings.SCHOOL_EXPORT_TTL_HOURS * 3600)


def download_path(export: SchoolExport) -> str:
    token = signing.dumps({"s": export.school_id, "x": export.uuid.hex}, salt=SALT)
    return f"/manage/settings/export/download/{token}/"


def read_token(token: str, *, school: School) -> str:
    """The export uuid (hex) the token names for this school, or ``LinkInvalid``."""
    try:
        data = signing.loads(token, salt=SALT, max_age=link_ttl_seconds())
    except signing.BadSignature as exc:  # also SignatureExpired
        raise LinkInvalid("bad or expired link") from exc
    if (
        not isinstance(data, dict)
        or data.get("s") != school.pk
        or not isinstance(data.get("x"), str)
    ):
        raise LinkInvalid("link of another school")
    return str(data["x"])
