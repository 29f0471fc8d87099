"""Bad archives are refused in the request with a clear message, and nothing changes:
not a zip, zip bombs, too many entries, path traversal, absolute paths, symlinks,
encrypted entries, a missing or invalid manifest, files missing or of the wrong size,
too big an upload, the plan's limits."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

from courseplatform.portability.course_archive import services
from courseplatform.portability.course_archive.importer import ImportRefused
from courseplatform.portability.course_archive.zipcheck import ArchiveRejected
from courseplatform.portability.models import CourseImport
from courseplatform.tenancy.rls import school_context

from .conftest import Rich, read_zip
from .support import export_bytes, upload_of

pytestmark = pytest.mark.django_db

MINIMAL = {
    "format": "courseplatform.course",
    "version": 1,
    "course": {"title": "Tiny", "slug": "tiny"},
    "sections": [{"title": "One", "lessons": [{"title": "Hello", "kind": "text"}]}],
}


def _zip(entries: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _manifest(**changes: Any) -> bytes:
    return json.dumps({**MINIMAL, **changes}).encode()


def _refused(school_a: Any, data: bytes, *, name: str = "course.zip") -> str:
    from courseplatform.portability.course_archive.storagefiles import list_files

    school, owner = school_a.school, school_a.owner
    stored = list_files(f"schools/{school.pk}/")
    with school_context(school):
        before = CourseImport.objects.count()
        with pytest.raises((ArchiveRejected, ImportRefused)) as caught:
            services.request_import(school=school, actor=owner, upload=upload_of(data, name))
        assert CourseImport.objects.count() == before
        from courseplatform.courses.models import Course

        assert not Course.objects.filter(school=school).exists()
    assert list_files(f"schools/{school.pk}/") == stored
    return str(caught.value)


def _symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("manifest.json", _manifest())
        info = zipfile.ZipInfo("files/evil")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _encrypted_flag_zip() -> bytes:
    data = bytearray(_zip({"manifest.json": _manifest()}, method=zipfile.ZIP_STORED))
    # Set the "encrypted" bit in the central directory entry (general purpose flags).
    at = data.rfind(b"PK\x01\x02")
    data[at + 8] |= 0x1
    return bytes(data)


CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "not a zip": (lambda: b"this is not a zip at all" * 100, "not a zip archive"),
    "junk with a zip name": (lambda: bytes(range(256)) * 4000, "not a zip archive"),
    "truncated zip": (lambda: _zip({"manifest.json": _manifest()})[:40], "not a zip archive"),
    "no manifest": (lambda: _zip({"readme.txt": b"hi"}), "no manifest.json"),
    "parent path": (
        lambda: _zip({"manifest.json": _manifest(), "../../etc/cron.d/x": b"x"}),
        "climbs out of the archive",
    ),
    "nested parent path": (
        lambda: _zip({"manifest.json": _manifest(), "files/../../x": b"x"}),
        "climbs out of the archive",
    ),
    "absolute path": (
        lambda: _zip({"manifest.json": _manifest(), "/etc/passwd": b"x"}),
        "absolute path",
    ),
    "windows path": (
        lambda: _zip({"manifest.json": _manifest(), "C:\\Windows\\x.dll": b"x"}),
        "absolute path",
    ),
    "symlink": (_symlink_zip, "symbolic link"),
    "encrypted": (_encrypted_flag_zip, "encrypted"),
    "bomb": (
        lambda: _zip({"manifest.json": _manifest(), "files/zeros.bin": b"\0" * (20 * 1024 * 1024)}),
        "zip bomb",
    ),
    "not json": (lambda: _zip({"manifest.json": b"{not json"}), "not valid JSON"),
    "not utf-8": (lambda: _zip({"manifest.json": '{"a": "é"}'.encode("latin-1")}), "not UTF-8"),
    "other format": (
        lambda: _zip({"manifest.json": _manifest(format="something.else")}),
        "not a course archive",
    ),
    "future version": (
        lambda: _zip({"manifest.json": _manifest(version=2)}),
        "version 2; this platform reads version 1",
    ),
    "bad lesson kind": (
        lambda: _zip(
            {
                "manifest.json": _manifest(
                    sections=[{"title": "S", "lessons": [{"title": "L", "kind": "game"}]}]
                )
            }
        ),
        "sections[0].lessons[0].kind",
    ),
    "unknown field": (
        lambda: _zip(
            {
                "manifest.json": _manifest(
                    course={"title": "T", "slug": "t", "body_html": "<script>"}
                )
            }
        ),
        "course.body_html: Extra inputs are not permitted",
    ),
    "dangling video ref": (
        lambda: _zip(
            {
                "manifest.json": _manifest(
                    sections=[
                        {"title": "S", "lessons": [{"title": "L", "kind": "video", "video": "v9"}]}
                    ]
                )
            }
        ),
        "no video with ref 'v9'",
    ),
    "missing file": (
        lambda: _zip(
            {
                "manifest.json": _manifest(
                    course={
                        "title": "T",
                        "slug": "t",
                        "cover": {
                            "path": "files/cover.png",
                            "size": 10,
                            "filename": "c.png",
                            "content_type": "image/png",
                        },
                    }
                )
            }
        ),
        "names “files/cover.png”, which is not in the archive",
    ),
    "wrong size": (
        lambda: _zip(
            {
                "manifest.json": _manifest(
                    course={
                        "title": "T",
                        "slug": "t",
                        "cover": {
                            "path": "files/cover.png",
                            "size": 10,
                            "filename": "c.png",
                            "content_type": "image/png",
                        },
                    }
                ),
                "files/cover.png": b"12345",
            }
        ),
        "is 5 bytes; manifest.json says 10",
    ),
    "path traversal in the manifest": (
        lambda: _zip(
            {
                "manifest.json": _manifest(
                    course={
                        "title": "T",
                        "slug": "t",
                        "cover": {
                            "path": "../cover.png",
                            "size": 1,
                            "filename": "c.png",
                            "content_type": "image/png",
                        },
                    }
                )
            }
        ),
        "course.cover.path",
    ),
    "empty": (lambda: b"", "empty"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_archive_refused_with_a_reason(school_a: Any, local_storage: Any, case: str) -> None:
    make, expected = CASES[case]
    message = _refused(school_a, make())
    assert expected in message, message


def test_too_many_entries(school_a: Any, local_storage: Any, settings: Any) -> None:
    settings.COURSE_ARCHIVE_MAX_ENTRIES = 5
    entries = {"manifest.json": _manifest(), **{f"files/{n}.txt": b"x" for n in range(5)}}
    assert "6 files; at most 5" in _refused(school_a, _zip(entries))


def test_too_much_unpacked(school_a: Any, local_storage: Any, settings: Any) -> None:
    settings.COURSE_ARCHIVE_MAX_UNPACKED_BYTES = 1000
    data = _zip({"manifest.json": _manifest(), "files/a.bin": bytes(range(256)) * 8})
    assert "unpacks to" in _refused(school_a, data)


def test_upload_over_the_size_cap(school_a: Any, local_storage: Any, settings: Any) -> None:
    data = _zip({"manifest.json": _manifest()})
    settings.COURSE_ARCHIVE_MAX_UPLOAD_BYTES = len(data) - 1
    assert "at most" in _refused(school_a, data)


def test_plan_course_limit(rich_a: Rich, plan_limits: Any) -> None:
    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    plan_limits(rich_a.school.plan, max_courses=1)
    with school_context(rich_a.school):
        before = CourseImport.objects.count()
        with pytest.raises(ImportRefused, match="includes up to 1 courses"):
            services.request_import(
                school=rich_a.school, actor=rich_a.owner, upload=upload_of(data)
            )
        assert CourseImport.objects.count() == before


def test_plan_storage_limit(rich_a: Rich, plan_limits: Any) -> None:
    from courseplatform.tenancy.usage import storage_used_bytes

    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    with school_context(rich_a.school):
        used = storage_used_bytes(school=rich_a.school)
    plan_limits(rich_a.school.plan, max_storage_bytes=used + 100)
    with school_context(rich_a.school), pytest.raises(ImportRefused, match="of storage"):
        services.request_import(school=rich_a.school, actor=rich_a.owner, upload=upload_of(data))


def test_plan_video_minutes_limit(rich_a: Rich, plan_limits: Any) -> None:
    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    manifest, files = read_zip(data)
    manifest["videos"] = [
        {
            "ref": "v1",
            "title": "Long",
            "original_filename": "long.mp4",
            "duration_seconds": 600.0,
            "source": {"path": "videos/v1/source.mp4", "size": 4},
        }
    ]
    manifest["sections"][1]["lessons"][0]["video"] = "v1"
    data = _zip(
        {"manifest.json": json.dumps(manifest).encode(), **files, "videos/v1/source.mp4": b"abcd"}
    )
    plan_limits(rich_a.school.plan, max_video_minutes=5)
    with school_context(rich_a.school), pytest.raises(ImportRefused, match="10 minutes"):
        services.request_import(school=rich_a.school, actor=rich_a.owner, upload=upload_of(data))


def test_plan_limit_reached_between_upload_and_job(rich_a: Rich, plan_limits: Any) -> None:
    """The job checks the plan again before writing: the course limit reached meanwhile."""
    from courseplatform.portability.course_archive import jobs
    from courseplatform.portability.models import JobStatus

    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    with school_context(rich_a.school):
        job = services.request_import(
            school=rich_a.school, actor=rich_a.owner, upload=upload_of(data)
        )
    plan_limits(rich_a.school.plan, max_courses=1)
    assert jobs.run_import(school_id=rich_a.school.pk, import_id=job.pk) == "failed"
    with school_context(rich_a.school):
        job.refresh_from_db()
        from courseplatform.courses.models import Course

        assert Course.objects.filter(school=rich_a.school).count() == 1
    assert job.status == JobStatus.FAILED and "includes up to 1 courses" in job.error
    assert job.archive_key == ""
