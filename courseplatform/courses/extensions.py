"""What apps above courses add to its pages, without courses importing them.

*My courses* is a courses page, but certificates (above courses) want to show a
certificate on a finished course's card. An app registers a ``MyCourseExtra`` in its
``AppConfig.ready``: subquery annotations on the student's enrolments (so extras add
no statement to the page, whatever their number) and a template included in each card
with ``extra`` bound to those annotated values. Course management pages likewise list
``CourseManageLink``s (a button on the course's edit page), and the course list
``CourseListAction``s (a button beside "New course").

Labels are shown to people: pass them as ``gettext_lazy`` strings, translated when the
page renders in its reader's language (a plain ``gettext`` in ``ready()`` would freeze
the language the process started in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Expression
    from django.utils.functional import Promise

    from courseplatform.accounts.models import User
    from courseplatform.tenancy.models import School


@dataclass(frozen=True)
class MyCourseExtra:
    name: str
    # (school, student) -> {annotation name: expression on Enrollment (OuterRef("course_id"))}
    annotations: Callable[[School, User], dict[str, Expression]]
    template: str


@dataclass(frozen=True)
class CourseManageLink:
    name: str
    label: str | Promise
    url_name: str  # reversed with the course's id
    owner_only: bool = False  # shown to the school's owner only


@dataclass(frozen=True)
class CourseListAction:
    name: str
    label: str | Promise
    url_name: str  # reversed without arguments; a button beside "New course"


_my_course_extras: dict[str, MyCourseExtra] = {}
_manage_links: dict[str, CourseManageLink] = {}
_list_actions: dict[str, CourseListAction] = {}


def register_my_course_extra(extra: MyCourseExtra) -> None:
    """Registering the same name again replaces it (a repeated ``ready()``)."""
    _my_course_extras[extra.name] = extra


def my_course_extras() -> list[MyCourseExtra]:
    return list(_my_course_extras.values())


def my_course_annotations(school: School, student: User) -> dict[str, Any]:
    annotations: dict[str, Any] = {}
    for extra in _my_course_extras.values():
        annotations.update(extra.annotations(school, student))
    return annotations


def register_course_manage_link(link: CourseManageLink) -> None:
    _manage_links[link.name] = link


def course_manage_links() -> list[CourseManageLink]:
    return list(_manage_links.values())


def register_course_list_action(action: CourseListAction) -> None:
    _list_actions[action.name] = action


def course_list_actions() -> list[CourseListAction]:
    return list(_list_actions.values())
