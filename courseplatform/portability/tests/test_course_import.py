"""Course import: round trip, new ids and slugs, two schools, progress, notes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.storage import default_storage

from courseplatform.certificates.models import CertificateSettings
from courseplatform.courses.models import Attachment, Course, Lesson, Section
from courseplatform.portability.course_archive import export
from courseplatform.portability.models import JobStatus
from courseplatform.quizzes.models import Option, Question, Quiz
from courseplatform.tenancy.rls import school_context
from courseplatform.video.models import VideoAsset

from .conftest import Rich, comparable, read_zip
from .support import export_bytes, import_bytes

pytestmark = pytest.mark.django_db


def _snapshot(school: Any) -> dict[str, Any]:
    """Every row the import could touch, as comparable values."""
    with school_context(school):
        return {
            "courses": sorted(
                Course.objects.filter(school=school).values_list(
                    "pk", "slug", "title", "updated_at"
                )
            ),
            "sections": Section.objects.filter(school=school).count(),
            "lessons": sorted(
                Lesson.objects.filter(school=school).values_list("pk", "title", "updated_at")
            ),
            "attachments": sorted(
                Attachment.objects.filter(school=school).values_list("pk", "storage_key")
            ),
            "quizzes": Quiz.objects.filter(school=school).count(),
            "questions": Question.objects.filter(school=school).count(),
            "options": Option.objects.filter(school=school).count(),
            "videos": VideoAsset.objects.filter(school=school).count(),
            "certificates": CertificateSettings.objects.filter(school=school).count(),
        }


def test_round_trip_into_the_same_school(rich_a: Rich) -> None:
    school, owner = rich_a.school, rich_a.owner
    first = export_bytes(school, owner, rich_a.course)
    job = import_bytes(school, owner, first)
    assert job.status == JobStatus.READY, job.error
    assert job.progress == 100 and job.archive_key == ""
    copy = job.course
    assert copy is not None and copy.pk != rich_a.course.pk
    assert copy.slug == f"{rich_a.course.slug}-2" and copy.status == Course.Status.DRAFT
    second = export_bytes(school, owner, copy)
    one, files_one = read_zip(first)
    two, files_two = read_zip(second)
    assert comparable(one) == comparable(two)
    assert files_one == files_two
    with school_context(school):
        new_lessons = set(Lesson.objects.filter(course=copy).values_list("pk", flat=True))
        old_lessons = set(Lesson.objects.filter(course=rich_a.course).values_list("pk", flat=True))
        assert new_lessons and not new_lessons & old_lessons
        keys = set(
            Attachment.objects.filter(lesson__course=copy).values_list("storage_key", flat=True)
        )
        old_keys = set(
            Attachment.objects.filter(lesson__course=rich_a.course).values_list(
                "storage_key", flat=True
            )
        )
        assert len(keys) == 2 and not keys & old_keys
        assert all(default_storage.exists(k) for k in keys)
        assert copy.cover_key and copy.cover_key != rich_a.course.cover_key


def test_import_into_another_school_leaves_the_first_untouched(rich_a: Rich, school_b: Any) -> None:
    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    before_a = _snapshot(rich_a.school)
    job = import_bytes(school_b.school, school_b.owner, data)
    assert job.status == JobStatus.READY, job.error
    assert _snapshot(rich_a.school) == before_a
    with school_context(school_b.school):
        copy = Course.objects.get(school=school_b.school)
        assert copy.slug == rich_a.course.slug  # free in B: kept
        assert copy.cover_key.startswith(f"schools/{school_b.school.pk}/")
        keys = Attachment.objects.filter(school=school_b.school).values_list(
            "storage_key", flat=True
        )
        assert keys and all(k.startswith(f"schools/{school_b.school.pk}/") for k in keys)
        settings_row = CertificateSettings.objects.get(course=copy)
        assert settings_row.signer_name == "Ada Painter" and settings_row.enabled
        assert settings_row.signature_key.startswith(f"schools/{school_b.school.pk}/")
        manifest = export.export_course_manifest(school=school_b.school, course=copy)
        # The video lesson kept its title and is marked "upload again".
        lesson = Lesson.objects.get(course=copy, kind="video")
        assert lesson.video is None
    one, _ = read_zip(data)
    assert comparable(one) == comparable(manifest)


def test_hostile_html_in_the_manifest_is_sanitised(rich_a: Rich) -> None:
    import io
    import zipfile

    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    manifest, files = read_zip(data)
    manifest["course"]["description_md"] = (
        'Hi <script>alert(1)</script><b onerror="alert(2)">bold</b><svg onload=alert(4)>'
    )
    manifest["sections"][0]["lessons"][0]["body_md"] = (
        '<a href="javascript:alert(3)">x</a><iframe src="//evil"></iframe>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, body in files.items():
            zf.writestr(name, body)
    job = import_bytes(rich_a.school, rich_a.owner, buffer.getvalue())
    assert job.status == JobStatus.READY, job.error
    with school_context(rich_a.school):
        assert job.course_id is not None
        course = Course.objects.get(pk=job.course_id)
        lesson = (
            Lesson.objects.filter(course=course).order_by("section__position", "position").first()
        )
    assert lesson is not None
    for html in (course.description_html, lesson.body_html):
        lowered = html.lower()
        assert "<script" not in lowered and "onerror" not in lowered
        assert "javascript:" not in lowered and "<iframe" not in lowered


def test_refused_by_the_editor_rules_changes_nothing(rich_a: Rich) -> None:
    import io
    import zipfile

    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    manifest, files = read_zip(data)
    manifest["sections"][2]["lessons"][0]["body_md"] = "![x](https://evil.example/x.png)"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, body in files.items():
            zf.writestr(name, body)
    before = _snapshot(rich_a.school)
    stored_before = _stored(rich_a.school)
    job = import_bytes(rich_a.school, rich_a.owner, buffer.getvalue())
    assert job.status == JobStatus.FAILED
    assert "Images must be uploaded to this school" in job.error
    assert _snapshot(rich_a.school) == before
    # The files stored on the way (cover, attachments) and the upload are gone again.
    assert _stored(rich_a.school) == stored_before


def _stored(school: Any) -> set[str]:
    from courseplatform.portability.course_archive.storagefiles import list_files

    return {
        path
        for path, _ in list_files(f"schools/{school.pk}/")
        if not path.startswith("course-archives/exports/")
    }
