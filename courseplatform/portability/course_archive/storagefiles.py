"""Reading and writing stored files for archives, the same on local disk and on S3."""

from __future__ import annotations

import re
import shutil
from typing import IO

from django.core.files.base import File
from django.core.files.storage import default_storage

CHUNK = 1024 * 1024


def list_files(prefix: str) -> list[tuple[str, int]]:
    """Every stored file under ``prefix`` (ending in ``/``) as (path relative to the
    prefix, size), sorted by path."""
    prefix = prefix.rstrip("/") + "/"
    bucket = getattr(default_storage, "bucket", None)
    if bucket is not None:  # S3: one paginated listing, sizes included
        location = getattr(default_storage, "location", "") or ""
        full = f"{location.rstrip('/')}/{prefix}" if location else prefix
        return sorted(
            (obj.key[len(full) :], int(obj.size)) for obj in bucket.objects.filter(Prefix=full)
        )
    found: list[tuple[str, int]] = []

    def walk(folder: str) -> None:
        try:
            dirs, files = default_storage.listdir(folder)
        except FileNotFoundError:
            return
        for name in files:
            key = f"{folder}/{name}"
            found.append((key[len(prefix) :], int(default_storage.size(key))))
        for name in dirs:
            walk(f"{folder}/{name}")

    walk(prefix.rstrip("/"))
    return sorted(found)


def extension_of(key: str, *, fallback: str = "bin") -> str:
    """The lowercase extension of a stored key, kept to letters and digits."""
    ext = key.rsplit("/", 1)[-1].rpartition(".")[2] if "." in key.rsplit("/", 1)[-1] else ""
    ext = re.sub(r"[^a-z0-9]", "", ext.lower())[:10]
    return ext or fallback


def copy_to(key: str, out: IO[bytes]) -> int:
    """Stream the stored file ``key`` into ``out``; return the bytes copied."""
    copied = 0
    with default_storage.open(key, "rb") as source:
        while chunk := source.read(CHUNK):
            out.write(chunk)
            copied += len(chunk)
    return copied


def save_exact(key: str, content: IO[bytes]) -> str:
    """Save ``content`` under exactly ``key`` (a fresh key nobody used: the storage's
    no-overwrite renaming would break the HLS layout, so a different name is an error)."""
    saved = default_storage.save(key, File(content, name=key.rsplit("/", 1)[-1]))
    if saved != key:
        default_storage.delete(saved)
        raise RuntimeError(f"storage saved {key!r} as {saved!r}")
    return saved


def save_stream(key: str, source: IO[bytes], spool: IO[bytes]) -> str:
    """Copy ``source`` (a zip entry) into the temp file ``spool``, then store it."""
    spool.seek(0)
    spool.truncate()
    shutil.copyfileobj(source, spool, CHUNK)
    spool.seek(0)
    return save_exact(key, spool)
