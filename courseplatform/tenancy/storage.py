"""Object-storage key layout for tenant files.

Every file a school owns lives under ``schools/<school id>/`` in the storage
backend (S3/R2/SeaweedFS bucket or the local media directory), so a school's
files can be listed, measured against its plan's storage quota and deleted with
one prefix, and a key built for one school can never point into another's.
"""

from __future__ import annotations

SCHOOLS_PREFIX = "schools"


def _check_part(part: str) -> None:
    if not isinstance(part, str):
        raise TypeError(f"storage key parts must be str, not {type(part).__name__}")
    if not part:
        raise ValueError("storage key parts must not be empty")
    if part.startswith("/"):
        raise ValueError(f"storage key part {part!r} must not start with '/'")
    if "\\" in part or "\x00" in part:
        raise ValueError(f"storage key part {part!r} contains a backslash or NUL byte")
    if ".." in part:
        raise ValueError(f"storage key part {part!r} must not contain '..'")
    for segment in part.split("/"):
        if segment in {"", "."}:
            raise ValueError(f"storage key part {part!r} has an empty or '.' path segment")


def school_storage_key(school_id: int, *parts: str) -> str:
    """Return the storage key of a file that belongs to one school.

    ``school_storage_key(7, "courses", "12", "cover.png")`` is
    ``"schools/7/courses/12/cover.png"``. A part may itself contain ``/``
    (``"videos/intro.mp4"``), but no part may be empty, start with ``/``,
    contain ``..``, a backslash or a NUL byte, or have an empty or ``.``
    segment: any of those raises ``ValueError``, so user-supplied names cannot
    climb out of the school's prefix. With no parts the result is the school's
    prefix itself, ``"schools/7/"``, for listing.

    ``school_id`` must be a positive ``int`` (``bool`` is rejected): a
    ``TypeError`` for other types, a ``ValueError`` for zero or negatives.
    """
    if isinstance(school_id, bool) or not isinstance(school_id, int):
        raise TypeError(f"school_id must be int, not {type(school_id).__name__}")
    if school_id < 1:
        raise ValueError(f"school_id must be positive, got {school_id}")
    for part in parts:
        _check_part(part)
    return f"{SCHOOLS_PREFIX}/{school_id}/" + "/".join(parts)
