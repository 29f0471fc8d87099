"""Course management endpoints off the happy path: plain GETs go back to the editor,
a person id that is not a number or not of this school is not found, an over-long
preview is not rendered, a no-JS attachment removal returns to the lesson, and a
signed-out htmx "mark complete" is sent to sign in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from courseplatform.courses import services
from courseplatform.courses.models import Attachment, CourseInstructor
from courseplatform.courses.views_manage.courses import MAX_PREVIEW_CHARS
from courseplatform.tenancy.rls import school_context

from .test_manage_views import ALPHA, HTMX, Outline, _logged_in, build_outline, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client_for: Any, school_a: Any) -> Client:
    return _logged_in(client_for, ALPHA, school_a.owner)


@pytest.fixture
def built(school_a: Any) -> Outline:
    return build_outline(school_a.school, school_a.owner)


def test_manage_gets_go_back_to_the_editor_and_change_nothing(
    client: Client, school_a: Any, built: Outline
) -> None:
    course, lesson = built.course.pk, built.lessons[0].pk
    before = snapshot(school_a.school)
    for url, location in [
        (f"/manage/courses/{course}/cover/", f"/manage/courses/{course}/#cover"),
        (f"/manage/courses/{course}/status/", f"/manage/courses/{course}/"),
        (f"/manage/courses/{course}/instructors/", f"/manage/courses/{course}/#instructors"),
        (
            f"/manage/courses/lessons/{lesson}/attachments/",
            f"/manage/courses/lessons/{lesson}/#attachments",
        ),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == location, url
    assert snapshot(school_a.school) == before


def test_course_instructor_unknown_or_foreign_person_is_not_found(
    client: Client, school_a: Any, school_b: Any, built: Outline
) -> None:
    url = f"/manage/courses/{built.course.pk}/instructors/"
    assert client.post(url, {"user": "nobody", "action": "add"}).status_code == 404
    assert client.post(url, {"user": school_b.owner.pk, "action": "add"}).status_code == 404
    with school_context(school_a.school):
        teachers = CourseInstructor.objects.filter(course=built.course)
        assert list(teachers.values_list("user_id", flat=True)) == [school_a.owner.pk]


def test_markdown_preview_of_an_over_long_text_is_not_rendered(client: Client) -> None:
    response = client.post(
        "/manage/courses/preview/", {"body_md": "# Big\n" + "x" * MAX_PREVIEW_CHARS}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "too long to preview" in html and "<h1" not in html


def test_attachment_removal_without_htmx_returns_to_the_lesson(
    client: Client, school_a: Any, built: Outline
) -> None:
    attachment = built.attachment
    response = client.post(f"/manage/courses/attachments/{attachment.pk}/delete/")
    lesson = built.lessons[0].pk
    assert response.status_code == 302
    assert response["Location"] == f"/manage/courses/lessons/{lesson}/#attachments"
    with school_context(school_a.school):
        assert not Attachment.objects.filter(pk=attachment.pk).exists()


def test_lesson_complete_asks_an_anonymous_htmx_request_to_sign_in(
    client_for: Any, school_a: Any, built: Outline
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        course = services.set_course_status(
            school=school, actor=owner, course=built.course, publish=True
        )
    lesson_path = f"/courses/{course.slug}/lessons/{built.lessons[0].pk}/"
    response = client_for(ALPHA).post(lesson_path + "complete/", headers=HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/accounts/login/?next={lesson_path}"
