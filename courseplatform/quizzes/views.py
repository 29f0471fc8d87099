"""Taking a quiz on the lesson page: start an attempt, submit it. Plain form posts
that redirect back to the lesson (works without JavaScript; htmx, when present,
swaps just the quiz). Grading is on the server only (``services.submit_attempt``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courseplatform.accounts.models import User
from courseplatform.courses import selectors as course_selectors
from courseplatform.courses.models import Lesson

from . import services
from .services import QuizError

LOGIN_PATH = "/accounts/login/"


def _lesson(request: HttpRequest, slug: str, lesson_id: int) -> Lesson:
    """The quiz lesson of a course the user may see (404 alike for another school's
    course, a draft, or a lesson id of another course)."""
    course = course_selectors.get_visible_course(
        school=request.school,  # type: ignore[attr-defined]
        user=request.user,  # type: ignore[arg-type]
        slug=slug,
    )
    lesson = (
        Lesson.objects.select_related("course")
        .filter(school=course.school_id, course=course, pk=lesson_id, kind=Lesson.Kind.QUIZ)
        .first()
    )
    if lesson is None:
        raise Http404("No such quiz.")
    return lesson


def _lesson_url(lesson: Lesson) -> str:
    return reverse("courses:lesson", args=[lesson.course.slug, lesson.pk]) + "#quiz"


@require_POST
def start(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.path, LOGIN_PATH)
    lesson = _lesson(request, slug, lesson_id)
    try:
        services.start_attempt(
            school=request.school,  # type: ignore[attr-defined]
            student=request.user,  # type: ignore[arg-type]
            lesson=lesson,
        )
    except QuizError as exc:
        messages.error(request, str(exc))
    return redirect(_lesson_url(lesson))


@require_POST
def submit(request: HttpRequest, slug: str, lesson_id: int, attempt_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.path, LOGIN_PATH)
    lesson = _lesson(request, slug, lesson_id)
    user: User = request.user  # type: ignore[assignment]
    answers = {key: request.POST.getlist(key) for key in request.POST if key.startswith("q")}
    try:
        done = services.submit_attempt(
            school=request.school,  # type: ignore[attr-defined]
            student=user,
            lesson=lesson,
            attempt_id=attempt_id,
            answers=answers,
        )
    except QuizError as exc:
        messages.error(
            request, _("%(problem)s Your answers were not submitted.") % {"problem": exc}
        )
        return redirect(_lesson_url(lesson))
    attempt = done.attempt
    if done.replayed:
        messages.info(request, _("This attempt was already submitted; nothing was changed."))
    elif attempt.passed:
        messages.success(
            request,
            _("You passed with %(score)s%%. The lesson is marked complete.")
            % {"score": attempt.score},
        )
    else:
        messages.warning(
            request,
            _("You scored %(score)s%%; the pass mark is %(pass_mark)s%%.")
            % {"score": attempt.score, "pass_mark": attempt.quiz.pass_mark},
        )
    return redirect(_lesson_url(lesson))
