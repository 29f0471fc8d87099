"""Hooks through which apps above ``courses`` add to its pages for a lesson kind.

``courses`` knows every lesson kind (``Lesson.Kind``) but not the apps that give a kind
its content: a quiz lesson's questions live in ``quizzes``, which may import ``courses``
and not the reverse (``.importlinter``). So the app registers, in its
``AppConfig.ready``, what to render into three pages of ``courses`` (as
``tenancy/usage.py`` collects the plan meters):

* ``lesson_page``: the block the lesson page shows for a lesson of that kind (for the
  viewer: it is rendered on every request, never cached with the lesson);
* ``editor``: the block the instructor's lesson editor shows below the lesson form;
* ``roster_links``: per-student links on a course's roster (e.g. quiz attempts).

A kind nobody registered shows nothing extra. ``completes_by_hand`` says whether the
student may tick the lesson off themselves (a quiz lesson completes only by passing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.safestring import SafeString

from .models import Course, Lesson

# lesson_page(request, course, lesson, enrolled, is_manager) -> HTML
LessonPagePanel = Callable[[HttpRequest, Course, Lesson, bool, bool], SafeString]
# editor(request, lesson) -> HTML
EditorPanel = Callable[[HttpRequest, Lesson], SafeString]
# roster_links(course) -> (label, url of a student id) pairs; empty when the course has none
RosterLinks = Callable[[Course], list[tuple[str, Callable[[int], str]]]]


@dataclass(frozen=True)
class KindHooks:
    lesson_page: LessonPagePanel | None = None
    editor: EditorPanel | None = None
    completes_by_hand: bool = True


_kinds: dict[str, KindHooks] = {}
_roster_links: dict[str, RosterLinks] = {}


def register_kind(kind: str, hooks: KindHooks) -> None:
    """Registering a kind again replaces its hooks (a repeated ``ready()``)."""
    if kind not in Lesson.Kind.values:
        raise ValueError(f"unknown lesson kind {kind!r}")
    _kinds[kind] = hooks


def register_roster_links(name: str, provider: RosterLinks) -> None:
    _roster_links[name] = provider


def hooks_for(kind: str) -> KindHooks:
    return _kinds.get(kind, KindHooks())


def completes_by_hand(lesson: Lesson) -> bool:
    return hooks_for(lesson.kind).completes_by_hand


def lesson_page_panel(
    request: HttpRequest, course: Course, lesson: Lesson, *, enrolled: bool, is_manager: bool
) -> SafeString:
    panel = hooks_for(lesson.kind).lesson_page
    return panel(request, course, lesson, enrolled, is_manager) if panel else SafeString("")


def editor_panel(request: HttpRequest, lesson: Lesson) -> SafeString:
    panel = hooks_for(lesson.kind).editor
    return panel(request, lesson) if panel else SafeString("")


def roster_links(course: Course) -> list[tuple[str, Callable[[int], str]]]:
    links: list[tuple[str, Callable[[int], str]]] = []
    for provider in _roster_links.values():
        links.extend(provider(course))
    return links
