"""Revisions per page are capped at ``PAGE_REVISIONS_KEPT`` (the oldest go on publish);
numbers keep counting up and a kept revision can still be restored and republished."""

from __future__ import annotations

from typing import Any

import pytest

from courseplatform.sites.models import PageRevision
from courseplatform.tenancy.rls import school_context

from .support import home_page, logged_in, main_html, publish, reload, save_draft

pytestmark = pytest.mark.django_db


def _numbers(school: Any, page: Any) -> list[int]:
    with school_context(school):
        return list(PageRevision.objects.filter(page=page).values_list("number", flat=True))


def _live_number(school: Any, page: Any) -> int:
    with school_context(school):
        live = reload(page).published_revision_id
        assert live is not None
        return PageRevision.objects.get(pk=live).number


def test_page_revisions_capped_to_newest_and_restore_still_works(
    make_school: Any, client_for: Any, settings: Any
) -> None:
    settings.PAGE_REVISIONS_KEPT = 3
    created = make_school("alpha")
    school = created.school
    other = make_school("bravo")
    client = logged_in(client_for, created.owner)
    page = home_page(school)  # revision 1 is the starter
    other_page = home_page(other.school)
    for n in range(2, 7):
        assert save_draft(client, page.pk, html=f"<h1>Version {n}</h1>").status_code == 200
        assert publish(client, page.pk).json()["revision"] == n
        assert len(_numbers(school, page)) <= 3
    assert _numbers(school, page) == [6, 5, 4]
    assert _numbers(other.school, other_page) == [1]  # another school's page is untouched

    with school_context(school):
        oldest_kept = PageRevision.objects.get(page=page, number=4)
    response = client.post(f"/manage/site/pages/{page.pk}/revisions/{oldest_kept.pk}/restore/")
    assert response.status_code == 302
    assert reload(page).draft_html == "<h1>Version 4</h1>"
    assert publish(client, page.pk).json()["revision"] == 7
    assert "Version 4" in main_html(client_for("alpha.localhost").get("/"))
    assert _numbers(school, page) == [7, 6, 5]
    assert _live_number(school, page) == 7


def test_page_revisions_cap_of_one_keeps_the_live_revision(
    make_school: Any, client_for: Any, settings: Any
) -> None:
    settings.PAGE_REVISIONS_KEPT = 1
    created = make_school("alpha")
    client = logged_in(client_for, created.owner)
    page = home_page(created.school)
    save_draft(client, page.pk, html="<h1>Only</h1>")
    assert publish(client, page.pk).json()["revision"] == 2
    assert _numbers(created.school, page) == [2]
    assert _live_number(created.school, page) == 2
