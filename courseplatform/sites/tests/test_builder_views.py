"""The management side of pages: who may open what, the builder page itself, the
autosave endpoint's contract, and cross-school isolation — saving, reading,
publishing, restoring (and every other action on) another school's page or revision
by id answers 404 and changes nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from courseplatform.accounts.models import User
from courseplatform.sites import services
from courseplatform.sites.models import Page, PageRevision
from courseplatform.tenancy.rls import school_context

from .support import home_page, logged_in, publish, reload, save_draft

pytestmark = pytest.mark.django_db


def _snapshot(page: Page) -> tuple[Any, ...]:
    fresh = reload(page)
    with school_context(page.school):
        revisions = list(PageRevision.objects.filter(page=page).values_list("pk", "number"))
    return (
        fresh.title,
        fresh.slug,
        fresh.status,
        fresh.is_home,
        fresh.show_in_nav,
        fresh.nav_order,
        fresh.draft_html,
        fresh.draft_css,
        fresh.draft_project,
        fresh.published_html,
        fresh.published_revision_id,
        revisions,
    )


@pytest.fixture
def two_schools(make_school: Any) -> tuple[Any, Any]:
    return make_school("alpha"), make_school("bravo")


def test_pages_need_a_manager_of_the_school(
    two_schools: Any, make_user: Any, client_for: Any
) -> None:
    alpha, _bravo = two_schools
    page = home_page(alpha.school)
    anonymous = client_for("alpha.localhost")
    student = logged_in(client_for, make_user(alpha.school, "s@alpha.test"))
    teacher = logged_in(
        client_for, make_user(alpha.school, "t@alpha.test", role=User.Role.INSTRUCTOR)
    )
    urls = [
        "/manage/site/pages/",
        f"/manage/site/pages/{page.pk}/",
        f"/manage/site/pages/{page.pk}/builder/",
        f"/manage/site/pages/{page.pk}/draft/",
        "/manage/site/assets/",
    ]
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
        assert student.get(url).status_code == 403, url
        assert teacher.get(url).status_code == 200, url
    assert save_draft(student, page.pk, html="<p>x</p>").status_code == 403
    assert publish(student, page.pk).status_code == 403
    assert reload(page).draft_html != "<p>x</p>"


def test_pages_list_shows_status_links_and_starters(two_schools: Any, client_for: Any) -> None:
    alpha, _ = two_schools
    with school_context(alpha.school):
        about = services.create_page(school=alpha.school, actor=alpha.owner, title="About us")
    text = logged_in(client_for, alpha.owner).get("/manage/site/pages/").content.decode()
    assert "2 of 5 pages on the Free plan" in text
    home_row = re.search(r'data-page-row="home".*?</li>', text, re.DOTALL).group(0)  # type: ignore[union-attr]
    for expected in (
        "Home page",
        "Published",
        "Edit in builder",
        'href="/?preview=draft"',
        "View live",
        "1 revision",
    ):
        assert expected in home_row, expected
    assert "Delete" not in home_row  # the home page cannot be deleted
    about_row = re.search(r'data-page-row="about-us".*?</li>', text, re.DOTALL).group(0)  # type: ignore[union-attr]
    for expected in (
        "Draft",
        "/p/about-us/",
        f"/manage/site/pages/{about.pk}/builder/",
        'href="/p/about-us/?preview=draft"',
        "In menu",
        "Delete",
        "0 revisions",
    ):
        assert expected in about_row, expected
    assert "View live" not in about_row  # not published yet
    for starter in ("Classic", "Bold", "Minimal"):
        assert f'data-apply-starter="{starter.lower()}"' in text


def test_builder_page_is_configured_by_data_and_has_no_inline_script(
    two_schools: Any, client_for: Any
) -> None:
    alpha, _ = two_schools
    page = home_page(alpha.school)
    response = logged_in(client_for, alpha.owner).get(f"/manage/site/pages/{page.pk}/builder/")
    assert response.status_code == 200
    text = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", text, re.DOTALL)
    assert scripts
    for attrs, body in scripts:
        # Every script is a static file, the translation catalog, or inert JSON data.
        assert (
            'src="/static/' in attrs
            or 'src="/jsi18n/' in attrs
            or 'type="application/json"' in attrs
        ), attrs
        if "src=" in attrs:
            assert not body.strip()
    assert not re.search(r"\son[a-z]+=", text)
    assert '<script src="/static/dist/builder.js" defer></script>' in text
    assert "/static/dist/builder.css" in text
    found = re.search(
        r'<script id="builder-data" type="application/json">(.*?)</script>', text, re.DOTALL
    )
    assert found is not None
    data = json.loads(found.group(1))
    assert data["urls"]["draft"] == f"/manage/site/pages/{page.pk}/draft/"
    assert data["urls"]["preview"] == "/?preview=draft"
    assert data["limit"] == alpha.school.plan.max_page_bytes
    assert "/static/dist/site-blocks.css" in data["canvasStyles"]
    assert {"id": alpha.owner.pk, "name": "Alpha Owner", "role": "owner"} in data["instructors"]
    assert data["csrfToken"]


def test_draft_endpoint_round_trip_and_bad_input(two_schools: Any, client_for: Any) -> None:
    alpha, _ = two_schools
    client = logged_in(client_for, alpha.owner)
    page = home_page(alpha.school)
    project = {
        "pages": [
            {
                "frames": [
                    {
                        "component": {
                            "type": "wrapper",
                            "components": [
                                {
                                    "type": "text",
                                    "tagName": "h1",
                                    "components": [{"type": "textnode", "content": "Hello"}],
                                }
                            ],
                        }
                    }
                ]
            }
        ]
    }
    saved = save_draft(client, page.pk, html="<h1>Hello</h1>", css="h1{color:red}", project=project)
    assert saved.status_code == 200
    assert saved.json()["ok"] is True and saved.json()["limit"] == 256 * 1024
    loaded = client.get(f"/manage/site/pages/{page.pk}/draft/").json()
    assert loaded["html"] == "<h1>Hello</h1>" and loaded["css"] == "h1{color:red}"
    assert loaded["project"] == project
    url = f"/manage/site/pages/{page.pk}/draft/"
    for body in (
        b"not json",
        b"[1, 2]",
        json.dumps({"html": 5}).encode(),
        json.dumps({"html": "", "css": "", "project": [1]}).encode(),
    ):
        response = client.post(url, data=body, content_type="application/json")
        assert response.status_code == 400, body
        assert response.json()["ok"] is False and response.json()["error"]
    assert reload(page).draft_html == "<h1>Hello</h1>"
    assert client.put(url).status_code == 405


def test_another_schools_page_or_revision_is_404_and_unchanged(
    two_schools: Any, client_for: Any
) -> None:
    alpha, bravo = two_schools
    alpha_home = home_page(alpha.school)
    with school_context(alpha.school):
        about = services.create_page(school=alpha.school, actor=alpha.owner, title="About")
        services.publish_page(school=alpha.school, actor=alpha.owner, page=about)
        alpha_revision = PageRevision.objects.get(page=about)
    before = {p.pk: _snapshot(p) for p in (alpha_home, reload(about))}
    intruder = logged_in(client_for, bravo.owner)
    bravo_home = home_page(bravo.school)
    bravo_before = _snapshot(bravo_home)

    for page_id in (alpha_home.pk, about.pk):
        base = f"/manage/site/pages/{page_id}"
        assert intruder.get(f"{base}/").status_code == 404
        assert intruder.get(f"{base}/builder/").status_code == 404
        assert intruder.get(f"{base}/draft/").status_code == 404
        assert save_draft(intruder, page_id, html="<p>pwned</p>").status_code == 404
        assert publish(intruder, page_id).status_code == 404
        for action, data in (
            ("", {"title": "pwned", "slug": "pwned"}),
            ("nav/", {"show": "0"}),
            ("move/", {"direction": "up"}),
            ("home/", {}),
            ("unpublish/", {}),
            ("starter/", {"starter": "bold"}),
            ("delete/", {}),
        ):
            assert intruder.post(f"{base}/{action}", data).status_code == 404, action
        assert intruder.get(f"{base}/delete/").status_code == 404
        # Restoring another school's revision, through either school's page id.
        for restore_page in (page_id, bravo_home.pk):
            response = intruder.post(
                f"/manage/site/pages/{restore_page}/revisions/{alpha_revision.pk}/restore/"
            )
            assert response.status_code == 404

    assert {p.pk: _snapshot(p) for p in (alpha_home, about)} == before
    assert _snapshot(bravo_home) == bravo_before
    # The owner's own revision ids work only with their own page.
    owner = logged_in(client_for, alpha.owner)
    assert (
        owner.post(
            f"/manage/site/pages/{alpha_home.pk}/revisions/{alpha_revision.pk}/restore/"
        ).status_code
        == 404
    )
    assert (
        owner.post(
            f"/manage/site/pages/{about.pk}/revisions/{alpha_revision.pk}/restore/"
        ).status_code
        == 302
    )
    # Ids that do not exist (or overflow a bigint) are the same 404.
    assert owner.get("/manage/site/pages/99999999999/builder/").status_code == 404
    assert owner.get(f"/manage/site/pages/{2**64}/builder/").status_code == 404
    assert (
        owner.post(f"/manage/site/pages/{about.pk}/revisions/{2**64}/restore/").status_code == 404
    )


def test_another_schools_images_are_not_listed(
    two_schools: Any, client_for: Any, fresh_storage: Any
) -> None:
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    alpha, bravo = two_schools
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, format="PNG")
    upload = SimpleUploadedFile("a.png", buffer.getvalue(), content_type="image/png")
    assert (
        logged_in(client_for, alpha.owner)
        .post("/manage/site/assets/", {"files": upload})
        .status_code
        == 200
    )
    assert logged_in(client_for, bravo.owner).get("/manage/site/assets/").json()["data"] == []


def test_page_detail_lists_revisions_with_restore(two_schools: Any, client_for: Any) -> None:
    alpha, _ = two_schools
    client = logged_in(client_for, alpha.owner)
    page = home_page(alpha.school)
    save_draft(client, page.pk, html="<h1>Two</h1>")
    publish(client, page.pk)
    text = client.get(f"/manage/site/pages/{page.pk}/").content.decode()
    assert 'data-revision="2"' in text and 'data-revision="1"' in text
    assert text.count("Restore to draft") == 2
    assert re.search(r'data-revision="2".*?Live', text, re.DOTALL)
