"""Whole-school export: requested by the owner, built by the real task worker into real
S3, emailed as a signed link on the school's host; its zip holds the school and nothing
of another; links of other schools, forged or expired, and other people get nothing."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import urllib.request
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from courseplatform.accounts.models import User
from courseplatform.portability.models import SchoolExport
from courseplatform.portability.school_export import jobs, links, passphrase
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import PASSWORD, host_of

from .school_builder import FullSchool, build_full_school

EXPORT = "/manage/settings/export/"
PHRASE = "correct horse battery staple"


def signed_in(school: Any, user: Any) -> Client:
    client = Client(HTTP_HOST=host_of(school))
    with school_context(school):
        client.force_login(user)
    return client


def run_worker() -> None:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command(
            "db_worker", queue_name="*", batch=True, startup_delay=False, reload=False, verbosity=0
        )
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def exports_of(school: Any) -> list[SchoolExport]:
    with school_context(school):
        return list(SchoolExport.objects.filter(school=school).order_by("pk"))


@pytest.mark.django_db(transaction=True)
def test_export_of_a_whole_school_on_s3_through_the_worker(
    make_school: Callable[..., Any], s3_server: Any, s3_default_storage: Any, tmp_path: Path
) -> None:
    alpha: FullSchool = build_full_school(make_school, "alpha")
    bravo: FullSchool = build_full_school(make_school, "bravo")
    owner = signed_in(alpha.school, alpha.owner)
    page = owner.post(
        EXPORT,
        {
            "codes": "encrypted",
            "passphrase": PHRASE,
            "passphrase_again": PHRASE,
            "include_videos": "on",
        },
    )
    assert page.status_code == 302
    export = exports_of(alpha.school)[-1]
    assert export.status == "queued" and export.passphrase_ciphertext
    assert PHRASE not in export.passphrase_ciphertext
    run_worker()
    export = exports_of(alpha.school)[-1]
    assert export.status == "ready" and export.progress == 100
    assert export.passphrase_ciphertext == ""  # the passphrase is gone once used
    assert export.archive_key.startswith(f"schools/{alpha.school.pk}/")
    # The owner is emailed a link on the school's own host.
    [email] = [m for m in mail.outbox if "export" in m.subject]
    assert email.to == [alpha.owner.email]
    link = re.search(r"http://alpha\.localhost[^\s\"]+/export/download/[^\s\"]+/", str(email.body))
    assert link is not None
    path = link.group(0).split("localhost", 1)[1].split("/", 1)[1]
    path = "/" + path
    # The list shows it ready with a download link (signed again, for this request).
    listing = owner.get(EXPORT)
    assert b"/manage/settings/export/download/" in listing.content
    # Downloading: a redirect to a short-lived presigned URL of the bucket.
    answer = owner.get(path)
    assert answer.status_code == 302
    assert answer["Location"].startswith(s3_server.endpoint_url)
    with urllib.request.urlopen(answer["Location"]) as response:
        body = response.read()
    archive = zipfile.ZipFile(io.BytesIO(body))
    names = set(archive.namelist())
    summary = json.loads(archive.read("school.json"))
    assert summary["format"] == "courseplatform-school-export"
    assert summary["school"]["slug"] == "alpha"
    slugs = {c["slug"] for c in summary["courses"]}
    assert slugs == {alpha.course.slug, alpha.quiz_course.slug}
    for slug in slugs:
        manifest = json.loads(archive.read(f"courses/{slug}/manifest.json"))
        assert manifest["course"]["slug"] == slug or manifest["course"]["title"]
    assert any(n.startswith(f"courses/{alpha.course.slug}/") and n.endswith(".pdf") for n in names)
    # The video's original file came along (asked for), inside its course's folder.
    assert summary["video_sources"] is True
    assert any(
        n.startswith(f"courses/{alpha.course.slug}/videos/") and "/source." in n for n in names
    )
    students = archive.read("students.csv").decode("utf-8-sig")
    assert all(s.email in students for s in alpha.students)
    enrolments = archive.read("enrolments.csv").decode("utf-8-sig")
    assert f"{alpha.students[0].email},{alpha.course.slug},code" in enrolments
    assert ",100\r\n" in enrolments  # student 0 finished the course
    assert alpha.students[0].email in archive.read("progress.csv").decode("utf-8-sig")
    attempts = archive.read("quiz_attempts.csv").decode("utf-8-sig")
    assert f"{alpha.students[0].email},{alpha.quiz_course.slug},Check yourself,1," in attempts
    assert alpha.students[0].email in archive.read("certificates.csv").decode("utf-8-sig")
    assert "school.closure" not in archive.read("audit_log.csv").decode("utf-8-sig")
    assert "course.created" in archive.read("audit_log.csv").decode("utf-8-sig")
    assert any(n.startswith("pages/") for n in names) and "theme.json" in names
    # Codes: encrypted, not in the clear anywhere; openssl opens them with the passphrase.
    assert "access_codes.csv" not in names and "access_codes.csv.enc" in names
    encrypted = tmp_path / "access_codes.csv.enc"
    encrypted.write_bytes(archive.read("access_codes.csv.enc"))
    decrypted = subprocess.run(
        [
            *passphrase.OPENSSL_COMMAND.split()[:-4],
            "-in",
            str(encrypted),
            "-pass",
            f"pass:{PHRASE}",
        ],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8-sig")
    assert all(code in decrypted for code in alpha.codes)
    assert passphrase.decrypt(encrypted.read_bytes(), PHRASE).decode("utf-8-sig") == decrypted
    with pytest.raises(passphrase.DecryptError):
        passphrase.decrypt(encrypted.read_bytes(), "a wrong passphrase!")
    everything = b"".join(archive.read(n) for n in names)
    for code in alpha.codes:
        assert code.encode() not in everything
    # Nothing of school B in it.
    for marker in [bravo.school.slug, *(s.email for s in bravo.students), *bravo.codes]:
        assert marker.encode() not in everything, marker

    # School B: its owner cannot see, poll or download A's export.
    intruder = signed_in(bravo.school, bravo.owner)
    assert intruder.get(path).status_code == 404
    assert intruder.get(f"{EXPORT}{export.uuid}/progress/").status_code == 404
    assert str(export.uuid).encode() not in intruder.get(EXPORT).content
    # On A's host B's owner is not signed in: sent to sign in, nothing served.
    other_host = Client(HTTP_HOST=host_of(alpha.school))
    with school_context(bravo.school):
        other_host.force_login(bravo.owner)
    assert other_host.get(path).status_code == 302
    assert "/accounts/login/" in other_host.get(path)["Location"]
    # A forged link, and an instructor or student of A with the real link.
    assert owner.get(path[:-3] + "AAA/").status_code == 404
    with school_context(alpha.school):
        instructor = User.objects.get(email="teacher@alpha.test")
    assert signed_in(alpha.school, instructor).get(path).status_code == 403
    assert signed_in(alpha.school, alpha.students[0]).get(path).status_code == 403

    # Expiry: the link stops working and housekeeping deletes the file.
    with school_context(alpha.school):
        SchoolExport.objects.filter(pk=export.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    assert owner.get(path).status_code == 404
    client = s3_server.client()
    assert client.list_objects_v2(Bucket=s3_server.bucket, Prefix=export.archive_key)["KeyCount"]
    call_command("expire_school_exports", "--quiet")
    assert not client.list_objects_v2(Bucket=s3_server.bucket, Prefix=export.archive_key)[
        "KeyCount"
    ]
    export = exports_of(alpha.school)[-1]
    assert export.status == "expired" and export.archive_key == ""
    # B's export (the builder's, not expired) and its file are untouched.
    [kept] = exports_of(bravo.school)
    assert kept.status == "ready"
    assert client.list_objects_v2(Bucket=s3_server.bucket, Prefix=kept.archive_key)["KeyCount"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"codes": "encrypted", "passphrase": "short", "passphrase_again": "short"},
            b"12 characters",
        ),
        ({"codes": "encrypted", "passphrase": PHRASE, "passphrase_again": PHRASE + "x"}, b"differ"),
        ({"codes": "rot13"}, b"Select a valid choice"),
        ({}, b"This field is required"),
    ],
)
def test_bad_export_requests_change_nothing(
    school_a: Any, form: dict[str, str], message: bytes
) -> None:
    response = signed_in(school_a.school, school_a.owner).post(EXPORT, form)
    assert response.status_code == 400
    assert message in response.content
    assert exports_of(school_a.school) == []


@pytest.mark.django_db
def test_only_the_owner_exports_and_one_at_a_time(school_a: Any, make_user: Any) -> None:
    school = school_a.school
    instructor = make_user(school, "ina@alpha.test", role=User.Role.INSTRUCTOR)
    student = make_user(school, "stu@alpha.test")
    for person in (instructor, student):
        assert signed_in(school, person).post(EXPORT, {"codes": "plain"}).status_code == 403
        assert signed_in(school, person).get(EXPORT).status_code == 403
    assert Client(HTTP_HOST=host_of(school)).get(EXPORT).status_code == 302
    assert exports_of(school) == []
    owner = signed_in(school, school_a.owner)
    assert owner.post(EXPORT, {"codes": "plain"}).status_code == 302
    again = owner.post(EXPORT, {"codes": "none"})
    assert again.status_code == 400 and b"already being built" in again.content
    assert len(exports_of(school)) == 1


@pytest.mark.django_db
def test_plain_codes_local_storage_and_the_closing_school(
    school_a: Any, school_b: Any, settings: Any, tmp_path: Path
) -> None:
    """A closing school's owner can still export and download (streamed from the app,
    local storage); the codes are in the clear when asked so."""
    from courseplatform.access.services import create_batch
    from courseplatform.courses import services as course_services
    from courseplatform.portability import closure

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        course = course_services.create_course(
            school=school, actor=owner, title="Only course", subtitle="", description_md=""
        )
        codes = create_batch(
            school=school, actor=owner, name="Batch", course_ids=[course.pk], code_count=2
        )
        closure.request_closure(school=school, actor=owner, confirm_slug="alpha", password=PASSWORD)
    client = signed_in(school, owner)
    assert client.get("/").status_code == 503
    assert client.get(EXPORT).status_code == 200
    assert client.post(EXPORT, {"codes": "plain"}).status_code == 302
    [export] = exports_of(school)
    assert jobs.run_export(school_id=school.pk, export_id=export.pk) == "ready"
    [export] = exports_of(school)
    progress = client.get(f"{EXPORT}{export.uuid}/progress/")
    assert progress.status_code == 200 and b"Download" in progress.content
    answer = client.get(links.download_path(export))
    assert answer.status_code == 200
    body = b"".join(answer.streaming_content)  # type: ignore[attr-defined]
    archive = zipfile.ZipFile(io.BytesIO(body))
    plain = archive.read("access_codes.csv").decode("utf-8-sig")
    assert all(code in plain for code in codes.codes)
    # B's owner on B's host: A's export is unknown there.
    assert (
        signed_in(school_b.school, school_b.owner).get(links.download_path(export)).status_code
        == 404
    )
