"""The owner's certificate page: who may open it, each form, bad input, two schools,
and a constant number of queries whatever the number of certificates."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courseplatform.accounts.models import User
from courseplatform.certificates import services
from courseplatform.certificates.models import Certificate, CertificateSettings
from courseplatform.courses import services as courses
from courseplatform.tenancy.rls import school_context

from .conftest import Setup, png_upload

pytestmark = pytest.mark.django_db


def url(setup: Setup, suffix: str = "") -> str:
    return f"/manage/courses/{setup.course.pk}/certificate/{suffix}"


def issue(setup: Setup, student: User) -> Certificate:
    setup.complete_all(student)
    with school_context(setup.school):
        certificate, _ = services.issue_certificate(
            school=setup.school, actor=None, course=setup.course, student=student
        )
    return certificate


def settings_of(setup: Setup) -> CertificateSettings:
    with school_context(setup.school):
        return CertificateSettings.objects.get(school=setup.school, course=setup.course)


def test_only_the_owner_opens_the_page(alpha: Setup, bravo: Setup) -> None:
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
    owner = alpha.client(alpha.owner)
    response = owner.get(url(alpha))
    assert response.status_code == 200
    assert b"Issue to everyone who qualifies" in response.content
    # The course editor links to it, for the owner only.
    editor = f"/manage/courses/{alpha.course.pk}/"
    assert url(alpha).encode() in owner.get(editor).content
    assert alpha.client(instructor).get(url(alpha)).status_code == 403
    assert url(alpha).encode() not in alpha.client(instructor).get(editor).content
    assert alpha.client(alpha.student).get(url(alpha)).status_code == 403
    assert alpha.client().get(url(alpha)).status_code == 302
    # School B's owner, on B's host, asking for A's course: 404, and for every action.
    other = bravo.client(bravo.owner)
    assert other.get(url(alpha)).status_code == 404
    for suffix in ("", "signature/", "issue/"):
        assert other.post(url(alpha, suffix), {"title": "x"}).status_code == 404
    assert settings_of(alpha).title == "Certificate of Completion"


def test_settings_form_saves_and_refuses_bad_input(alpha: Setup) -> None:
    client = alpha.client(alpha.owner)
    response = client.post(
        url(alpha),
        {
            "enabled": "on",
            "title": "Diploma",
            "signer_name": "Ada",
            "signer_title": "",
            "paper_size": "letter",
        },
    )
    assert response.status_code == 302
    conf = settings_of(alpha)
    assert (conf.title, conf.paper_size) == ("Diploma", "letter")
    for data, message in (
        ({"title": "", "signer_name": "Ada", "paper_size": "a4"}, "This field is required."),
        ({"title": "T", "signer_name": "Ada", "paper_size": "a3"}, "Select a valid choice."),
        (
            {"enabled": "on", "title": "T", "signer_name": "", "paper_size": "a4"},
            "This field is required.",
        ),
    ):
        response = client.post(url(alpha), data)
        assert response.status_code == 400
        assert message in response.content.decode()
    conf = settings_of(alpha)
    assert (conf.title, conf.paper_size, conf.enabled) == ("Diploma", "letter", True)


def test_signature_upload_and_removal(alpha: Setup) -> None:
    client = alpha.client(alpha.owner)
    response = client.post(
        url(alpha, "signature/"),
        {"signature": SimpleUploadedFile("s.png", b"MZ\x90 not an image")},
    )
    assert response.status_code == 400
    assert "This file is not an image we can read" in response.content.decode()
    assert settings_of(alpha).signature_key == ""
    assert client.post(url(alpha, "signature/"), {}).status_code == 400
    assert client.post(url(alpha, "signature/"), {"signature": png_upload()}).status_code == 302
    assert settings_of(alpha).signature_key
    page = client.get(url(alpha)).content.decode()
    assert "Remove signature" in page
    assert client.post(url(alpha, "signature/"), {"remove": "1"}).status_code == 302
    assert settings_of(alpha).signature_key == ""


def test_issue_all_and_revoke_through_the_page(alpha: Setup) -> None:
    with school_context(alpha.school):
        CertificateSettings.objects.filter(school=alpha.school).update(enabled=False)
    alpha.complete_all()
    client = alpha.client(alpha.owner)
    response = client.post(url(alpha, "issue/"), follow=True)
    assert "Turn the certificate on first." in response.content.decode()
    with school_context(alpha.school):
        CertificateSettings.objects.filter(school=alpha.school).update(enabled=True)
    assert "(1)" in client.get(url(alpha)).content.decode()
    response = client.post(url(alpha, "issue/"), follow=True)
    assert "Issued 1 certificate." in response.content.decode()
    response = client.post(url(alpha, "issue/"), follow=True)
    assert "already has a certificate" in response.content.decode()
    certificate = alpha.certificate()
    assert certificate is not None
    revoke = url(alpha, f"{certificate.pk}/revoke/")
    response = client.post(revoke, {"reason": "x" * 301}, follow=True)
    assert "Ensure this value has at most 300 characters" in response.content.decode()
    assert not alpha.certificate().is_revoked  # type: ignore[union-attr]
    response = client.post(revoke, {"reason": "Copied work"}, follow=True)
    assert "revoked" in response.content.decode()
    assert alpha.certificate().is_revoked  # type: ignore[union-attr]
    response = client.post(revoke, {"reason": ""}, follow=True)
    assert "already revoked" in response.content.decode()
    # An unknown certificate id, and one of another course of the school.
    assert client.post(url(alpha, "999999/revoke/")).status_code == 404
    with school_context(alpha.school):
        other = courses.create_course(school=alpha.school, actor=alpha.owner, title="Other")
    assert (
        client.post(f"/manage/courses/{other.pk}/certificate/{certificate.pk}/revoke/").status_code
        == 403
    )


def test_settings_page_queries_do_not_grow_with_certificates(alpha: Setup) -> None:
    client = alpha.client(alpha.owner)
    issue(alpha, alpha.student)
    client.get(url(alpha))
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(alpha)).status_code == 200
    students = [alpha.add_student(f"s{i}@alpha.test", f"Student {i}") for i in range(5)]
    for student in students:
        issue(alpha, student)
    with school_context(alpha.school):
        assert Certificate.objects.filter(school=alpha.school).count() == 6
    client.get(url(alpha))
    with CaptureQueriesContext(connection) as large:
        response = client.get(url(alpha))
    assert response.content.decode().count("data-issued-row") == 6
    assert len(large.captured_queries) == len(small.captured_queries)


def test_setting_changes_and_issue_are_audited(alpha: Setup) -> None:
    from courseplatform.ops.models import AuditLog

    issue(alpha, alpha.student)
    with school_context(alpha.school):
        services.update_settings(
            school=alpha.school,
            actor=alpha.owner,
            course=alpha.course,
            enabled=True,
            title="Certificate of Completion",
            signer_name="Ada Painter",
            signer_title="Lead instructor",
        )  # nothing changed: no entry
        actions = list(
            AuditLog.objects.filter(school=alpha.school, action__startswith="certificate.")
            .order_by("id")
            .values_list("action", "data")
        )
    assert [a for a, _ in actions] == ["certificate.settings_changed", "certificate.issued"]
    assert actions[1][1]["by"] == "completion"
