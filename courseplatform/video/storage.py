"""Removing a video's files from object storage (or the local media folder)."""

from __future__ import annotations

import contextlib
import os

from django.core.files.storage import default_storage


def delete_storage_prefix(prefix: str) -> int:
    """Delete every file under ``prefix`` in default storage; return how many."""
    if not prefix.startswith("schools/") or ".." in prefix:
        raise ValueError(f"refusing to delete outside a school prefix: {prefix!r}")
    prefix = prefix.rstrip("/") + "/"
    bucket = getattr(default_storage, "bucket", None)
    if bucket is not None:  # S3: listed 1,000 at a time, each page one DeleteObjects
        count = 0
        for answer in bucket.objects.filter(Prefix=prefix).delete():
            count += len(answer.get("Deleted", []))
            if answer.get("Errors"):
                raise OSError(f"storage refused to delete {len(answer['Errors'])} object(s)")
        return count
    return _delete_local_tree(prefix.rstrip("/"))


def _delete_local_tree(path: str) -> int:
    try:
        dirs, files = default_storage.listdir(path)
    except FileNotFoundError:
        return 0
    count = 0
    for name in files:
        default_storage.delete(f"{path}/{name}")
        count += 1
    for name in dirs:
        count += _delete_local_tree(f"{path}/{name}")
    # Remove the now-empty directory itself (FileSystemStorage keeps directories).
    location = getattr(default_storage, "path", None)
    if location is not None:
        with contextlib.suppress(OSError):
            os.rmdir(location(path))
    return count
