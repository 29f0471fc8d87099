"""Course export: the manifest, the archive built by the job (progress, files), and the
signed download link (its school's host only, its managers only, for a while)."""

from __future__ import annotations

import json
import time
import zipfile
from typing import Any

import pytest
from django.core import signing
from django.core.files.storage import default_storage

from courseplatform.portability.course_archive import export, jobs, links, services
from courseplatform.portability.course_archive.manifest import parse_manifest
from courseplatform.portability.models import CourseExport, JobStatus
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import host_of

from .conftest import CSV_BYTES, PDF_BYTES, Rich, read_zip

pytestmark = pytest.mark.django_db


def _export(rich: Rich, **options: Any) -> CourseExport:
    with school_context(rich.school):
        job = services.request_export(
            school=rich.school, actor=rich.owner, course=rich.course, **options
        )
    assert jobs.run_export(school_id=rich.school.pk, export_id=job.pk) == "ready"
    with school_context(rich.school):
        job.refresh_from_db()
    return job


def _download(rich: Rich, job: CourseExport) -> bytes:
    client = rich.client()
    with school_context(rich.school):
        path = links.download_path(job)
    response = client.get(path)
    assert response.status_code == 302, response.content
    served = client.get(response["Location"])
    assert served.status_code == 200
    assert served["Content-Type"] == "application/zip"
    return b"".join(served.streaming_content)  # type: ignore[attr-defined]


def test_manifest_holds_every_part_of_the_course(rich_a: Rich) -> None:
    with school_context(rich_a.school):
        manifest = export.export_course_manifest(school=rich_a.school, course=rich_a.course)
    # It validates against the documented schema.
    parse_manifest(json.dumps(manifest).encode())
    assert manifest["format"] == "courseplatform.course" and manifest["version"] == 1
    course = manifest["course"]
    assert course["title"] == "Watercolour Basics"
    assert course["description_md"] == "Learn **washes** and <em>glazes</em>."
    assert course["cover"]["path"] == "files/cover.png"
    assert [s["title"] for s in manifest["sections"]] == ["Week 1", "Week 2", "Finale"]
    releases = [(s["release"], s["release_days"], s["release_date"]) for s in manifest["sections"]]
    assert releases == [
        ("immediately", None, None),
        ("days", 7, None),
        ("date", None, "2027-03-01"),
    ]
    welcome, handouts = manifest["sections"][0]["lessons"]
    assert welcome["kind"] == "text" and welcome["is_preview"] and welcome["duration_minutes"] == 3
    assert welcome["body_md"].startswith("# Hello")
    assert [(a["filename"], a["size"]) for a in handouts["attachments"]] == [
        ("notes.pdf", len(PDF_BYTES)),
        ("scores.csv", len(CSV_BYTES)),
    ]
    (video_lesson,) = manifest["sections"][1]["lessons"]
    assert video_lesson["kind"] == "video" and video_lesson["video"] is None
    quiz = manifest["sections"][2]["lessons"][0]["quiz"]
    assert (quiz["pass_mark"], quiz["max_attempts"], quiz["reveal"]) == (60, 3, "passing")
    single, text = quiz["questions"]
    assert single["options"] == [
        {"text": "Red", "is_correct": True},
        {"text": "Blue", "is_correct": False},
    ]
    assert text["accepted_answers"] == ["gsm", "grams"] and text["options"] == []
    certificate = manifest["certificate"]
    assert certificate["title"] == "Certificate of Watercolour"
    assert certificate["paper_size"] == "letter" and certificate["signature"]["path"].endswith(
        ".png"
    )
    # No row id anywhere but the informational source block.
    assert not _keys_like_ids({k: v for k, v in manifest.items() if k != "source"})


def _keys_like_ids(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [k for k in value if k == "id" or k.endswith("_id")]
        return found + [k for v in value.values() for k in _keys_like_ids(v)]
    if isinstance(value, list):
        return [k for v in value for k in _keys_like_ids(v)]
    return []


def test_export_job_builds_the_archive_with_its_files(rich_a: Rich) -> None:
    job = _export(rich_a)
    assert job.status == JobStatus.READY and job.progress == 100
    assert job.archive_key.startswith(f"schools/{rich_a.school.pk}/course-archives/exports/")
    assert job.size == default_storage.size(job.archive_key) and job.expires_at
    manifest, files = read_zip(_download(rich_a, job))
    assert set(files) == {
        "files/cover.png",
        "files/attachments/0001.pdf",
        "files/attachments/0002.csv",
        manifest["certificate"]["signature"]["path"],
    }
    assert files["files/attachments/0001.pdf"] == PDF_BYTES
    assert files["files/attachments/0002.csv"] == CSV_BYTES
    with default_storage.open(rich_a.course.cover_key, "rb") as fh:
        assert files["files/cover.png"] == fh.read()


def test_export_progress_is_reported_as_it_copies(rich_a: Rich, monkeypatch: Any) -> None:
    seen: list[int] = []
    real = jobs._reporter

    def spy(model: Any, pk: int) -> Any:
        report = real(model, pk)

        def wrapped(done: int, total: int) -> None:
            report(done, total)
            seen.append(model.objects.get(pk=pk).progress)

        return wrapped

    monkeypatch.setattr(jobs, "_reporter", spy)
    _export(rich_a)
    assert seen[0] == 0 and len(set(seen)) >= 3 and seen == sorted(seen)


def test_export_of_a_deleted_course_fails_with_a_reason(rich_a: Rich) -> None:
    from courseplatform.courses import services as courses

    with school_context(rich_a.school):
        job = services.request_export(
            school=rich_a.school, actor=rich_a.owner, course=rich_a.course
        )
        courses.delete_course(school=rich_a.school, actor=rich_a.owner, course=rich_a.course)
    assert jobs.run_export(school_id=rich_a.school.pk, export_id=job.pk) == "failed"
    with school_context(rich_a.school):
        job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "deleted" in job.error


def test_export_job_runs_once(rich_a: Rich) -> None:
    job = _export(rich_a)
    assert jobs.run_export(school_id=rich_a.school.pk, export_id=job.pk) == "skipped"


def test_export_written_under_a_prefix_for_the_school_export(rich_a: Rich, tmp_path: Any) -> None:
    path = tmp_path / "school.zip"
    with zipfile.ZipFile(path, "w") as zf, school_context(rich_a.school):
        manifest = export.write_course_archive(
            school=rich_a.school, course=rich_a.course, zf=zf, prefix="courses/watercolour/"
        )
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert "courses/watercolour/manifest.json" in names
        assert json.loads(zf.read("courses/watercolour/manifest.json")) == manifest
        assert "courses/watercolour/files/cover.png" in names


# --- the signed link -----------------------------------------------------------------


def test_download_link_refused_on_another_schools_host(rich_a: Rich, school_b: Any) -> None:
    job = _export(rich_a)
    with school_context(rich_a.school):
        path = links.download_path(job)
    from django.test import Client

    client_b = Client(HTTP_HOST=host_of(school_b.school))
    with school_context(school_b.school):
        client_b.force_login(school_b.owner)
    assert client_b.get(path).status_code == 404
    # Nor by the export's id on B's progress endpoint.
    assert client_b.get(f"/manage/courses/archives/exports/{job.pk}/").status_code == 404


def test_download_link_forged_or_tampered_is_refused(rich_a: Rich, school_b: Any) -> None:
    job = _export(rich_a)
    client = rich_a.client()
    # Signed with another salt (another feature's token) or another key: refused.
    other_salt = signing.dumps({"s": rich_a.school.pk, "x": job.uuid.hex}, salt="other")
    other_key = signing.dumps(
        {"s": rich_a.school.pk, "x": job.uuid.hex}, key="not-the-secret", salt=links.SALT
    )
    # A genuine token of school B naming A's export: signed, but for B.
    for_b = signing.dumps({"s": school_b.school.pk, "x": job.uuid.hex}, salt=links.SALT)
    with school_context(rich_a.school):
        good = links.download_path(job)
    token = good.rstrip("/").rsplit("/", 1)[-1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (other_salt, other_key, for_b, tampered, "nope"):
        assert client.get(f"/manage/courses/archives/download/{bad}/").status_code == 404, bad
    assert client.get(good).status_code == 302


def test_download_link_expires(rich_a: Rich, monkeypatch: Any, settings: Any) -> None:
    job = _export(rich_a)
    real = time.time
    past = real() - settings.COURSE_ARCHIVE_LINK_TTL_SECONDS - 5
    monkeypatch.setattr("django.core.signing.time.time", lambda: past)
    with school_context(rich_a.school):
        old = links.download_path(job)
    monkeypatch.setattr("django.core.signing.time.time", real)
    assert rich_a.client().get(old).status_code == 404


def test_download_needs_a_manager_of_the_course(rich_a: Rich, make_user: Any) -> None:
    job = _export(rich_a)
    with school_context(rich_a.school):
        path = links.download_path(job)
    from django.test import Client

    anonymous = Client(HTTP_HOST=rich_a.host)
    assert anonymous.get(path).status_code in (302, 403)
    assert "login" in anonymous.get(path).get("Location", "login")
    for role in ("student", "instructor"):  # an instructor of another course
        person = make_user(rich_a.school, f"{role}@alpha.test", role=role)
        response = rich_a.client(person).get(path)
        assert response.status_code in (403, 404), role


def test_expired_archive_is_not_served(rich_a: Rich) -> None:
    from datetime import timedelta

    from django.utils import timezone

    job = _export(rich_a)
    with school_context(rich_a.school):
        path = links.download_path(job)
        CourseExport.objects.filter(pk=job.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    assert rich_a.client().get(path).status_code == 404


def test_purge_removes_expired_archives_only(rich_a: Rich, school_b: Any) -> None:
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    old, fresh = _export(rich_a), _export(rich_a)
    with school_context(rich_a.school):
        CourseExport.objects.filter(pk=old.pk).update(
            expires_at=timezone.now() - timedelta(hours=1)
        )
    out = StringIO()
    call_command("purge_course_archives", "--quiet", stdout=out)
    assert "removed 1 course archive file(s)" in out.getvalue()
    assert not default_storage.exists(old.archive_key)
    assert default_storage.exists(fresh.archive_key)
    with school_context(rich_a.school):
        old.refresh_from_db()
    assert old.archive_key == "" and old.is_expired
    page = rich_a.client().get(f"/manage/courses/{rich_a.course.pk}/export/").content.decode()
    assert "Expired" in page and page.count("Download .zip") == 1
    out = StringIO()
    call_command("purge_course_archives", "--quiet", stdout=out)
    assert out.getvalue() == ""


def test_purge_drops_uploads_of_imports_that_never_started(rich_a: Rich, settings: Any) -> None:
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from courseplatform.portability.models import CourseImport

    from .support import export_bytes, upload_of

    data = export_bytes(rich_a.school, rich_a.owner, rich_a.course)
    with school_context(rich_a.school):
        job = services.request_import(
            school=rich_a.school, actor=rich_a.owner, upload=upload_of(data)
        )
        CourseImport.objects.filter(pk=job.pk).update(
            created_at=timezone.now() - timedelta(hours=settings.COURSE_ARCHIVE_KEEP_HOURS + 1)
        )
    assert default_storage.exists(job.archive_key)
    call_command("purge_course_archives", "--quiet", stdout=StringIO())
    assert not default_storage.exists(job.archive_key)
    with school_context(rich_a.school):
        job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "did not start in time" in job.error
    assert jobs.run_import(school_id=rich_a.school.pk, import_id=job.pk) == "skipped"
