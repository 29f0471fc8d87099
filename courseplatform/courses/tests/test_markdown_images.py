"""Course descriptions and lesson bodies refuse images from other sites with a message
that names them (the same rule as the page builder: this school's uploads only), keep
this school's uploaded images, and never show a stored external image to students."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from courseplatform.courses import services
from courseplatform.courses.models import Course, Lesson
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

HOST = "alpha.localhost"
EXTERNAL_SOURCES = [
    '<img src="http://other.host/pixel.gif">',
    "![x](http://other.host/pixel.png)",
    "![x](//other.host/pixel.png)",
    '<img src="data:image/png;base64,iVBORw0KGgo=">',
]
UPLOADED = "![Chart](/site-media/5e1d.png)"


def _error(html: str, field_id: str) -> str:
    match = re.search(rf'<div id="{field_id}_error">(.*?)</div>', html, re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


@pytest.fixture
def course_and_lesson(school_a: Any) -> tuple[Course, Lesson]:
    with school_context(school_a.school):
        course = services.create_course(
            school=school_a.school, actor=school_a.owner, title="Inks", description_md="Old text"
        )
        section = services.add_section(
            school=school_a.school, actor=school_a.owner, course=course, title="One"
        )
        lesson = services.add_lesson(
            school=school_a.school, actor=school_a.owner, section=section, title="Intro"
        )
    return course, lesson


@pytest.fixture
def owner_client(school_a: Any, client_for: Callable[..., Client]) -> Client:
    client = client_for(HOST)
    with school_context(school_a.school):
        client.force_login(school_a.owner)
    return client


@pytest.mark.parametrize("source", EXTERNAL_SOURCES)
def test_markdown_images_external_refused_on_course_and_lesson_forms(
    source: str, school_a: Any, owner_client: Client, course_and_lesson: tuple[Course, Lesson]
) -> None:
    course, lesson = course_and_lesson
    details = owner_client.post(
        f"/manage/courses/{course.pk}/",
        {"title": "Inks", "slug": course.slug, "subtitle": "", "description_md": source},
    )
    assert details.status_code == 200
    message = _error(details.content.decode(), "id_description_md")
    assert message.startswith("Images must be uploaded to this school"), message
    body = owner_client.post(
        f"/manage/courses/lessons/{lesson.pk}/",
        {"title": "Intro", "kind": "text", "body_md": source, "duration_minutes": "0"},
    )
    assert body.status_code == 200
    assert _error(body.content.decode(), "id_body_md").startswith("Images must be uploaded")
    create = owner_client.post(
        "/manage/courses/new/", {"title": "Another", "subtitle": "", "description_md": source}
    )
    assert create.status_code == 200
    assert _error(create.content.decode(), "id_description_md").startswith("Images must be")
    with school_context(school_a.school):
        assert Course.objects.get(pk=course.pk).description_md == "Old text"
        assert Lesson.objects.get(pk=lesson.pk).body_md == ""
        assert not Course.objects.filter(title="Another").exists()


def test_markdown_images_uploaded_stay_in_course_and_lesson(
    school_a: Any, owner_client: Client, course_and_lesson: tuple[Course, Lesson]
) -> None:
    course, lesson = course_and_lesson
    saved = owner_client.post(
        f"/manage/courses/{course.pk}/",
        {"title": "Inks", "slug": course.slug, "subtitle": "", "description_md": UPLOADED},
    )
    assert saved.status_code == 302
    saved = owner_client.post(
        f"/manage/courses/lessons/{lesson.pk}/",
        {"title": "Intro", "kind": "text", "body_md": UPLOADED, "duration_minutes": "0"},
    )
    assert saved.status_code == 302
    with school_context(school_a.school):
        stored = [
            Course.objects.get(pk=course.pk).description_html,
            Lesson.objects.get(pk=lesson.pk).body_html,
        ]
    for html in stored:
        assert '<img src="/site-media/5e1d.png" alt="Chart">' in html


def test_markdown_images_service_refuses_and_changes_nothing(
    school_a: Any, course_and_lesson: tuple[Course, Lesson]
) -> None:
    course, _ = course_and_lesson
    with school_context(school_a.school), pytest.raises(ValidationError) as refused:
        services.update_course(
            school=school_a.school,
            actor=school_a.owner,
            course=course,
            title="New title",
            subtitle="",
            description_md="![x](https://other.host/a.png)",
        )
    assert "https://other.host/a.png" in refused.value.message_dict["description_md"][0]
    with school_context(school_a.school):
        assert Course.objects.get(pk=course.pk).title == "Inks"


def test_markdown_images_stored_external_never_reaches_students(
    school_a: Any, owner_client: Client, course_and_lesson: tuple[Course, Lesson]
) -> None:
    """Text saved before the rule (stored HTML with an external image) renders without it."""
    course, _ = course_and_lesson
    with school_context(school_a.school):
        Course.objects.filter(pk=course.pk).update(
            description_html='<p>Hi <img src="http://other.host/pixel.gif"></p>'
        )
    page = owner_client.get(f"/courses/{course.slug}/").content.decode()
    assert "Hi" in page and "other.host" not in page


def test_markdown_images_preview_names_the_removed_image(
    owner_client: Client, course_and_lesson: tuple[Course, Lesson]
) -> None:
    preview = owner_client.post(
        "/manage/courses/preview/",
        {"body_md": "Look: ![x](http://other.host/pixel.png) ![ok](/site-media/5e1d.png)"},
    ).content.decode()
    notice = re.search(r"<div[^>]*data-external-images[^>]*>(.*?)</div>", preview, re.DOTALL)
    assert notice and "http://other.host/pixel.png" in notice.group(1)
    assert notice.group(1).startswith("Images must be uploaded to this school")
    assert '<img src="/site-media/5e1d.png" alt="ok">' in preview
    assert '<img src="http' not in preview
    clean = owner_client.post("/manage/courses/preview/", {"body_md": UPLOADED}).content.decode()
    assert "data-external-images" not in clean
