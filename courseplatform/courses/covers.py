"""Course cover images at stable public URLs: ``/covers/<course id>/<version>.<ext>``.

A published course's cover is shown to every visitor (catalogue, course page, the page
builder's course blocks), so it is public like the page that shows it. Signed download
URLs expire (``ops.files``), which capped how long a cached page could live; a stable
URL lets a cached page live until the school's content changes.

* **Versioned by content**: ``<version>`` is a digest of the cover's storage key, and
  every upload stores under a new random key, so a new cover gets a new URL and the
  old one is never reused. The response is ``immutable`` for a year, anywhere.
* **Only the school's own, current, published covers**: the course is looked up by id
  in the request's school (another school's id is the same 404 as an unknown one),
  and the version must be its current key's. A replaced or removed cover, or a course
  unpublished or deleted, is 404 from then on (the edge may keep what it already has:
  that is what ``immutable`` means).
* Drafts and everything private (attachments, videos) keep their signed URLs.
"""

from __future__ import annotations

import hashlib

from courseplatform.ops import files
from courseplatform.tenancy.models import School
from courseplatform.tenancy.storage import school_storage_key

from .models import Course

COVERS_FOLDER = "covers"
CACHE_CONTROL = "public, max-age=31536000, immutable"
# Cover images are stored as <uuid>.<ext>; the extension names the type (checked on upload).
IMAGE_TYPES = {extension: content_type for content_type, extension in files.IMAGE_FORMATS.values()}


def cover_version(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _extension(key: str) -> str:
    return key.rsplit(".", 1)[-1].lower() if "." in key else ""


def _own_key(school: School, course: Course) -> str:
    """The course's cover key when it is a well-formed key of ``school``, else ""."""
    key = course.cover_key
    if (
        not key
        or course.school_id != school.pk
        or not key.startswith(school_storage_key(school.pk, COVERS_FOLDER) + "/")
        or ".." in key
        or _extension(key) not in IMAGE_TYPES
    ):
        return ""
    return key


def public_cover_path(school: School, course: Course) -> str:
    """The stable URL of a published course's cover ("" for none or a draft)."""
    if not course.is_published:
        return ""
    key = _own_key(school, course)
    if not key:
        return ""
    return f"/covers/{course.pk}/{cover_version(key)}.{_extension(key)}"


def cover_url(school: School, course: Course) -> str:
    """Where a page links the course's cover: the stable URL when the course is
    published, a short-lived signed URL for a draft (only its managers see it)."""
    if not course.cover_key:
        return ""
    stable = public_cover_path(school, course)
    if stable:
        return stable
    extension = _extension(course.cover_key)
    try:
        return files.signed_file_url(
            school=school,
            key=course.cover_key,
            filename=f"{course.slug}-cover.{extension}",
            content_type=IMAGE_TYPES.get(extension, "application/octet-stream"),
            inline=True,
        )
    except ValueError:  # a key outside the school's prefix is never signed
        return ""


def published_cover_key(school: School, course_id: int, name: str) -> str | None:
    """The storage key ``/covers/<course_id>/<name>`` stands for, or None: the course
    must be a published course of ``school`` whose current cover has this version and
    extension."""
    version, _, extension = name.partition(".")
    if len(version) != 16 or extension not in IMAGE_TYPES:
        return None
    course = (
        Course.objects.filter(school=school, pk=course_id, status=Course.Status.PUBLISHED)
        .only("id", "school_id", "cover_key", "status")
        .first()
    )
    if course is None:
        return None
    key = _own_key(school, course)
    if not key or cover_version(key) != version or _extension(key) != extension:
        return None
    return key
