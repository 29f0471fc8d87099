"""The page manager's form (non-JSON) paths: the delete confirmation and the home page
that cannot be deleted, publishing from a form, image uploads with no or too many
files, and a revision restored through another page's address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from courseplatform.sites import services
from courseplatform.sites.models import Page
from courseplatform.sites.views_builder import MAX_FILES_PER_UPLOAD
from courseplatform.tenancy.rls import school_context

from .support import home_page, logged_in, publish, reload, save_draft

pytestmark = pytest.mark.django_db


def _new_page(school_a: Any, title: str) -> Page:
    with school_context(school_a.school):
        return services.create_page(school=school_a.school, actor=school_a.owner, title=title)


def test_delete_asks_first_and_the_home_page_is_never_deleted(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = logged_in(client_for, school_a.owner)
    extra = _new_page(school_a, "Prices")
    confirm = client.get(f"/manage/site/pages/{extra.pk}/delete/")
    assert confirm.status_code == 200 and "Prices" in confirm.content.decode()
    with school_context(school_a.school):
        assert Page.objects.filter(pk=extra.pk).exists()

    home = home_page(school_a.school)
    response = client.post(f"/manage/site/pages/{home.pk}/delete/", follow=True)
    assert "The home page cannot be deleted." in response.content.decode()
    assert response.redirect_chain[-1][0].startswith(f"/manage/site/pages/{home.pk}/")
    with school_context(school_a.school):
        assert Page.objects.filter(pk=home.pk, is_home=True).exists()


def test_publish_from_a_form_reports_refusal_and_success_as_messages(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = logged_in(client_for, school_a.owner)
    page = _new_page(school_a, "Prices")
    save_draft(client, page.pk, html="   ")
    refused = client.post(f"/manage/site/pages/{page.pk}/publish/", follow=True)
    assert "empty" in refused.content.decode()
    assert reload(page).published_revision_id is None

    save_draft(client, page.pk, html="<p>Twelve euros a month.</p>")
    done = client.post(f"/manage/site/pages/{page.pk}/publish/", follow=True)
    assert "published (revision 1)" in done.content.decode()
    assert reload(page).published_revision_id is not None


def _png(name: str) -> SimpleUploadedFile:
    # A 1x1 PNG: the count is refused before any file is read.
    body = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000000000500010d0a2db40000000049454e44ae426082"
    )
    return SimpleUploadedFile(name, body, content_type="image/png")


def test_image_upload_needs_one_to_five_files_and_stores_nothing_otherwise(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = logged_in(client_for, school_a.owner)
    before = client.get("/manage/site/assets/").json()["data"]
    empty = client.post("/manage/site/assets/", {})
    assert empty.status_code == 400 and empty.json()["error"] == "Choose an image to upload."
    files = [_png(f"p{i}.png") for i in range(MAX_FILES_PER_UPLOAD + 1)]
    too_many = client.post("/manage/site/assets/", {"files": files})
    assert too_many.status_code == 400
    assert too_many.json()["error"] == f"Upload at most {MAX_FILES_PER_UPLOAD} images at a time."
    assert client.get("/manage/site/assets/").json()["data"] == before


def test_a_revision_restored_through_another_pages_address_is_not_found(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = logged_in(client_for, school_a.owner)
    home = home_page(school_a.school)
    save_draft(client, home.pk, html="<p>Welcome</p>")
    assert publish(client, home.pk).status_code == 200
    revision_id = reload(home).published_revision_id
    other = _new_page(school_a, "Prices")
    response = client.post(f"/manage/site/pages/{other.pk}/revisions/{revision_id}/restore/")
    assert response.status_code == 404
    assert reload(other).draft_html == other.draft_html


def test_restoring_a_revision_larger_than_the_plan_allows_keeps_the_draft(
    school_a: Any, client_for: Callable[..., Client], plan_limits: Callable[..., None]
) -> None:
    client = logged_in(client_for, school_a.owner)
    home = home_page(school_a.school)
    save_draft(client, home.pk, html="<p>" + "long words " * 300 + "</p>")
    assert publish(client, home.pk).status_code == 200
    revision_id = reload(home).published_revision_id
    save_draft(client, home.pk, html="<p>Short again</p>")
    plan_limits(school_a.school.plan, max_page_bytes=1000)
    response = client.post(
        f"/manage/site/pages/{home.pk}/revisions/{revision_id}/restore/", follow=True
    )
    assert "your plan allows" in response.content.decode()
    assert "Short again" in reload(home).draft_html
