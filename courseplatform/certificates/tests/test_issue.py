"""Issuing certificates: on completion (the course.completed event), once, emailed,
audited; the owner's settings, bulk issue and revoke; bad input; two schools."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from courseplatform.accounts.models import User
from courseplatform.certificates import bulk, services
from courseplatform.certificates.models import Certificate, CertificateSettings
from courseplatform.courses import services as courses
from courseplatform.ops import events
from courseplatform.ops.files import UploadRejected
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context

from .conftest import Setup, build, png_upload

pytestmark = pytest.mark.django_db


def audit_actions(setup: Setup) -> list[str]:
    with school_context(setup.school):
        return list(
            AuditLog.objects.filter(school=setup.school, action__startswith="certificate.")
            .order_by("id")
            .values_list("action", flat=True)
        )


def test_completing_every_lesson_issues_once_emails_and_audits(
    alpha: Setup, django_capture_on_commit_callbacks: Any
) -> None:
    seen: list[events.Event] = []
    events.subscribe("test-cert", seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            with school_context(alpha.school):
                courses.set_lesson_completed(
                    school=alpha.school, student=alpha.student, lesson=alpha.lessons[0]
                )
        assert alpha.certificate() is None  # one lesson left
        with django_capture_on_commit_callbacks(execute=True):
            alpha.complete_all()
    finally:
        events.unsubscribe("test-cert")
    completed = [e for e in seen if e.type == "course.completed"]
    assert len(completed) == 1
    assert completed[0].data["course"]["id"] == alpha.course.pk
    assert completed[0].data["student"]["id"] == alpha.student.pk
    certificate = alpha.certificate()
    assert certificate is not None
    assert len(certificate.code) == 22  # token_urlsafe(16): 128 bits
    assert certificate.student_name == "Sam Øster-Lee"
    assert certificate.course_title == "Watercolour Basics"
    assert certificate.school_name == alpha.school.name
    assert certificate.signer_name == "Ada Painter"
    assert audit_actions(alpha) == ["certificate.settings_changed", "certificate.issued"]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [alpha.student.email]
    assert "Watercolour Basics" in message.subject
    assert f"/my/certificates/{certificate.code}.pdf" in message.body
    assert f"/certificates/{certificate.code}/" in message.body

    # Un-completing and completing again announces again, but issues nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        with school_context(alpha.school):
            courses.set_lesson_completed(
                school=alpha.school,
                student=alpha.student,
                lesson=alpha.lessons[1],
                completed=False,
            )
            courses.set_lesson_completed(
                school=alpha.school, student=alpha.student, lesson=alpha.lessons[1]
            )
    with school_context(alpha.school):
        assert Certificate.objects.filter(school=alpha.school).count() == 1
    assert len(mail.outbox) == 1


def test_no_certificate_when_not_enabled(
    make_school: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    setup = build(make_school, "alpha", enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        setup.complete_all()
    assert setup.certificate() is None
    with school_context(setup.school), pytest.raises(services.CertificateError):
        services.issue_certificate(
            school=setup.school, actor=None, course=setup.course, student=setup.student
        )


def test_issue_refused_before_completion(alpha: Setup) -> None:
    with school_context(alpha.school), pytest.raises(services.CertificateError, match="completed"):
        services.issue_certificate(
            school=alpha.school, actor=None, course=alpha.course, student=alpha.student
        )
    assert alpha.certificate() is None


def test_issue_is_idempotent(alpha: Setup) -> None:
    alpha.complete_all()
    with school_context(alpha.school):
        first, created = services.issue_certificate(
            school=alpha.school, actor=None, course=alpha.course, student=alpha.student
        )
        again, created_again = services.issue_certificate(
            school=alpha.school, actor=None, course=alpha.course, student=alpha.student
        )
    assert created and not created_again
    assert first.pk == again.pk


def test_bulk_issue_for_students_who_finished_before_enabling(
    make_school: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    setup = build(make_school, "alpha", enabled=False)
    other = setup.add_student("kim@alpha.test", "Kim Early")
    unfinished = setup.add_student("lou@alpha.test", "Lou Later")
    with django_capture_on_commit_callbacks(execute=True):
        setup.complete_all()
        setup.complete_all(other)
    assert setup.certificate() is None
    with school_context(setup.school):
        with pytest.raises(services.CertificateError, match="Turn the certificate on"):
            bulk.issue_to_qualifying(school=setup.school, actor=setup.owner, course=setup.course)
        services.update_settings(
            school=setup.school,
            actor=setup.owner,
            course=setup.course,
            enabled=True,
            title="Certificate",
            signer_name="Ada",
        )
        with django_capture_on_commit_callbacks(execute=True):
            issued, queued = bulk.issue_to_qualifying(
                school=setup.school, actor=setup.owner, course=setup.course
            )
        assert (issued, queued) == (2, 0)
        assert bulk.issue_to_qualifying(
            school=setup.school, actor=setup.owner, course=setup.course
        ) == (0, 0)
    assert setup.certificate(other) is not None
    assert setup.certificate(unfinished) is None
    assert len(mail.outbox) == 2
    assert "certificate.bulk_issue" in audit_actions(setup)


@pytest.mark.django_db(transaction=True)
def test_bulk_issue_beyond_the_inline_limit_goes_to_the_task(
    make_school: Callable[..., Any], settings: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    setup = build(make_school, "alpha")
    students = [setup.add_student(f"s{i}@alpha.test", f"Student {i}") for i in range(3)]
    # They finished before the certificate existed: take it away while they complete.
    with school_context(setup.school):
        CertificateSettings.objects.filter(school=setup.school).update(enabled=False)
    for student in students:
        setup.complete_all(student)
    with school_context(setup.school):
        CertificateSettings.objects.filter(school=setup.school).update(enabled=True)
    settings.CERTIFICATE_BULK_INLINE_MAX = 2
    with school_context(setup.school):
        issued, queued = bulk.issue_to_qualifying(
            school=setup.school, actor=setup.owner, course=setup.course
        )
    assert (issued, queued) == (0, 3)
    result = DBTaskResult.objects.get(task_path__endswith="issue_to_qualifying_task")
    # The real worker, one pass over what is queued (it installs its own signal handlers).
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command(
            "db_worker", queue_name="*", batch=True, startup_delay=False, reload=False, verbosity=0
        )
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    result.refresh_from_db()
    assert result.status == "SUCCESSFUL"
    assert all(setup.certificate(student) is not None for student in students)
    # Running it again issues nothing more.
    assert bulk.issue_to_qualifying_task.call(setup.school.pk, setup.course.pk, setup.owner.pk) == 0


def test_settings_bad_input_changes_nothing(alpha: Setup) -> None:
    with school_context(alpha.school):
        before = CertificateSettings.objects.get(school=alpha.school, course=alpha.course)
        for kwargs, field in (
            ({"title": ""}, "title"),
            ({"title": "x" * 121}, "title"),
            ({"title": "Line\nbreak"}, "title"),
            ({"signer_name": ""}, "signer_name"),
            ({"paper_size": "a3"}, "paper_size"),
        ):
            values: dict[str, Any] = {"enabled": True, "title": "T", "signer_name": "S", **kwargs}
            with pytest.raises(ValidationError) as info:
                services.update_settings(
                    school=alpha.school, actor=alpha.owner, course=alpha.course, **values
                )
            assert field in info.value.message_dict
        after = CertificateSettings.objects.get(school=alpha.school, course=alpha.course)
    assert (after.title, after.signer_name, after.paper_size) == (
        before.title,
        before.signer_name,
        before.paper_size,
    )


def test_signature_image_validated_like_other_images(alpha: Setup) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    with school_context(alpha.school):
        with pytest.raises(UploadRejected):
            services.set_signature_image(
                school=alpha.school,
                actor=alpha.owner,
                course=alpha.course,
                upload=SimpleUploadedFile("sig.png", b"MZ\x90\x00 not an image"),
            )
        with pytest.raises(UploadRejected):
            services.set_signature_image(
                school=alpha.school,
                actor=alpha.owner,
                course=alpha.course,
                upload=SimpleUploadedFile("sig.png", b""),
            )
        conf = CertificateSettings.objects.get(school=alpha.school, course=alpha.course)
        assert conf.signature_key == ""
        conf = services.set_signature_image(
            school=alpha.school, actor=alpha.owner, course=alpha.course, upload=png_upload()
        )
        assert conf.signature_key.startswith(f"schools/{alpha.school.pk}/certificates/")
        conf = services.set_signature_image(
            school=alpha.school, actor=alpha.owner, course=alpha.course, upload=None
        )
        assert conf.signature_key == ""


def test_only_the_owner_manages_certificates(alpha: Setup) -> None:
    alpha.complete_all()
    with school_context(alpha.school):
        instructor = User.objects.create_user(
            "ins@alpha.test",
            "a-long-test-passphrase-42",
            school=alpha.school,
            full_name="Ina",
            role=User.Role.INSTRUCTOR,
        )
        courses.set_course_instructor(
            school=alpha.school,
            actor=alpha.owner,
            course=alpha.course,
            user=instructor,
            teaching=True,
        )
        certificate, _ = services.issue_certificate(
            school=alpha.school, actor=None, course=alpha.course, student=alpha.student
        )
        for actor in (instructor, alpha.student):
            with pytest.raises(PermissionDenied):
                services.update_settings(
                    school=alpha.school,
                    actor=actor,
                    course=alpha.course,
                    enabled=False,
                    title="T",
                    signer_name="S",
                )
            with pytest.raises(PermissionDenied):
                services.revoke_certificate(
                    school=alpha.school, actor=actor, certificate=certificate, reason=""
                )
            with pytest.raises(PermissionDenied):
                bulk.issue_to_qualifying(school=alpha.school, actor=actor, course=alpha.course)
    assert alpha.certificate() is not None and not alpha.certificate().is_revoked  # type: ignore[union-attr]


def test_revoke_is_audited_and_once(alpha: Setup) -> None:
    alpha.complete_all()
    with school_context(alpha.school):
        certificate, _ = services.issue_certificate(
            school=alpha.school, actor=None, course=alpha.course, student=alpha.student
        )
        with pytest.raises(ValidationError):
            services.revoke_certificate(
                school=alpha.school, actor=alpha.owner, certificate=certificate, reason="x" * 301
            )
        revoked = services.revoke_certificate(
            school=alpha.school, actor=alpha.owner, certificate=certificate, reason="Plagiarism"
        )
        assert revoked.is_revoked and revoked.revoked_reason == "Plagiarism"
        with pytest.raises(services.CertificateError, match="already revoked"):
            services.revoke_certificate(
                school=alpha.school, actor=alpha.owner, certificate=certificate, reason=""
            )
    assert audit_actions(alpha)[-1] == "certificate.revoked"


def test_two_schools_cannot_touch_each_others_certificates(alpha: Setup, bravo: Setup) -> None:
    alpha.complete_all()
    with school_context(alpha.school):
        certificate, _ = services.issue_certificate(
            school=alpha.school, actor=None, course=alpha.course, student=alpha.student
        )
    with school_context(bravo.school):
        # RLS: school B sees no row of A's, by any filter.
        assert not Certificate.objects.filter(code=certificate.code).exists()
        assert not CertificateSettings.objects.filter(course_id=alpha.course.pk).exists()
        with pytest.raises(Http404):
            services.revoke_certificate(
                school=bravo.school, actor=bravo.owner, certificate=certificate, reason=""
            )
        with pytest.raises(Http404):
            services.update_settings(
                school=bravo.school,
                actor=bravo.owner,
                course=alpha.course,
                enabled=False,
                title="T",
                signer_name="S",
            )
        with pytest.raises(Http404):
            services.issue_certificate(
                school=bravo.school, actor=None, course=alpha.course, student=alpha.student
            )
    assert not alpha.certificate().is_revoked  # type: ignore[union-attr]


def test_my_courses_lists_the_certificate_in_one_query(alpha: Setup) -> None:
    client = alpha.client(alpha.student)
    client.get("/my/")  # warm the session, theme and menu caches
    with CaptureQueriesContext(connection) as before:
        response = client.get("/my/")
    assert response.status_code == 200 and b"data-certificate-card" not in response.content
    alpha.complete_all()
    with school_context(alpha.school):
        for i in range(3):  # more courses, more certificates: still the same count
            course = courses.create_course(school=alpha.school, actor=alpha.owner, title=f"C{i}")
            courses.enroll_student(
                school=alpha.school,
                actor=alpha.owner,
                course=course,
                student=alpha.student,
                source="manual",
            )
        services.issue_certificate(
            school=alpha.school, actor=None, course=alpha.course, student=alpha.student
        )
    certificate = alpha.certificate()
    assert certificate is not None
    client.get("/my/")  # the new courses made the school's cached menu and theme stale
    with CaptureQueriesContext(connection) as after:
        response = client.get("/my/")
    body = response.content.decode()
    assert f"/my/certificates/{certificate.code}.pdf" in body
    assert f"/my/certificates/{certificate.code}.pdf?paper=letter" in body
    assert f"/certificates/{certificate.code}/" in body
    assert len(after.captured_queries) == len(before.captured_queries)
