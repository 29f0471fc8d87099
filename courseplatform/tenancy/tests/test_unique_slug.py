"""unique_slug, as the course service uses it: readable slugs, numbered on collision
within one school only, never empty and never ending in a hyphen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from courseplatform.courses.models import Course
from courseplatform.courses.services import create_course
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.slugs import unique_slug

pytestmark = pytest.mark.django_db


def _course_slug(created: Any, title: str) -> str:
    with school_context(created.school):
        return create_course(school=created.school, actor=created.owner, title=title).slug


def test_unique_slug_numbers_collisions_in_order(make_school: Callable[..., Any]) -> None:
    school = make_school("slugsa", plan="premium")
    slugs = [_course_slug(school, "Intro to Colour") for _ in range(4)]
    assert slugs == [
        "intro-to-colour",
        "intro-to-colour-2",
        "intro-to-colour-3",
        "intro-to-colour-4",
    ]


def test_unique_slug_fills_the_first_free_number(make_school: Callable[..., Any]) -> None:
    school = make_school("slugsb", plan="premium")
    with school_context(school.school):
        for slug in ("intro", "intro-2", "intro-3", "intro-5"):
            Course.objects.create(school=school.school, title=slug, slug=slug)
        taken = Course.objects.filter(school=school.school)
        assert unique_slug(taken, "Intro", fallback="course") == "intro-4"
        assert unique_slug(taken, "Introduction", fallback="course") == "introduction"


def test_unique_slug_counts_only_the_same_school(make_school: Callable[..., Any]) -> None:
    first = make_school("slugsc", plan="premium")
    second = make_school("slugsd", plan="premium")
    assert _course_slug(first, "Intro") == "intro"
    assert _course_slug(second, "Intro") == "intro"


def test_unique_slug_falls_back_and_trims(make_school: Callable[..., Any]) -> None:
    school = make_school("slugse", plan="premium")
    with school_context(school.school):
        taken = Course.objects.filter(school=school.school)
        assert unique_slug(taken, "!!! ???", fallback="course") == "course"
        assert unique_slug(taken, "水彩", fallback="course") == "course"
        # Cut at the limit, without the hyphen the cut leaves behind.
        assert unique_slug(taken, "abc def", fallback="course", max_length=4) == "abc"
        long = unique_slug(taken, "word " * 40, fallback="course")
        assert len(long) <= 70 and not long.endswith("-")
