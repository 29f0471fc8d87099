"""Courses with their outline: sections and lessons, through ``courses`` services."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Status

from courseplatform.courses import selectors, services
from courseplatform.courses.models import Course, Lesson, Section

from ..guard import read_auth, write_auth
from ..pagination import paginate
from ..problems import ApiProblem
from ..schemas import (
    CourseDetailOut,
    CourseIn,
    CourseList,
    CourseOut,
    CoursePatch,
    LessonIn,
    LessonOut,
    LessonPatch,
    SectionIn,
    SectionOut,
    SectionPatch,
)
from .common import ERRORS, ListParams, actor, school

router = Router(tags=["courses"])


def _course(request: HttpRequest, course_id: int) -> Course:
    return selectors.get_course_for_manager(
        school=school(request), user=actor(request), course_id=course_id
    )


def _section(request: HttpRequest, course_id: int, section_id: int) -> Section:
    section = selectors.get_section_for_manager(
        school=school(request), user=actor(request), section_id=section_id
    )
    if section.course_id != course_id:
        raise ApiProblem(404, "Not found.", kind="not-found")
    return section


def _lesson(request: HttpRequest, course_id: int, lesson_id: int) -> Lesson:
    lesson = selectors.get_lesson_for_manager(
        school=school(request), user=actor(request), lesson_id=lesson_id
    )
    if lesson.course_id != course_id:
        raise ApiProblem(404, "Not found.", kind="not-found")
    return lesson


def _lesson_out(lesson: Lesson) -> dict[str, object]:
    return {
        "id": lesson.pk,
        "section_id": lesson.section_id,
        "title": lesson.title,
        "kind": lesson.kind,
        "body_md": lesson.body_md,
        "is_preview": lesson.is_preview,
        "duration_minutes": lesson.duration_minutes,
        "position": lesson.position,
        "video_id": str(lesson.video_id) if lesson.video_id else None,
        "updated_at": lesson.updated_at,
    }


def _detail(course: Course) -> dict[str, object]:
    sections = selectors.outline(course=course)
    return {
        **CourseOut.model_validate(course).model_dump(),
        "sections": [
            {
                "id": s.pk,
                "title": s.title,
                "position": s.position,
                "lessons": [_lesson_out(lesson) for lesson in s.lessons.all()],
            }
            for s in sections
        ],
    }


@router.get("/courses", response={200: CourseList, **ERRORS}, auth=read_auth)
def list_courses(
    request: HttpRequest,
    params: Query[ListParams],
    updated_since: datetime | None = None,
    status: str | None = Query(None, pattern="^(draft|published)$"),  # type: ignore[type-arg]
) -> dict[str, object]:
    """The school's courses in id order; `updated_since` and `status` narrow the list."""
    queryset = selectors.courses_for_manager(school=school(request), user=actor(request))
    if updated_since is not None:
        queryset = queryset.filter(updated_at__gte=updated_since)
    if status:
        queryset = queryset.filter(status=status)
    rows, next_url = paginate(
        request, queryset, resource="courses", cursor=params.cursor, limit=params.limit
    )
    return {"data": rows, "next": next_url}


@router.post("/courses", response={201: CourseDetailOut, **ERRORS}, auth=write_auth)
def create_course(request: HttpRequest, payload: CourseIn) -> Status[dict[str, object]]:
    """Create a draft course (refused when the plan's course limit is reached)."""
    course = services.create_course(
        school=school(request),
        actor=actor(request),
        title=payload.title,
        subtitle=payload.subtitle,
        description_md=payload.description_md,
    )
    return Status(201, _detail(course))


@router.get("/courses/{course_id}", response={200: CourseDetailOut, **ERRORS}, auth=read_auth)
def get_course(request: HttpRequest, course_id: int) -> dict[str, object]:
    """One course with its sections and lessons in order."""
    return _detail(_course(request, course_id))


@router.patch("/courses/{course_id}", response={200: CourseDetailOut, **ERRORS}, auth=write_auth)
def update_course(request: HttpRequest, course_id: int, payload: CoursePatch) -> dict[str, object]:
    """Change any of title, subtitle, description and address (slug)."""
    course = _course(request, course_id)
    services.update_course(
        school=school(request),
        actor=actor(request),
        course=course,
        title=payload.title if payload.title is not None else course.title,
        subtitle=payload.subtitle if payload.subtitle is not None else course.subtitle,
        description_md=(
            payload.description_md if payload.description_md is not None else course.description_md
        ),
        slug=payload.slug,
    )
    return _detail(course)


@router.delete("/courses/{course_id}", response={204: None, **ERRORS}, auth=write_auth)
def delete_course(request: HttpRequest, course_id: int) -> Status[None]:
    """Delete a course with its outline, files and enrolments."""
    services.delete_course(
        school=school(request), actor=actor(request), course=_course(request, course_id)
    )
    return Status(204, None)


@router.post(
    "/courses/{course_id}/publish", response={200: CourseDetailOut, **ERRORS}, auth=write_auth
)
def publish_course(request: HttpRequest, course_id: int) -> dict[str, object]:
    """Publish (the course needs at least one lesson)."""
    course = services.set_course_status(
        school=school(request),
        actor=actor(request),
        course=_course(request, course_id),
        publish=True,
    )
    return _detail(course)


@router.post(
    "/courses/{course_id}/unpublish", response={200: CourseDetailOut, **ERRORS}, auth=write_auth
)
def unpublish_course(request: HttpRequest, course_id: int) -> dict[str, object]:
    """Back to draft: hidden from the catalogue."""
    course = services.set_course_status(
        school=school(request),
        actor=actor(request),
        course=_course(request, course_id),
        publish=False,
    )
    return _detail(course)


# --- outline ---------------------------------------------------------------------------


@router.post("/courses/{course_id}/sections", response={201: SectionOut, **ERRORS}, auth=write_auth)
def create_section(
    request: HttpRequest, course_id: int, payload: SectionIn
) -> Status[dict[str, object]]:
    """Add a section at the end of the course."""
    section = services.add_section(
        school=school(request),
        actor=actor(request),
        course=_course(request, course_id),
        title=payload.title,
    )
    return Status(
        201, {"id": section.pk, "title": section.title, "position": section.position, "lessons": []}
    )


@router.patch(
    "/courses/{course_id}/sections/{section_id}",
    response={200: SectionOut, **ERRORS},
    auth=write_auth,
)
def rename_section(
    request: HttpRequest, course_id: int, section_id: int, payload: SectionPatch
) -> dict[str, object]:
    """Rename a section."""
    section = services.rename_section(
        school=school(request),
        actor=actor(request),
        section=_section(request, course_id, section_id),
        title=payload.title,
    )
    return {
        "id": section.pk,
        "title": section.title,
        "position": section.position,
        "lessons": [_lesson_out(lesson) for lesson in section.lessons.order_by("position", "id")],
    }


@router.delete(
    "/courses/{course_id}/sections/{section_id}", response={204: None, **ERRORS}, auth=write_auth
)
def delete_section(request: HttpRequest, course_id: int, section_id: int) -> Status[None]:
    """Delete a section and its lessons."""
    services.delete_section(
        school=school(request),
        actor=actor(request),
        section=_section(request, course_id, section_id),
    )
    return Status(204, None)


@router.post(
    "/courses/{course_id}/sections/{section_id}/lessons",
    response={201: LessonOut, **ERRORS},
    auth=write_auth,
)
def create_lesson(
    request: HttpRequest, course_id: int, section_id: int, payload: LessonIn
) -> Status[dict[str, object]]:
    """Add a lesson at the end of a section."""
    lesson = services.add_lesson(
        school=school(request),
        actor=actor(request),
        section=_section(request, course_id, section_id),
        title=payload.title,
        kind=payload.kind,
    )
    return Status(201, _lesson_out(lesson))


@router.patch(
    "/courses/{course_id}/lessons/{lesson_id}", response={200: LessonOut, **ERRORS}, auth=write_auth
)
def update_lesson(
    request: HttpRequest, course_id: int, lesson_id: int, payload: LessonPatch
) -> dict[str, object]:
    """Change any of title, kind, Markdown body, free preview and duration."""
    lesson = _lesson(request, course_id, lesson_id)
    fields = payload.model_dump(exclude_none=True)
    services.update_lesson(
        school=school(request),
        actor=actor(request),
        lesson=lesson,
        title=fields.get("title", lesson.title),
        kind=fields.get("kind", lesson.kind),
        body_md=fields.get("body_md", lesson.body_md),
        is_preview=fields.get("is_preview", lesson.is_preview),
        duration_minutes=fields.get("duration_minutes", lesson.duration_minutes),
    )
    return _lesson_out(lesson)


@router.delete(
    "/courses/{course_id}/lessons/{lesson_id}", response={204: None, **ERRORS}, auth=write_auth
)
def delete_lesson(request: HttpRequest, course_id: int, lesson_id: int) -> Status[None]:
    """Delete a lesson and its files."""
    services.delete_lesson(
        school=school(request), actor=actor(request), lesson=_lesson(request, course_id, lesson_id)
    )
    return Status(204, None)
