"""The school site's course pages: catalogue, course, lesson, progress, downloads, My courses.

Thin views: every read goes through ``selectors`` and every write through
``services``. A course of another school, a draft (for anyone but its managers)
and a lesson or attachment id of another course all answer 404 alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import number_format
from django.utils.http import parse_etags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST, require_safe

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.ops import files
from courseplatform.ops.edgecache import public_page
from courseplatform.sanitize.markdown import sanitize_html
from courseplatform.tenancy.timezones import UTC, school_zone

from . import covers, drip, extensions, lesson_kinds, selectors, services, site_cache
from .covers import cover_url
from .models import Course, Enrollment, Lesson, Section

LOGIN_PATH = "/accounts/login/"
REDEEM_PATH = "/redeem/"


def _html(stored: str) -> SafeString:
    # Sanitised on save; cleaned again on render so a row edited behind our back
    # (shell, SQL) never reaches a browser unsanitised (as sites.views does).
    return mark_safe(sanitize_html(stored)) if stored else SafeString("")  # noqa: S308


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- who may see what -------------------------------------------------------------------


@dataclass
class Viewer:
    """What the current user may do with one course (two queries at most, once per page).

    ``enrollment`` is the row where the page needs it (the course page's "continue");
    the lesson page learns ``enrolled_at`` from recording the visit and loads no row.
    ``now`` and ``zone`` decide the drip schedule (drip.py); ``preview`` is a manager
    looking at the course as a student who enrolled at ``now``.
    """

    course: Course
    is_manager: bool
    enrollment: Enrollment | None
    enrolled_at: datetime | None = None
    now: datetime = field(default_factory=timezone.now)
    zone: ZoneInfo = UTC
    preview: bool = False

    def __post_init__(self) -> None:
        if self.enrollment is not None:
            self.enrolled_at = self.enrollment.created_at

    @property
    def enrolled(self) -> bool:
        return self.enrolled_at is not None

    @property
    def has_full_access(self) -> bool:
        return self.is_manager or self.enrolled

    def release(self, section: Section) -> drip.Release:
        """The section's drip state for this viewer (always open for managers)."""
        return drip.section_release(
            section,
            enrolled_at=self.enrolled_at,
            now=self.now,
            zone=self.zone,
            is_manager=self.is_manager,
        )

    def can_view(self, lesson: Lesson, release: drip.Release = drip.OPEN) -> bool:
        # The same rule as selectors.can_view_lesson, without a query per lesson, plus
        # the drip schedule: a section not yet open keeps its lessons (but free
        # previews) closed to enrolled students.
        if lesson.is_preview and self.course.is_published:
            return True
        return self.has_full_access and not release.locked


def _viewer(request: HttpRequest, course: Course) -> Viewer:
    user: Any = request.user
    zone = school_zone(request.school)  # type: ignore[attr-defined]
    if not user.is_authenticated:
        return Viewer(course, False, None, zone=zone)
    is_manager = permissions.can_manage_course(user, course)
    if is_manager and request.GET.get("preview") == "student":
        # "Preview as student": the schedule as someone enrolling right now meets it.
        now = timezone.now()
        return Viewer(course, False, None, enrolled_at=now, now=now, zone=zone, preview=True)
    return Viewer(
        course,
        is_manager,
        selectors.get_enrollment(student=user, course=course),
        zone=zone,
    )


@dataclass
class OutlineLesson:
    lesson: Lesson
    section: Section
    number: int
    completed: bool
    viewable: bool
    url: str


@dataclass
class OutlineSection:
    section: Section
    lessons: list[OutlineLesson]
    release: drip.Release = drip.OPEN

    @property
    def completed_count(self) -> int:
        return sum(1 for item in self.lessons if item.completed)


@dataclass
class Syllabus:
    sections: list[OutlineSection]
    flat: list[OutlineLesson]

    @property
    def total(self) -> int:
        return len(self.flat)

    @property
    def completed(self) -> int:
        return sum(1 for item in self.flat if item.completed)

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0

    @property
    def minutes(self) -> int:
        return sum(item.lesson.duration_minutes for item in self.flat)

    @property
    def previews(self) -> int:
        return sum(1 for item in self.flat if item.lesson.is_preview)

    @property
    def kind_counts(self) -> list[tuple[str, str, int]]:
        """(kind, label, count) for each lesson kind present, e.g. ("video", "4 videos", 4)."""
        labels = {
            Lesson.Kind.VIDEO: lambda n: ngettext("%(count)s video", "%(count)s videos", n),
            Lesson.Kind.TEXT: lambda n: ngettext("%(count)s reading", "%(count)s readings", n),
            Lesson.Kind.FILE: lambda n: ngettext("%(count)s download", "%(count)s downloads", n),
            Lesson.Kind.QUIZ: lambda n: ngettext("%(count)s quiz", "%(count)s quizzes", n),
        }
        result = []
        for kind, label in labels.items():
            count = sum(1 for item in self.flat if item.lesson.kind == kind)
            if count:
                result.append((str(kind), label(count) % {"count": number_format(count)}, count))
        return result

    def position(self, lesson_id: int) -> int:
        return next(i for i, item in enumerate(self.flat) if item.lesson.pk == lesson_id)

    def continue_lesson(self, enrollment: Enrollment | None) -> Lesson | None:
        """Where an enrolled student picks up: the last lesson opened unless it is
        done, else the first lesson not yet completed, else the first lesson."""
        if not self.flat:
            return None
        if enrollment is not None and enrollment.last_lesson_id is not None:
            for item in self.flat:
                if item.lesson.pk == enrollment.last_lesson_id and not item.completed:
                    return item.lesson
        for item in self.flat:
            if not item.completed and item.viewable:  # not into a section still locked
                return item.lesson
        return self.flat[0].lesson


def lesson_url_prefix(course: Course) -> str:
    """``/courses/<slug>/lessons/``: lesson URLs are this plus ``<id>/``, reversed once
    per page rather than once per outline item."""
    return reverse("courses:lesson", args=[course.slug, 0]).removesuffix("0/")


def _syllabus(*, tree: site_cache.CourseTree, viewer: Viewer, done: set[int]) -> Syllabus:
    """The outline with the viewer's ticks and locks; ``done`` holds the ids of the
    completed lessons."""
    prefix = lesson_url_prefix(tree.course)
    sections: list[OutlineSection] = []
    flat: list[OutlineLesson] = []
    for section, lessons in tree.sections:
        release = viewer.release(section)
        items = []
        for lesson in lessons:
            item = OutlineLesson(
                lesson,
                section,
                len(flat) + 1,
                lesson.pk in done,
                viewer.can_view(lesson, release),
                f"{prefix}{lesson.pk}/",
            )
            items.append(item)
            flat.append(item)
        sections.append(OutlineSection(section, items, release))
    return Syllabus(sections, flat)


# --- catalogue --------------------------------------------------------------------------


@dataclass
class CourseCard:
    course: Course
    cover_url: str
    enrolled: bool


@public_page
@require_safe
def catalogue(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    enrolled = selectors.enrolled_course_ids(school=school, student=request.user)  # type: ignore[arg-type]
    cards = [
        CourseCard(course, cover_url(school, course), course.pk in enrolled)
        for course in selectors.published_courses(school=school)
    ]
    return render(request, "courses/catalogue.html", {"cards": cards})


@require_safe
def course_cover(request: HttpRequest, course_id: int, name: str) -> HttpResponseBase:
    """A published course's cover at its stable URL (``covers.py``), from this school's
    storage only; immutable, since a new cover gets a new URL."""
    school = request.school  # type: ignore[attr-defined]
    key = covers.published_cover_key(school, course_id, name)
    if key is None:
        raise Http404("No such file.")
    etag = f'"{name.partition(".")[0]}"'
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response: HttpResponseBase = HttpResponseNotModified()
    else:
        try:
            handle = default_storage.open(key, "rb")
        except (FileNotFoundError, OSError) as exc:
            raise Http404("No such file.") from exc
        extension = name.rsplit(".", 1)[1]
        response = FileResponse(handle, content_type=covers.IMAGE_TYPES[extension])
        response["Content-Disposition"] = f'inline; filename="cover-{course_id}.{extension}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["ETag"] = etag
    response["Cache-Control"] = covers.CACHE_CONTROL
    return response


# --- course page ------------------------------------------------------------------------


@public_page
@require_safe
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    user = request.user
    tree = site_cache.course_tree(school=school, slug=slug)
    if tree is None:
        raise Http404("No such course.")
    course = tree.course
    selectors.require_visible(user=user, course=course)  # type: ignore[arg-type]
    viewer = _viewer(request, course)
    done = selectors.completed_lesson_ids(student=user, course=course)  # type: ignore[arg-type]
    syllabus = _syllabus(tree=tree, viewer=viewer, done=done)
    return render(
        request,
        "courses/course_detail.html",
        {
            "course": course,
            "viewer": viewer,
            "syllabus": syllabus,
            "description": _html(course.description_html),
            "cover_url": cover_url(school, course),
            "continue_lesson": syllabus.continue_lesson(viewer.enrollment)
            if viewer.has_full_access
            else None,
            "first_preview": next(
                (item.lesson for item in syllabus.flat if item.lesson.is_preview), None
            ),
            "redeem_url": REDEEM_PATH,
        },
    )


# --- lesson page ------------------------------------------------------------------------


def _lesson_context(
    request: HttpRequest,
    tree: site_cache.CourseTree,
    content: site_cache.LessonContent,
    viewer: Viewer,
) -> dict[str, Any]:
    course, lesson = tree.course, content.lesson
    states = selectors.lesson_states(student=request.user, course=course)  # type: ignore[arg-type]
    done = {lesson_id for lesson_id, state in states.items() if state.completed}
    syllabus = _syllabus(tree=tree, viewer=viewer, done=done)
    index = syllabus.position(lesson.pk)
    # The outline appears twice (desktop sidebar, phone drawer): rendered once.
    outline_html = render_to_string(
        "courses/_outline.html", {"syllabus": syllabus, "lesson": lesson}
    )
    return {
        "course": course,
        "lesson": lesson,
        "viewer": viewer,
        "syllabus": syllabus,
        "outline_html": outline_html,
        "current": syllabus.flat[index],
        "previous": syllabus.flat[index - 1] if index > 0 else None,
        "next": syllabus.flat[index + 1] if index + 1 < len(syllabus.flat) else None,
        # Sanitised when it was cached (site_cache.LessonContent).
        "body": mark_safe(content.body_html),  # noqa: S308
        "attachments": tree.attachments.get(lesson.pk, []),
        # For the video player: it needs no lookups of its own.
        "lesson_state": states.get(lesson.pk),
        "redeem_url": REDEEM_PATH,
        # What the app behind the lesson's kind adds (a quiz), for this viewer.
        "kind_panel": lesson_kinds.lesson_page_panel(
            request, course, lesson, enrolled=viewer.enrolled, is_manager=viewer.is_manager
        ),
        "completes_by_hand": lesson_kinds.completes_by_hand(lesson),
    }


def _locked(request: HttpRequest, course: Course, lesson: Lesson) -> HttpResponse:
    """Anonymous visitors log in first; a signed-in student without access gets a 403 page."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), LOGIN_PATH)
    return render(
        request,
        "courses/lesson_locked.html",
        {"course": course, "lesson": lesson, "redeem_url": REDEEM_PATH},
        status=403,
    )


def _drip_refusal(
    viewer: Viewer, tree: site_cache.CourseTree, lesson: Lesson
) -> drip.Release | None:
    """The section's release when the drip schedule keeps ``lesson`` closed to
    ``viewer`` (an enrolled student), else None."""
    if not viewer.enrolled or viewer.is_manager or lesson.is_preview:
        return None
    release = viewer.release(tree.section_of(lesson))
    return release if release.locked else None


def _not_open_yet(
    request: HttpRequest, course: Course, lesson: Lesson, release: drip.Release
) -> HttpResponse:
    """An enrolled student's direct link to a lesson of a section not open yet: a 403
    page that says when it opens (never a 404: the lesson exists and will open)."""
    return render(
        request,
        "courses/lesson_not_open.html",
        {"course": course, "lesson": lesson, "release": release},
        status=403,
    )


@require_GET
def lesson_detail(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    user = request.user
    tree, content = site_cache.lesson_page_content(school=school, slug=slug, lesson_id=lesson_id)
    course, lesson = tree.course, content.lesson
    selectors.require_visible(user=user, course=course)  # type: ignore[arg-type]
    is_manager = user.is_authenticated and permissions.can_manage_course(user, course)
    zone, now = school_zone(school), timezone.now()
    section = tree.section_of(lesson)
    # One statement records the visit of an enrolled student and tells when they
    # enrolled; nobody else has a row to update. A section the drip schedule keeps
    # closed records nothing: a date rule is known up front, a days rule is decided
    # inside the statement (enrolled before the cutoff or not).
    record, enrolled_before = True, None
    if not is_manager and not lesson.is_preview:
        if section.release == Section.Release.DATE:
            record = drip.section_release(section, enrolled_at=now, now=now, zone=zone).is_open
        elif section.release == Section.Release.DAYS and section.release_days:
            enrolled_before = drip.days_cutoff(section.release_days, now=now, zone=zone)
    enrolled_at = (
        services.record_lesson_visit(
            school=school,
            student=user,  # type: ignore[arg-type]
            lesson=lesson,
            enrolled_before=enrolled_before,
            record=record,
        )
        if user.is_authenticated
        else None
    )
    viewer = Viewer(course, is_manager, None, enrolled_at=enrolled_at, now=now, zone=zone)
    refusal = _drip_refusal(viewer, tree, lesson)
    if refusal is not None:
        return _not_open_yet(request, course, lesson, refusal)
    if not viewer.can_view(lesson):
        return _locked(request, course, lesson)
    return render(
        request, "courses/lesson_detail.html", _lesson_context(request, tree, content, viewer)
    )


@require_POST
def lesson_complete(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    """Mark a lesson complete (``completed=1``, the default) or not (``completed=0``).

    Marking complete moves on to the next lesson: a redirect, or ``HX-Redirect``
    for htmx. Otherwise htmx gets the re-rendered lesson layout to swap in.
    Students not enrolled in the course are refused by the service (403).
    """
    school = request.school  # type: ignore[attr-defined]
    user = request.user
    tree, content = site_cache.lesson_page_content(school=school, slug=slug, lesson_id=lesson_id)
    course, lesson = tree.course, content.lesson
    selectors.require_visible(user=user, course=course)  # type: ignore[arg-type]
    lesson_url = reverse("courses:lesson", args=[course.slug, lesson.pk])
    if not user.is_authenticated:
        if _is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = f"{LOGIN_PATH}?next={lesson_url}"
            return response
        return redirect_to_login(lesson_url, LOGIN_PATH)
    completed = request.POST.get("completed", "1") != "0"
    viewer = _viewer(request, course)
    if _drip_refusal(viewer, tree, lesson) is not None:
        raise PermissionDenied(gettext("This lesson is not open yet."))
    if not lesson_kinds.completes_by_hand(lesson):
        # A quiz lesson is completed by passing the quiz, never by ticking it off.
        raise PermissionDenied(gettext("Pass the quiz to complete this lesson."))
    services.set_lesson_completed(
        school=school,
        student=user,  # type: ignore[arg-type]
        lesson=lesson,
        completed=completed,
    )
    context = _lesson_context(request, tree, content, viewer)
    target = lesson_url
    if completed and context["next"] is not None:
        target = reverse("courses:lesson", args=[course.slug, context["next"].lesson.pk])
        messages.success(
            request,
            gettext("“%(title)s” completed. On to the next lesson.") % {"title": lesson.title},
        )
    if _is_htmx(request):
        if completed and target != lesson_url:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return render(request, "courses/_lesson_layout.html", context)
    return redirect(target)


# --- attachments ------------------------------------------------------------------------


@require_GET
def attachment_download(request: HttpRequest, slug: str, attachment_id: int) -> HttpResponse:
    """Check access to the attachment's lesson, then hand out a short-lived signed URL."""
    school = request.school  # type: ignore[attr-defined]
    user = request.user
    course = selectors.get_visible_course(school=school, user=user, slug=slug)  # type: ignore[arg-type]
    attachment = selectors.get_attachment_of_course(course=course, attachment_id=attachment_id)
    lesson = attachment.lesson
    viewer = _viewer(request, course)
    if viewer.enrolled and not viewer.is_manager and not lesson.is_preview:
        release = viewer.release(lesson.section)
        if release.locked:
            return _not_open_yet(request, course, lesson, release)
    if not selectors.can_view_lesson(user=user, course=course, lesson=lesson):  # type: ignore[arg-type]
        return _locked(request, course, lesson)
    url = files.signed_file_url(
        school=school,
        key=attachment.storage_key,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response = HttpResponseRedirect(url)
    add_never_cache_headers(response)  # the signed URL expires: never reuse this redirect
    response["Referrer-Policy"] = "no-referrer"
    return response


# --- My courses -------------------------------------------------------------------------


@dataclass
class MyCourseCard:
    item: selectors.MyCourse
    cover_url: str
    available: bool


@require_GET
@login_required
def my_courses(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    user: User = request.user  # type: ignore[assignment]
    cards = [
        MyCourseCard(item, cover_url(school, item.course), item.course.is_published)
        for item in selectors.my_courses(school=school, student=user)
    ]
    # Blocks of the apps above courses (a finished course's certificate), extensions.py.
    extra_templates = [extra.template for extra in extensions.my_course_extras()]
    return render(
        request, "courses/my_courses.html", {"cards": cards, "extra_templates": extra_templates}
    )
