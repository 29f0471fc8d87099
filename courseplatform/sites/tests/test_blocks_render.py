"""The two rendering stages of dynamic blocks, called directly: course covers become
signed links only at stage 2 and only for keys of the school; instructor blocks show
only the school's active owners and instructors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import RequestFactory

from courseplatform.courses.models import Course
from courseplatform.sites import blocks
from courseplatform.tenancy.rls import school_context

from .support import publish_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def school_site(make_school: Callable[..., Any], settings: Any) -> Any:
    settings.ROOT_URLCONF = "courseplatform.urls.school"  # pages render on the school sites
    return make_school("blocks")


def _render(school: Any, html: str) -> tuple[blocks.Body, str]:
    with school_context(school):
        body = blocks.render_body(school=school, html=html, css="")
        request = RequestFactory().get("/", HTTP_HOST=f"{school.slug}.localhost")
        return body, str(blocks.finish(body, request=request, school=school))


def test_course_cover_is_signed_per_request_not_cached(school_site: Any) -> None:
    school, owner = school_site.school, school_site.owner
    course = publish_course(school, owner, "Watercolour Basics")
    with school_context(school):
        Course.objects.filter(pk=course.pk).update(cover_key=f"schools/{school.pk}/covers/abc.png")
    body, html = _render(school, f'<div data-cp-block="course" data-course="{course.pk}"></div>')
    # The cacheable stage holds a placeholder, never a link that would expire in the cache.
    assert "/files/" not in body.html
    assert body.covers == {course.pk: (f"schools/{school.pk}/covers/abc.png", course.slug)}
    assert f"__cp{body.nonce}cover{course.pk}__" not in html
    assert "/files/" in html


def test_course_cover_outside_the_school_prefix_is_never_signed(
    school_site: Any, make_school: Callable[..., Any]
) -> None:
    school, owner = school_site.school, school_site.owner
    other = make_school("blocksother").school
    course = publish_course(school, owner, "Watercolour Basics")
    with school_context(school):
        Course.objects.filter(pk=course.pk).update(cover_key=f"schools/{other.pk}/covers/x.png")
    body, html = _render(school, '<div data-cp-block="catalogue"></div>')
    assert course.pk in body.covers
    assert "Watercolour Basics" in html
    assert "/files/" not in html and f"__cp{body.nonce}" not in html


@pytest.mark.parametrize("user_id", ["", "abc", "-3", "1" * 19])
def test_instructor_block_with_a_malformed_id_renders_nothing(
    school_site: Any, user_id: str
) -> None:
    _, html = _render(
        school_site.school, f'<p>x</p><div data-cp-block="instructor" data-user="{user_id}"></div>'
    )
    assert 'data-cp-rendered="instructor"' not in html


def test_instructor_block_shows_staff_only(school_site: Any, make_user: Callable[..., Any]) -> None:
    school = school_site.school
    student = make_user(school, "student@blocks.test", role="student")
    teacher = make_user(school, "teacher@blocks.test", role="instructor")
    block = '<div data-cp-block="instructor" data-user="{}"></div>'
    _, html = _render(school, block.format(student.pk))
    assert 'data-cp-rendered="instructor"' not in html
    _, html = _render(school, block.format(teacher.pk))
    assert 'data-cp-rendered="instructor"' in html and "Instructor" in html
    with school_context(school):
        type(teacher).objects.filter(pk=teacher.pk).update(is_active=False)
    _, html = _render(school, block.format(teacher.pk))
    assert 'data-cp-rendered="instructor"' not in html
