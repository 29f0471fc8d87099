"""Is an uploaded zip safe to read? Checked from its central directory before any
entry is unpacked, and again entry by entry while unpacking (``read_entry``).

Refused, each with a message for the person: not a zip; more than
``COURSE_ARCHIVE_MAX_ENTRIES`` entries; more than ``COURSE_ARCHIVE_MAX_UNPACKED_BYTES``
unpacked; an entry over 1 MiB unpacked that is more than ``COURSE_ARCHIVE_MAX_RATIO``
times its packed size (a zip bomb); absolute paths, ``..`` segments, backslashes,
drive letters and control characters in names; symbolic links; encrypted entries;
two entries with the same name; a compression method other than stored or deflated.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings

from .manifest import (
    MANIFEST_NAME,
    PATH_RE,
    Manifest,
    ManifestError,
    manifest_files,
    parse_manifest,
)

RATIO_FLOOR = 1024 * 1024  # small entries (a deflated playlist) may compress very well


class ArchiveRejected(ValueError):
    """The archive cannot be imported; ``problems`` says why, for the person."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass
class CheckedArchive:
    manifest: Manifest
    entries: dict[str, zipfile.ZipInfo]
    unpacked_bytes: int


def _name_problem(name: str) -> str | None:
    if "\x00" in name or any(ord(c) < 32 for c in name):
        return "contains control characters"
    if name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    if ".." in name.split("/"):
        return "climbs out of the archive with '..'"
    if not PATH_RE.fullmatch(name.rstrip("/")):
        return "is not a plain relative path"
    return None


def _entries(zf: zipfile.ZipFile) -> tuple[dict[str, zipfile.ZipInfo], int]:
    infos = zf.infolist()
    if len(infos) > settings.COURSE_ARCHIVE_MAX_ENTRIES:
        raise ArchiveRejected(
            [
                f"The archive has {len(infos)} files; at most "
                f"{settings.COURSE_ARCHIVE_MAX_ENTRIES} are accepted."
            ]
        )
    entries: dict[str, zipfile.ZipInfo] = {}
    total = 0
    problems: list[str] = []
    for info in infos:
        name = info.filename
        problem = _name_problem(name)
        if problem:
            problems.append(f"“{name[:200]}” {problem}.")
            continue
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_ISLNK(mode):
            problems.append(f"“{name}” is a symbolic link; links are not accepted.")
            continue
        if info.flag_bits & 0x1:
            problems.append(f"“{name}” is encrypted; export the course again without a password.")
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problems.append(f"“{name}” uses a compression method that is not accepted.")
            continue
        if info.is_dir():
            continue
        if name in entries:
            problems.append(f"“{name}” appears twice.")
            continue
        if (
            info.file_size > RATIO_FLOOR
            and info.file_size > settings.COURSE_ARCHIVE_MAX_RATIO * max(info.compress_size, 1)
        ):
            problems.append(f"“{name}” unpacks to far more than its packed size (a zip bomb).")
            continue
        entries[name] = info
        total += info.file_size
        if len(problems) >= 10:
            break
    if problems:
        raise ArchiveRejected(problems)
    if total > settings.COURSE_ARCHIVE_MAX_UNPACKED_BYTES:
        raise ArchiveRejected(
            [
                f"The archive unpacks to {total / 1024**3:.1f} GB; at most "
                f"{settings.COURSE_ARCHIVE_MAX_UNPACKED_BYTES / 1024**3:.1f} GB are accepted."
            ]
        )
    return entries, total


def read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The entry's bytes, refusing one that unpacks to more than its header says."""
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit or len(data) != info.file_size:
        raise ArchiveRejected([f"“{info.filename}” is not the size its header says."])
    return data


def check_archive(fileobj: IO[bytes]) -> CheckedArchive:
    """Check the zip in ``fileobj`` and its manifest; ``ArchiveRejected`` otherwise."""
    try:
        zf = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ArchiveRejected(
            ["This file is not a zip archive (a course archive is a .zip)."]
        ) from exc
    with zf:
        entries, total = _entries(zf)
        info = entries.get(MANIFEST_NAME)
        if info is None:
            raise ArchiveRejected(
                ["The archive has no manifest.json at its root: is it a course archive?"]
            )
        try:
            raw = read_entry(zf, info, limit=max(info.file_size, 0))
            manifest = parse_manifest(raw)
        except ManifestError as exc:
            raise ArchiveRejected([f"manifest.json: {p}" for p in exc.problems]) from exc
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ArchiveRejected(
                ["manifest.json cannot be unpacked: the archive is damaged."]
            ) from exc
    problems: list[str] = []
    seen: set[str] = set()
    for ref in manifest_files(manifest):
        entry = entries.get(ref.path)
        if ref.path in seen:
            problems.append(f"“{ref.path}” is named twice in manifest.json.")
        seen.add(ref.path)
        if entry is None:
            problems.append(f"manifest.json names “{ref.path}”, which is not in the archive.")
        elif entry.file_size != ref.size:
            problems.append(
                f"“{ref.path}” is {entry.file_size} bytes; manifest.json says {ref.size}."
            )
        if len(problems) >= 10:
            break
    if problems:
        raise ArchiveRejected(problems)
    return CheckedArchive(manifest=manifest, entries=entries, unpacked_bytes=total)
