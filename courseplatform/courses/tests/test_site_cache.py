"""The lesson page's cached course tree and lesson bodies (courses/site_cache.py): served
from the cache while nothing changes, and every change an author makes shows on the
very next request; the cache never opens a draft or another school's course."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courseplatform.courses import services
from courseplatform.courses.models import Attachment, Lesson, Section
from courseplatform.courses.tests.test_student_views import (
    PDF_BYTES,
    Built,
    build_course,
    client_as,
    enroll,
    new_user,
    text,
)
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(school_a: Any) -> Built:
    return build_course(school_a.school, school_a.owner, sections=2, per_section=2)


@pytest.fixture
def student_client(school_a: Any, course: Built) -> Any:
    student = new_user(school_a.school, "cache@alpha.test")
    enroll(school_a.school, school_a.owner, course.course, student)
    return client_as(student, school_a.school)


def _course_reads(client: Any, path: str) -> tuple[str, int]:
    """(page, how many statements read the course's content tables)."""
    tables = ('"courses_course"', '"courses_section"', '"courses_attachment"')
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    reads = sum(
        query["sql"].startswith("SELECT") and any(f"FROM {t}" in query["sql"] for t in tables)
        for query in captured.captured_queries
    )
    return text(response), reads


def test_a_lesson_page_reads_the_course_once_then_from_the_cache(
    course: Built, student_client: Any
) -> None:
    url = course.lesson_url(course.lessons[1])
    assert _course_reads(student_client, url)[1] > 0
    assert _course_reads(student_client, url)[1] == 0
    # Another lesson of the same course: the tree is shared, only that lesson is read.
    assert _course_reads(student_client, course.lesson_url(course.lessons[2]))[1] == 0


def _change(school: Any, owner: Any, course: Built, what: str) -> str:
    """Make one kind of author change; returns a text the next page must show."""
    s = dict(school=school, actor=owner)
    with school_context(school):
        lesson = Lesson.objects.get(pk=course.lessons[1].pk)
        if what == "lesson":
            services.update_lesson(
                **s,
                lesson=lesson,
                title="Renamed Lesson Title",
                kind=lesson.kind,
                body_md="A **fresh body** now",
                is_preview=lesson.is_preview,
                duration_minutes=7,
            )
            return "fresh body"
        if what == "section":
            section = Section.objects.get(pk=lesson.section_id)
            services.rename_section(**s, section=section, title="Renamed Section Title")
            return "Renamed Section Title"
        if what == "sections-order":
            ids = list(
                Section.objects.filter(course=course.course)
                .order_by("-position")
                .values_list("pk", flat=True)
            )
            services.reorder_sections(**s, course=course.course, section_ids=ids)
            return "Lesson 4 of 4"  # lesson 1.2 is last now (it was 2 of 4)
        if what == "lessons-order":
            section = Section.objects.get(pk=lesson.section_id)
            ids = [course.lessons[1].pk, course.lessons[0].pk]
            services.reorder_lessons(**s, section=section, lesson_ids=ids)
            return "Lesson 1 of 4"
        if what == "attachment":
            services.add_attachment(
                **s,
                lesson=lesson,
                upload=SimpleUploadedFile("fresh.pdf", PDF_BYTES, "application/pdf"),
            )
            return "fresh.pdf"
        raise AssertionError(what)


CHANGES = ["lesson", "section", "sections-order", "lessons-order", "attachment"]


@pytest.mark.parametrize("what", CHANGES)
def test_every_author_change_shows_on_the_next_request(
    school_a: Any, course: Built, student_client: Any, what: str
) -> None:
    url = course.lesson_url(course.lessons[1])
    student_client.get(url)
    _course_reads(student_client, url)  # cached now
    expected = _change(school_a.school, school_a.owner, course, what)
    page, _ = _course_reads(student_client, url)
    assert expected in page


def test_removed_attachment_and_deleted_lesson_are_gone_at_once(
    school_a: Any, student_client: Any, make_school: Callable[..., Any]
) -> None:
    built = build_course(school_a.school, school_a.owner, title="Files", attachments=True)
    student = new_user(school_a.school, "files@alpha.test")
    enroll(school_a.school, school_a.owner, built.course, student)
    client = client_as(student, school_a.school)
    url = built.lesson_url(built.locked)
    assert "notes.pdf" in text(client.get(url))
    with school_context(school_a.school):
        services.delete_attachment(
            school=school_a.school,
            actor=school_a.owner,
            attachment=Attachment.objects.get(pk=built.attachment.pk),  # type: ignore[union-attr]
        )
    assert "notes.pdf" not in text(client.get(url))
    with school_context(school_a.school):
        services.delete_lesson(
            school=school_a.school,
            actor=school_a.owner,
            lesson=Lesson.objects.get(pk=built.locked.pk),
        )
    assert client.get(url).status_code == 404


def test_an_unpublished_course_is_404_for_students_at_once_but_previewed_by_its_owner(
    school_a: Any, course: Built, student_client: Any
) -> None:
    url = course.lesson_url(course.lessons[1])
    owner = client_as(school_a.owner, school_a.school)
    assert student_client.get(url).status_code == 200
    with school_context(school_a.school):
        services.set_course_status(
            school=school_a.school, actor=school_a.owner, course=course.course, publish=False
        )
    assert owner.get(url).status_code == 200  # the owner's preview caches the draft's tree
    assert student_client.get(url).status_code == 404
    assert (
        client_as(None, school_a.school).get(course.lesson_url(course.preview)).status_code == 404
    )


def test_another_schools_course_is_never_served_from_the_cache(
    school_a: Any, school_b: Any, course: Built, student_client: Any
) -> None:
    url = course.lesson_url(course.lessons[1])
    student_client.get(url)  # alpha's tree is cached
    bravo = new_user(school_b.school, "b@bravo.test")
    assert client_as(bravo, school_b.school).get(url).status_code == 404
    assert (
        client_as(None, school_b.school).get(course.lesson_url(course.preview)).status_code == 404
    )
