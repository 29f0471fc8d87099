"""The two rendering stages of dynamic blocks, called directly: course covers get their
stable public URLs (only for keys of the school) already in the cached stage;
instructor blocks show only the school's active owners and instructors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import RequestFactory

from courseplatform.courses.covers import cover_version
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


def test_course_cover_is_a_stable_url_in_the_cached_stage(school_site: Any) -> None:
    school, owner = school_site.school, school_site.owner
    course = publish_course(school, owner, "Watercolour Basics")
    key = f"schools/{school.pk}/covers/abc.png"
    with school_context(school):
        Course.objects.filter(pk=course.pk).update(cover_key=key)
    body, html = _render(school, f'<div data-cp-block="course" data-course="{course.pk}"></div>')
    # Nothing that expires in the cacheable stage: the cover's URL never changes while
    # the cover does not.
    path = f"/covers/{course.pk}/{cover_version(key)}.png"
    assert path in body.html and "/files/" not in body.html
    assert path in html and "/files/" not in html


def test_course_cover_outside_the_school_prefix_gets_no_url(
    school_site: Any, make_school: Callable[..., Any]
) -> None:
    school, owner = school_site.school, school_site.owner
    other = make_school("blocksother").school
    course = publish_course(school, owner, "Watercolour Basics")
    with school_context(school):
        Course.objects.filter(pk=course.pk).update(cover_key=f"schools/{other.pk}/covers/x.png")
    _, html = _render(school, '<div data-cp-block="catalogue"></div>')
    assert "Watercolour Basics" in html
    assert "/files/" not in html and "/covers/" not in html


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
