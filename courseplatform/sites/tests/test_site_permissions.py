"""Who may manage the school site (``accounts.permissions``): the owner and the
instructors edit pages, only the owner changes the theme, students get 403 and
another school's pages are 404 by id."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from courseplatform.sites import services, theming
from courseplatform.tenancy.rls import school_context
from tests.fixtures.permissions import Cast

from .support import home_page, logged_in, reload

pytestmark = pytest.mark.django_db


def test_site_pages_owner_and_instructors_edit_students_403(
    cast: Cast, client_for: Callable[..., Client]
) -> None:
    page = home_page(cast.school)
    with school_context(cast.school):
        services.update_page(
            school=cast.school,
            actor=cast.teacher,
            page=page,
            title="Welcome, said the teacher",
            slug=page.slug,
            show_in_nav=True,
        )
        with pytest.raises(PermissionDenied):
            services.create_page(school=cast.school, actor=cast.student, title="Mine now")
    assert reload(page).title == "Welcome, said the teacher"
    for user in (cast.owner, cast.teacher):
        client = logged_in(client_for, user)
        assert client.get(f"/manage/site/pages/{page.pk}/").status_code == 200
    student = logged_in(client_for, cast.student)
    for url in (
        "/manage/site/",
        "/manage/site/theme/",
        "/manage/site/pages/",
        f"/manage/site/pages/{page.pk}/",
    ):
        assert student.get(url).status_code == 403, url


def test_site_theme_is_the_owners(cast: Cast, client_for: Callable[..., Client]) -> None:
    with school_context(cast.school):
        for actor in (cast.teacher, cast.student):
            with pytest.raises(
                PermissionDenied, match="Only the school owner can change the theme"
            ):
                theming.update_theme(school=cast.school, actor=actor, primary_color="#000000")
        theming.update_theme(school=cast.school, actor=cast.owner, primary_color="#112233")
    page = logged_in(client_for, cast.teacher).get("/manage/site/theme/").content.decode()
    assert "Only the school owner can save the theme" in page


def test_site_pages_of_another_school_are_404(
    cast: Cast, client_for: Callable[..., Client]
) -> None:
    other = home_page(cast.other_school)
    client = logged_in(client_for, cast.owner)
    for suffix in ("", "builder/", "delete/"):
        assert client.get(f"/manage/site/pages/{other.pk}/{suffix}").status_code == 404, suffix
    for suffix in ("publish/", "unpublish/", "nav/", "home/", "delete/"):
        assert client.post(f"/manage/site/pages/{other.pk}/{suffix}").status_code == 404, suffix
    assert reload(other).title == other.title
