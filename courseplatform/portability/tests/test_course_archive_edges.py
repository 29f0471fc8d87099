"""Edges of the course archive format and jobs: manifest rules beyond the schema's
types, zip entries the checker skips or refuses, and jobs that fail midway (nothing
written, the reason kept)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from courseplatform.portability.course_archive import jobs, services, tasks
from courseplatform.portability.course_archive.manifest import ManifestError, parse_manifest
from courseplatform.portability.course_archive.zipcheck import ArchiveRejected, check_archive
from courseplatform.portability.models import CourseExport, CourseImport, JobStatus
from courseplatform.tenancy.rls import school_context

from .conftest import Rich
from .support import export_bytes, upload_of

BASE: dict[str, Any] = {
    "format": "courseplatform.course",
    "version": 1,
    "course": {"title": "T", "slug": "t"},
}


def _problems(**changes: Any) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(json.dumps({**BASE, **changes}).encode())
    return caught.value.problems


def test_manifest_rules_beyond_types() -> None:
    assert "manifest.json must hold a JSON object." in _problems_raw(b"[1, 2]")
    assert any("larger than" in p for p in _problems_raw(b" " * (20 * 1024 * 1024 + 1)))
    sections = [
        {"title": "A", "release": "days"},
        {"title": "B", "release": "date"},
        {"title": "C", "release": "date", "release_date": "2027-02-30"},
        {
            "title": "D",
            "lessons": [
                {"title": "x", "kind": "text", "video": "v1"},
                {"title": "y", "kind": "text", "quiz": {"pass_mark": 50}},
            ],
        },
    ]
    videos: list[dict[str, Any]] = [
        {
            "ref": "v1",
            "title": "",
            "original_filename": "a.mp4",
            "hls": {
                "root": "videos/v1/hls",
                "files": [{"path": "master.m3u8", "size": 1}],
                "key": "0" * 32,
                "renditions": [_rung("720p"), _rung("720p")],
            },
        },
        {"ref": "v1", "title": "", "original_filename": "b.mp4"},
    ]
    problems = _problems(sections=sections, videos=videos)
    text = "\n".join(problems)
    assert "sections[2].release_date: Value error, must be a date written YYYY-MM-DD" in text
    problems = _problems(sections=sections[:2] + sections[3:], videos=videos)
    text = "\n".join(problems)
    assert "videos: two videos have the same ref." in text
    assert "sections[0].release_days: required when release is 'days'." in text
    assert "sections[1].release_date: required when release is 'date'." in text
    assert "sections[2].lessons[0].video: only video lessons have a video." in text
    assert "sections[2].lessons[1].quiz: only quiz lessons have a quiz." in text
    assert "videos[0].hls.renditions: two renditions share a name." in text
    bad_rung = [{**videos[0], "hls": {**videos[0]["hls"], "renditions": [_rung("huge")]}}]
    assert any("must be a rung name" in p for p in _problems(videos=bad_rung))
    many = _problems(sections=[{"title": "", "lessons": [{"kind": "x"}] * 30}])
    assert many[-1].startswith("… and ") and len(many) == 21


def _rung(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "width": 1280,
        "height": 720,
        "bandwidth": 1,
        "average_bandwidth": 1,
        "codecs": "avc1",
        "frame_rate": 30,
        "segment_count": 1,
    }


def _problems_raw(raw: bytes) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(raw)
    return caught.value.problems


def _check(build: Any) -> list[str]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        build(zf)
    buffer.seek(0)
    with pytest.raises(ArchiveRejected) as caught:
        check_archive(buffer)
    return caught.value.problems


def test_zip_entries_refused_or_skipped() -> None:
    manifest = json.dumps(BASE)

    def control(zf: zipfile.ZipFile) -> None:
        zf.writestr("manifest.json", manifest)
        zf.writestr("files/a\x01b", b"x")

    assert "contains control characters" in _check(control)[0]

    def odd(zf: zipfile.ZipFile) -> None:
        zf.writestr("manifest.json", manifest)
        zf.writestr("files/*?.txt", b"x")

    assert "is not a plain relative path" in _check(odd)[0]

    def bzip(zf: zipfile.ZipFile) -> None:
        zf.writestr("manifest.json", manifest)
        zf.writestr("files/a.txt", b"x", compress_type=zipfile.ZIP_BZIP2)

    assert "compression method" in _check(bzip)[0]

    def twice(zf: zipfile.ZipFile) -> None:
        zf.writestr("manifest.json", manifest)
        zf.mkdir("files")  # a folder entry is skipped
        with pytest.warns(UserWarning):
            zf.writestr("files/a.txt", b"x")
            zf.writestr("files/a.txt", b"y")

    assert "appears twice" in _check(twice)[0]

    def named_twice(zf: zipfile.ZipFile) -> None:
        cover = {"path": "files/c.png", "size": 1, "filename": "c", "content_type": "image/png"}
        data = {**BASE, "course": {**BASE["course"], "cover": cover}}
        data["certificate"] = {"enabled": False, "title": "C", "signature": cover}
        zf.writestr("manifest.json", json.dumps(data))
        zf.writestr("files/c.png", b"x")

    assert "is named twice in manifest.json" in _check(named_twice)[0]


@pytest.mark.django_db
def test_export_that_breaks_midway_fails_and_leaves_no_file(rich_a: Rich, monkeypatch: Any) -> None:
    from courseplatform.portability.course_archive.storagefiles import list_files

    def broken(**kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(jobs, "write_course_archive", broken)
    with school_context(rich_a.school):
        export = services.request_export(
            school=rich_a.school, actor=rich_a.owner, course=rich_a.course
        )
    tasks.build_course_export.call(rich_a.school.pk, export.pk)
    with school_context(rich_a.school):
        export.refresh_from_db()
    assert export.status == JobStatus.FAILED and "OSError" in export.error
    assert not [p for p, _ in list_files(f"schools/{rich_a.school.pk}/") if "exports" in p]


@pytest.mark.django_db
def test_import_that_breaks_midway_changes_nothing(rich_a: Rich, monkeypatch: Any) -> None:
    from courseplatform.courses.models import Course
    from courseplatform.portability.course_archive import importer

    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    real = importer._create_lesson
    calls = []

    def breaks_on_the_third(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "_create_lesson", breaks_on_the_third)
    with school_context(rich_a.school):
        job = services.request_import(
            school=rich_a.school, actor=rich_a.owner, upload=upload_of(data)
        )
        courses_before = Course.objects.count()
    tasks.import_course_archive.call(rich_a.school.pk, job.pk)
    with school_context(rich_a.school):
        job.refresh_from_db()
        assert Course.objects.count() == courses_before
    assert job.status == JobStatus.FAILED and "RuntimeError" in job.error
    assert "Nothing was changed" in job.error and job.archive_key == ""


@pytest.mark.django_db
def test_import_by_someone_whose_account_is_gone(rich_a: Rich, make_user: Any) -> None:
    teacher = make_user(rich_a.school, "gone@alpha.test", role="instructor")
    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    with school_context(rich_a.school):
        job = services.request_import(school=rich_a.school, actor=teacher, upload=upload_of(data))
        teacher.delete()
    assert jobs.run_import(school_id=rich_a.school.pk, import_id=job.pk) == "failed"
    with school_context(rich_a.school):
        job = CourseImport.objects.get(pk=job.pk)
    assert "no longer has an account" in job.error


@pytest.mark.django_db
def test_progress_row_of_a_course_deleted_since(rich_a: Rich) -> None:
    """An export whose course is gone stays visible to the owner only."""
    from courseplatform.courses import services as courses

    with school_context(rich_a.school):
        export = services.request_export(
            school=rich_a.school, actor=rich_a.owner, course=rich_a.course
        )
        courses.delete_course(school=rich_a.school, actor=rich_a.owner, course=rich_a.course)
        assert CourseExport.objects.get(pk=export.pk).course is None
    response = rich_a.client().get(f"/manage/courses/archives/exports/{export.pk}/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_jobs_run_with_another_schools_id_touch_nothing(rich_a: Rich, school_b: Any) -> None:
    """A task handed school B's id with school A's job id (a forged or mixed-up task
    argument) finds nothing under B's row-level security and changes nothing."""
    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    with school_context(rich_a.school):
        export = services.request_export(
            school=rich_a.school, actor=rich_a.owner, course=rich_a.course
        )
        job = services.request_import(
            school=rich_a.school, actor=rich_a.owner, upload=upload_of(data)
        )
    assert jobs.run_export(school_id=school_b.school.pk, export_id=export.pk) == "skipped"
    assert jobs.run_import(school_id=school_b.school.pk, import_id=job.pk) == "skipped"
    with school_context(rich_a.school):
        assert CourseExport.objects.get(pk=export.pk).status == JobStatus.QUEUED
        assert CourseImport.objects.get(pk=job.pk).status == JobStatus.QUEUED
    with school_context(school_b.school):
        from courseplatform.courses.models import Course

        assert not Course.objects.exists()
    # Run as their own school, they work.
    assert jobs.run_export(school_id=rich_a.school.pk, export_id=export.pk) == "ready"
    assert jobs.run_import(school_id=rich_a.school.pk, import_id=job.pk) == "ready"
