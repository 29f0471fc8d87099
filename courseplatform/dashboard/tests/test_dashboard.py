"""The management dashboard's plan usage and the school settings page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from courseplatform.courses.services import add_attachment, add_lesson, add_section, create_course
from courseplatform.ops.models import AuditLog
from courseplatform.sites.models import Page
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.usage import Meter, usage_providers
from courseplatform.video import services as videos
from courseplatform.video.models import VideoAsset

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def _client(client_for: Callable[..., Client], school: School, user: Any) -> Client:
    client = client_for(f"{school.slug}.localhost")
    with school_context(school):
        client.force_login(user)
    return client


def _video(school: School, owner: Any, **fields: Any) -> None:
    with school_context(school):
        asset = videos.create_asset(school=school, actor=owner, filename="talk.mp4", size=1000)
        VideoAsset.objects.filter(pk=asset.pk).update(**fields)


def _course_with_attachment(school: School, owner: Any, size: int) -> None:
    with school_context(school):
        course = create_course(school=school, actor=owner, title="With a file")
        section = add_section(school=school, actor=owner, course=course, title="S")
        lesson = add_lesson(school=school, actor=owner, section=section, title="L")
        add_attachment(
            school=school,
            actor=owner,
            lesson=lesson,
            upload=SimpleUploadedFile("notes.txt", b"x" * size, "text/plain"),
        )


def test_every_meter_is_provided_by_the_apps_that_hold_its_data() -> None:
    assert set(usage_providers(Meter.COURSES)) == {"courses"}
    assert set(usage_providers(Meter.STUDENTS)) == {"accounts"}
    assert set(usage_providers(Meter.STORAGE_BYTES)) == {"courses", "video"}
    assert set(usage_providers(Meter.VIDEO_MINUTES)) == {"video"}
    assert set(usage_providers(Meter.PAGES)) == {"school_sites"}


def test_dashboard_usage_counts_each_meter_of_its_own_school_only(
    school_a: Any, school_b: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    school, owner = school_a.school, school_a.owner
    _course_with_attachment(school, owner, size=1000)
    with school_context(school):
        create_course(school=school, actor=owner, title="Second")
    make_user(school, "s1@alpha.test")
    make_user(school, "s2@alpha.test")
    make_user(school, "teacher@alpha.test", role="instructor")  # staff is not a student
    _video(
        school, owner, status="ready", source_bytes=3 * MiB, output_bytes=MiB, duration_seconds=150
    )
    # Another school's data never shows up in this school's figures.
    _course_with_attachment(school_b.school, school_b.owner, size=5000)
    make_user(school_b.school, "s@bravo.test")
    _video(school_b.school, school_b.owner, status="ready", source_bytes=MiB, duration_seconds=600)

    response = _client(client_for, school, owner).get("/manage/")

    assert response.status_code == 200
    usage = {row.label: row for row in response.context["usage"]}
    assert usage["Courses"].used == 2
    assert usage["Students"].used == 2
    assert usage["Storage"].used == 4 * MiB + 1000  # videos and lesson files alike
    assert usage["Video minutes"].used == round(150 / 60)
    with school_context(school):
        pages = Page.objects.filter(school=school).count()
    assert pages >= 1 and usage["Site pages"].used == pages  # the landing page at least
    assert usage["Courses"].limit == school.plan.max_courses
    assert usage["Site pages"].limit == school.plan.max_pages
    html = response.content.decode().replace("\xa0", " ")
    assert "Plan usage" in html and "4.0 MB" in html


def test_dashboard_is_forbidden_to_students(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    student = make_user(school_a.school, "s@alpha.test")
    client = _client(client_for, school_a.school, student)
    assert client.get("/manage/").status_code == 403
    assert client.get("/manage/settings/").status_code == 403


def test_owner_renames_the_school_with_an_audit_entry(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    school, owner = school_a.school, school_a.owner
    client = _client(client_for, school, owner)
    page = client.get("/manage/settings/")
    assert page.status_code == 200 and [row.label for row in page.context["usage"]] == [
        "Courses",
        "Students",
        "Storage",
        "Video minutes",
        "Site pages",
    ]
    response = client.post("/manage/settings/", {"name": "Alpha Institute"})
    assert response.status_code == 302 and response["Location"] == "/manage/settings/"
    school.refresh_from_db()
    assert school.name == "Alpha Institute"
    with school_context(school):
        entry = AuditLog.objects.get(action="school.settings_changed")
    assert entry.school_id == school.pk and entry.actor_id == owner.pk
    assert entry.data == {"name": "Alpha Institute", "language": "en", "time_zone": "UTC"}


def test_instructor_cannot_change_settings(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    school = school_a.school
    teacher = make_user(school, "teacher@alpha.test", role="instructor")
    client = _client(client_for, school, teacher)
    assert client.get("/manage/settings/").status_code == 200
    response = client.post("/manage/settings/", {"name": "Taken Over"}, follow=True)
    assert "Only the school owner can change settings." in response.content.decode()
    school.refresh_from_db()
    assert school.name == "Alpha Academy"
    with school_context(school):
        assert not AuditLog.objects.filter(action="school.settings_changed").exists()


@pytest.mark.parametrize(
    ("name", "problem"),
    [("", "This field is required."), ("x" * 121, "at most 120 characters")],
)
def test_settings_refuse_a_bad_name_and_change_nothing(
    school_a: Any, client_for: Callable[..., Client], name: str, problem: str
) -> None:
    school = school_a.school
    client = _client(client_for, school, school_a.owner)
    response = client.post("/manage/settings/", {"name": name})
    assert response.status_code == 200
    assert problem in response.content.decode()
    school.refresh_from_db()
    assert school.name == "Alpha Academy"
    with school_context(school):
        assert not AuditLog.objects.filter(action="school.settings_changed").exists()
