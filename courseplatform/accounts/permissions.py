"""Who may manage what in a school: the one permission rule of the management area.

The rule:

* Only a school's own, active people manage anything in it; visitors, platform staff
  and accounts of other schools manage nothing. Students never manage.
* The owner manages everything in their school.
* An instructor manages the school's site pages and opens its management area, and
  within it only
  - the courses they teach (``CourseInstructor`` rows; the owner assigns them on the
    course editor, roles are set on the People page), with their sections, lessons,
    files and students;
  - the access-code batches whose courses are *all* courses they teach (a batch that
    also opens someone else's course, or no course any more, is the owner's);
  - the videos they uploaded (delete, retry, resume or cancel the upload).
* Owner only: the theme, the school's settings, people's roles and assigning course
  instructors.

Answers come in three shapes:

* ``can_*`` → bool, for templates and branches;
* ``require_*`` → nothing, or raises: ``Http404`` when an object is missing or belongs
  to another school (the same answer as for an id that never existed, so ids and
  slugs reveal nothing), ``PermissionDenied`` (403) when the object is this school's
  but the person lacks the role. Services call them (defence in depth) as well as
  the selectors the views fetch through;
* ``manageable_*`` → a queryset narrowed to what the person manages (list pages).

Objects are asked through their own data (``school_id``, ``course.instructors``,
``batch.courses``, ``asset.created_by_id``), so this module imports no feature app
and every app, ground floor excepted, can use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy

from courseplatform.tenancy.models import School

if TYPE_CHECKING:  # a development dependency (django-stubs), for the annotations only
    from django_stubs_ext import StrOrPromise

# The values of ``User.Role``. This module imports no model of its own app, so the
# model's template helper ``User.can_manage_school`` can ask it without a cycle.
OWNER = "owner"
INSTRUCTOR = "instructor"

# Lazy: the refusal reads in the language of the request that meets it (API details,
# JSON errors of the player and the uploader show ``str(exc)``).
NOT_MANAGER = gettext_lazy("Only the school's owner and instructors can do this.")
NOT_OWNER = gettext_lazy("Only the school owner can do this.")
NOT_COURSE_INSTRUCTOR = gettext_lazy("You are not an instructor of this course.")
NOT_BATCH_MANAGER = gettext_lazy(
    "Only the school owner can manage a batch that includes courses you do not teach."
)
NOT_VIDEO_MANAGER = gettext_lazy(
    "Only the school owner or the person who uploaded a video can change it."
)


def _school_id(school: School | int | None) -> int | None:
    return school if school is None or isinstance(school, int) else school.pk


def role_in(user: Any, school: School | int | None) -> str | None:
    """The user's role in ``school``, or None when they are not one of its active people."""
    if (
        user is None
        or school is None
        or not getattr(user, "is_authenticated", False)
        or not getattr(user, "is_active", False)
        or getattr(user, "school_id", None) != _school_id(school)
    ):
        return None
    return str(user.role)


def is_school_owner(user: Any, school: School | int) -> bool:
    return role_in(user, school) == OWNER


def can_manage_school(user: Any, school: School | int) -> bool:
    """Owner or instructor of ``school``: opens the management area and edits the site."""
    return role_in(user, school) in (OWNER, INSTRUCTOR)


def manageable_courses[M: Model](user: Any, courses: QuerySet[M]) -> QuerySet[M]:
    """``courses`` (of one school) narrowed to those ``user`` manages."""
    role = role_in(user, getattr(user, "school_id", None))
    if role == OWNER:
        return courses.filter(school_id=user.school_id)
    if role == INSTRUCTOR:
        return courses.filter(school_id=user.school_id, instructors=user)
    return courses.none()


def manageable_batches[M: Model](user: Any, batches: QuerySet[M]) -> QuerySet[M]:
    """``batches`` (of one school) narrowed to those ``user`` manages: for an instructor,
    batches with at least one course and none that they do not teach."""
    role = role_in(user, getattr(user, "school_id", None))
    if role == OWNER:
        return batches.filter(school_id=user.school_id)
    if role != INSTRUCTOR:
        return batches.none()
    # Subqueries on the batch↔course table, so the caller's joins and sums stay as they are.
    links = batches.model.courses.through.objects.filter(school_id=user.school_id)  # type: ignore[attr-defined]
    return batches.filter(school_id=user.school_id, pk__in=links.values("batch_id")).exclude(
        pk__in=links.exclude(course__instructors=user).values("batch_id")
    )


def can_manage_course(user: Any, course: Any) -> bool:
    role = role_in(user, course.school_id)
    if role == OWNER:
        return True
    if role != INSTRUCTOR:
        return False
    return bool(course.instructors.filter(pk=user.pk).exists())


def can_manage_batch(user: Any, batch: Any) -> bool:
    role = role_in(user, batch.school_id)
    if role == OWNER:
        return True
    if role != INSTRUCTOR:
        return False
    return manageable_batches(user, type(batch).objects.filter(pk=batch.pk)).exists()


def can_manage_video(user: Any, asset: Any) -> bool:
    role = role_in(user, asset.school_id)
    return role == OWNER or (role == INSTRUCTOR and asset.created_by_id == user.pk)


# --- raising checks for services and selectors ---------------------------------------------


def require_in_school(school: School, *objects: Model | None) -> None:
    """404 unless every object exists and belongs to ``school``."""
    for obj in objects:
        if obj is None or getattr(obj, "school_id", None) != school.pk:
            raise Http404("Not found.")


def require_school_manager(
    school: School, user: Any, *objects: Model | None, message: StrOrPromise = NOT_MANAGER
) -> None:
    """404 unless ``objects`` are ``school``'s, then 403 unless ``user`` is its owner or
    one of its instructors (the site's pages, the video library, new courses)."""
    require_in_school(school, *objects)
    if not can_manage_school(user, school):
        raise PermissionDenied(message)


def require_school_owner(
    school: School, user: Any, *objects: Model | None, message: StrOrPromise = NOT_OWNER
) -> None:
    """404 unless ``objects`` are ``school``'s, then 403 unless ``user`` is its owner."""
    require_in_school(school, *objects)
    if not is_school_owner(user, school):
        raise PermissionDenied(message)


def _require_manager_of(
    school: School, user: Any, obj: Any, can: Callable[[Any, Any], bool], message: StrOrPromise
) -> None:
    require_school_manager(school, user, obj)
    if not can(user, obj):
        raise PermissionDenied(message)


def require_course_manager(school: School, user: Any, course: Any) -> None:
    _require_manager_of(school, user, course, can_manage_course, NOT_COURSE_INSTRUCTOR)


def require_batch_manager(school: School, user: Any, batch: Any) -> None:
    _require_manager_of(school, user, batch, can_manage_batch, NOT_BATCH_MANAGER)


def require_video_manager(school: School, user: Any, asset: Any) -> None:
    _require_manager_of(school, user, asset, can_manage_video, NOT_VIDEO_MANAGER)
