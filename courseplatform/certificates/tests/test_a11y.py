"""The certificate pages in Chromium, in English and Arabic: axe-core finds no WCAG 2.2
A/AA violation and Arabic is right-to-left.

Pages: the owner's certificate page of a course (settings, issued certificates with a
revoked one, signature), a certificate's public page, the public verification page
before and after uploading a genuine PDF. Screenshots: test-output/screenshots/ar-*.png.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from courseplatform.video.tests.a11y_support import (
    PASSWORD,
    check_arabic,
    check_english,
    log_in,
    use_language,
)
from tests.fixtures.browser import LiveApp

pytestmark = pytest.mark.e2e


@pytest.fixture
def certificate_school(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.accounts.models import User
    from courseplatform.certificates import services
    from courseplatform.courses import services as courses
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    slug = f"a11y-cert-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Brush & Ink",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        course = courses.create_course(school=school, actor=owner, title="Watercolour Basics")
        section = courses.add_section(school=school, actor=owner, course=course, title="Start")
        lesson = courses.add_lesson(school=school, actor=owner, section=section, title="Brushes")
        courses.set_course_status(school=school, actor=owner, course=course, publish=True)
        services.update_settings(
            school=school,
            actor=owner,
            course=course,
            enabled=True,
            title="Certificate of Completion",
            signer_name="Ada Painter",
            signer_title="Lead instructor",
        )
        certificates = []
        for email, name in (("sam", "Sam Student"), ("rae", "Rae Revoked")):
            student = User.objects.create_user(
                f"{email}@{slug}.test", PASSWORD, school=school, full_name=name
            )
            courses.enroll_student(
                school=school, actor=owner, course=course, student=student, source="manual"
            )
            courses.set_lesson_completed(school=school, student=student, lesson=lesson)
            certificate, _ = services.issue_certificate(
                school=school, actor=None, course=course, student=student, notify=False
            )
            certificates.append(certificate)
        services.revoke_certificate(
            school=school, actor=owner, certificate=certificates[1], reason="Test"
        )
    return SimpleNamespace(host=f"{slug}.", owner=owner, course=course, certificate=certificates[0])


def test_certificate_pages_are_accessible_in_english_and_arabic(
    live_app: LiveApp, certificate_school: Any, new_page: Callable[[], Page]
) -> None:
    cs = certificate_school
    manage = f"/manage/courses/{cs.course.pk}/certificate/"
    page = new_page()
    log_in(page, live_app, cs.host, cs.owner.email, manage)
    # Downloaded by the browser itself (Playwright's own HTTP client cannot resolve
    # *.localhost the way the browser is told to).
    encoded = page.evaluate(
        """async (url) => {
            const response = await fetch(url);
            if (!response.ok || response.headers.get("content-type") !== "application/pdf") {
                return "";
            }
            const bytes = new Uint8Array(await response.arrayBuffer());
            let binary = "";
            bytes.forEach((byte) => { binary += String.fromCharCode(byte); });
            return btoa(binary);
        }""",
        f"/my/certificates/{cs.certificate.code}.pdf",
    )
    assert encoded, "the owner could not download the certificate PDF"
    pdf = base64.b64decode(encoded)
    pages = [
        (manage, "certificates-manage"),
        (f"/certificates/{cs.certificate.code}/", "certificate-public"),
        ("/certificates/verify/", "certificate-verify"),
    ]
    for language, check in (("en", check_english), ("ar", check_arabic)):
        use_language(page, live_app, cs.host, language)
        for path, name in pages:
            page.goto(live_app.url(cs.host, path))
            check(page, name)
        # Upload the genuine PDF: the verdict and the certificate are shown.
        page.locator('input[type="file"][name="pdf"]').set_input_files(
            {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": pdf}
        )
        page.locator('main form[enctype="multipart/form-data"] button[type="submit"]').click()
        expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "genuine")
        check(page, "certificate-verified")
    expect(page.locator("[data-verdict]")).to_contain_text("أصلية")
    expect(page.locator("[data-certificate] dt").first).to_have_text("مُنحت إلى")
