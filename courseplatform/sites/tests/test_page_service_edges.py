"""Page services at their edges: a new page with a chosen address, menu moves that
cannot go further, and an autosave for a page deleted meanwhile."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from courseplatform.sites import services
from courseplatform.sites.models import Page
from courseplatform.tenancy.rls import school_context

from .support import home_page

pytestmark = pytest.mark.django_db


def _orders(school: Any) -> list[tuple[str, int]]:
    return list(
        Page.objects.filter(school=school, is_home=False)
        .order_by("nav_order", "id")
        .values_list("slug", "nav_order")
    )


def test_create_page_takes_a_chosen_address_and_refuses_a_bad_or_taken_one(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        page = services.create_page(school=school, actor=owner, title="Prices", slug=" PRICING ")
        assert page.slug == "pricing"
        before = Page.objects.count()
        for slug, message in [
            ("pricing", "Another page already uses this address."),
            ("no spaces", "Use lowercase letters, digits and hyphens"),
        ]:
            with pytest.raises(ValidationError) as raised:
                services.create_page(school=school, actor=owner, title="Again", slug=slug)
            assert raised.value.message_dict["slug"][0].startswith(message)
        assert Page.objects.count() == before


def test_menu_moves_stop_at_the_ends_and_ignore_the_home_page(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        first = services.create_page(school=school, actor=owner, title="First", slug="first")
        services.create_page(school=school, actor=owner, title="Second", slug="second")
        last = Page.objects.get(school=school, slug="second")
        start = _orders(school)
        assert [slug for slug, _ in start] == ["first", "second"]
        services.move_page(school=school, actor=owner, page=first, direction=-1)
        services.move_page(school=school, actor=owner, page=last, direction=1)
        services.move_page(school=school, actor=owner, page=home_page(school), direction=1)
        assert _orders(school) == start
        services.move_page(school=school, actor=owner, page=first, direction=1)
        assert [slug for slug, _ in _orders(school)] == ["second", "first"]


def test_autosave_of_a_page_deleted_meanwhile_is_not_found(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        page = services.create_page(school=school, actor=owner, title="Gone soon")
        Page.objects.filter(pk=page.pk).delete()
        with pytest.raises(Http404):
            services.save_draft(
                school=school, actor=owner, page=page, html="<p>late</p>", css="", project={}
            )
        assert not Page.objects.filter(pk=page.pk).exists()
