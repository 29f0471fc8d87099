"""What the lesson page reads of a course, cached per school *content generation*.

A course's tree (the course row, its sections with their lessons, the lessons'
attachments) and each lesson's sanitised body are the same for every viewer and
change only when an author changes them. They are cached under the school's
content generation (``tenancy.generation``: replaced on every save or delete of a
course, section, lesson, attachment or instructor, and by the reorder services,
which change positions with bulk updates), so a change shows on the next request
while an unchanged course costs no query. Per-viewer facts (enrolment, progress,
who manages the course) are never cached here; nor is the lesson's video, whose
status the transcoder changes with bulk updates: a video lesson reads it live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.http import Http404

from courseplatform.sanitize.markdown import sanitize_html
from courseplatform.telemetry.metrics import cache_hit, cache_miss
from courseplatform.tenancy.generation import bump_content_generation, content_generation
from courseplatform.tenancy.models import School

from .models import Attachment, Course, Lesson, Section
from .selectors import syllabus_outline

TTL_SECONDS = 3600


@dataclass
class CourseTree:
    course: Course
    sections: list[tuple[Section, list[Lesson]]]
    attachments: dict[int, list[Attachment]]

    def has_lesson(self, lesson_id: int) -> bool:
        return any(lesson.pk == lesson_id for _, lessons in self.sections for lesson in lessons)

    def section_of(self, lesson: Lesson) -> Section:
        """The lesson's section (its drip schedule), from the tree."""
        return next(section for section, _ in self.sections if section.pk == lesson.section_id)


@dataclass
class LessonContent:
    """A lesson with its body ready for display: sanitised on save and cleaned again
    when cached, so a row edited behind the services' back never reaches a browser
    unsanitised (as ``sites`` does with page HTML)."""

    lesson: Lesson
    body_html: str


def _tree_key(school_id: int, slug: str, generation: str) -> str:
    return f"courses:tree:{school_id}:{generation}:{slug}"


def _lesson_key(school_id: int, lesson_id: int, generation: str) -> str:
    return f"courses:lesson:{school_id}:{generation}:{lesson_id}"


def _read_tree(school: School, slug: str) -> CourseTree | None:
    course = Course.objects.filter(school=school, slug=slug).first()
    if course is None:
        return None
    sections = syllabus_outline(course=course)
    attachments: dict[int, list[Attachment]] = {}
    for attachment in Attachment.objects.filter(school=school, lesson__course=course).order_by(
        "created_at", "id"
    ):
        attachments.setdefault(attachment.lesson_id, []).append(attachment)
    outline = []
    for section in sections:
        lessons = list(section.lessons.all())
        section.__dict__.pop("_prefetched_objects_cache", None)  # kept once, in ``outline``
        outline.append((section, lessons))
    return CourseTree(course, outline, attachments)


def _read_lesson(school: School, course: Course, lesson_id: int) -> LessonContent | None:
    lesson = (
        Lesson.objects.filter(school=school, course=course, pk=lesson_id).defer("body_md").first()
    )
    if lesson is None:
        return None
    return LessonContent(lesson, sanitize_html(lesson.body_html) if lesson.body_html else "")


def course_tree(*, school: School, slug: str) -> CourseTree | None:
    """The course at ``slug`` with its outline and files (None: no such course)."""
    key = _tree_key(school.pk, slug, content_generation(school.pk))
    tree = cache.get(key)
    if isinstance(tree, CourseTree):
        cache_hit("course_tree")
    else:
        cache_miss("course_tree")
        tree = _read_tree(school, slug)
        if tree is not None:
            cache.set(key, tree, TTL_SECONDS)
    return tree


def lesson_page_content(
    *, school: School, slug: str, lesson_id: int
) -> tuple[CourseTree, LessonContent]:
    """The course tree and the lesson, from the cache when both are there (one read of
    the generation, one of the two entries); 404 for a course or lesson id that does
    not exist here. Visibility (drafts) is for the caller to check."""
    generation = content_generation(school.pk)
    tree_key = _tree_key(school.pk, slug, generation)
    lesson_key = _lesson_key(school.pk, lesson_id, generation)
    found = cache.get_many([tree_key, lesson_key])
    tree = found.get(tree_key)
    if isinstance(tree, CourseTree):
        cache_hit("course_tree")
    else:
        cache_miss("course_tree")
        tree = _read_tree(school, slug)
        if tree is None:
            raise Http404("No such course.")
        cache.set(tree_key, tree, TTL_SECONDS)
    if not tree.has_lesson(lesson_id):
        raise Http404("No such lesson.")
    content = found.get(lesson_key)
    if isinstance(content, LessonContent) and content.lesson.course_id == tree.course.pk:
        cache_hit("lesson")
    else:
        cache_miss("lesson")
        content = _read_lesson(school, tree.course, lesson_id)
        if content is None:
            raise Http404("No such lesson.")
        cache.set(lesson_key, content, TTL_SECONDS)
    return tree, content


def outline_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_save``/``post_delete`` of a course, section, lesson or attachment."""
    bump_content_generation(getattr(instance, "school_id", None))
