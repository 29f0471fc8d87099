"""Pages of the school site: the default home page, extra pages and the menu, drafts,
publishing, revisions and restore, starters, the draft preview, plan limits, dynamic
blocks with live data and the render cache that keeps them fresh.

Two schools (``alpha`` and ``bravo``) throughout; data is made through the services
inside ``school_context`` (row-level security hides tenant rows outside a school).
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client
from PIL import Image

from courseplatform.accounts.models import User
from courseplatform.courses import services as course_services
from courseplatform.sites import blocks, services
from courseplatform.sites.models import Page, PageRevision
from courseplatform.sites.services import PageError, PageTooLarge
from courseplatform.tenancy.models import Plan
from courseplatform.tenancy.rls import school_context

from .support import home_page, logged_in, main_html, publish, publish_course, reload, save_draft

pytestmark = pytest.mark.django_db

ALPHA = "alpha.localhost"


def _text(response: Any) -> str:
    return response.content.decode()


def _new_page(
    school: Any,
    owner: Any,
    title: str,
    html: str = "",
    *,
    publish_it: bool = True,
    show_in_nav: bool = True,
) -> Page:
    with school_context(school):
        page = services.create_page(school=school, actor=owner, title=title)
        if html:
            services.save_draft(
                school=school, actor=owner, page=page, html=html, css="", project={}
            )
        if publish_it:
            services.publish_page(school=school, actor=owner, page=page)
        if not show_in_nav:
            services.set_show_in_nav(school=school, actor=owner, page=page, show=False)
        return Page.objects.get(pk=page.pk)


def _nav_titles(response: Any) -> list[str]:
    return re.findall(r'<a href="/p/[^"]+/"[^>]*data-site-nav[^>]*>([^<]+)</a>', _text(response))


# --- the default site -----------------------------------------------------------------------


def test_new_school_gets_a_published_good_looking_home_page(
    make_school: Any, client_for: Any
) -> None:
    created = make_school("alpha")
    page = home_page(created.school)
    assert page.is_home and page.status == Page.Status.PUBLISHED and page.slug == "home"
    with school_context(created.school):
        revision = PageRevision.objects.get(page=page)
    assert page.published_revision_id == revision.pk and revision.number == 1
    response = client_for(ALPHA).get("/")
    assert response.status_code == 200
    body = main_html(response)
    assert "Welcome to Alpha Academy" in body
    assert 'class="cp-hero"' in body
    assert 'data-cp-rendered="catalogue"' in body  # live catalogue (empty for now)
    assert "New courses are on their way" in body
    assert 'data-cp-rendered="redeem"' in body
    assert "data-cp-block" not in body  # placeholders never reach visitors
    assert "/static/dist/site-blocks.css" in _text(response)


def test_redeem_block_is_a_real_form_with_a_csrf_token(make_school: Any, make_user: Any) -> None:
    created = make_school("alpha")
    student = make_user(created.school, "student@alpha.test")
    client = Client(HTTP_HOST=ALPHA, enforce_csrf_checks=True)
    with school_context(created.school):
        client.force_login(student)
    text = _text(client.get("/"))
    form = re.search(
        r'<form method="post" action="/redeem/" data-redeem-form>(.*?)</form>', text, re.DOTALL
    )
    assert form, "no redemption form on the home page"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1))
    assert token and 'name="code"' in form.group(1)
    # The form posts for real: CSRF passes and the redeem view answers (unknown code).
    response = client.post(
        "/redeem/", {"code": "NOPE-NOPE-NOPE", "csrfmiddlewaretoken": token.group(1)}
    )
    assert response.status_code != 403
    without_token = client.post("/redeem/", {"code": "NOPE-NOPE-NOPE"})
    assert without_token.status_code == 403


def test_school_without_home_page_shows_a_friendly_note(make_school: Any, client_for: Any) -> None:
    created = make_school("alpha")
    with school_context(created.school):
        Page.objects.filter(school=created.school).update(status=Page.Status.DRAFT)
    response = client_for(ALPHA).get("/")
    assert response.status_code == 200
    assert "has not published its home page yet" in _text(response)


# --- extra pages, menu, preview --------------------------------------------------------------


def test_published_pages_appear_in_the_menu_in_order(make_school: Any, client_for: Any) -> None:
    created = make_school("alpha")
    school, owner = created.school, created.owner
    about = _new_page(school, owner, "About us")
    faq = _new_page(school, owner, "FAQ")
    _new_page(school, owner, "Secret", show_in_nav=False)
    _new_page(school, owner, "Unfinished", publish_it=False)
    visitor = client_for(ALPHA)
    assert _nav_titles(visitor.get("/")) == ["About us", "FAQ"]
    assert about.slug == "about-us"
    response = visitor.get("/p/about-us/")
    assert response.status_code == 200
    assert "About us · Alpha Academy" in _text(response)
    assert 'aria-current="page">About us</a>' in _text(response)
    # The hidden page is published (reachable by link), the unfinished one is not.
    assert visitor.get("/p/secret/").status_code == 200
    assert visitor.get("/p/unfinished/").status_code == 404
    assert visitor.get("/p/nope/").status_code == 404
    # Move FAQ up: the menu follows at once (cached menu invalidated).
    with school_context(school):
        services.move_page(school=school, actor=owner, page=faq, direction=-1)
    assert _nav_titles(visitor.get("/")) == ["FAQ", "About us"]


def test_draft_preview_is_for_managers_only(
    make_school: Any, make_user: Any, client_for: Any
) -> None:
    created = make_school("alpha")
    school, owner = created.school, created.owner
    page = _new_page(school, owner, "About", '<h1 id="v">Live version</h1>')
    with school_context(school):
        services.save_draft(
            school=school,
            actor=owner,
            page=page,
            html='<h1 id="v">Draft version</h1>',
            css="",
            project={},
        )
    student = make_user(school, "s@alpha.test")
    owner_client = logged_in(client_for, owner)
    student_client = logged_in(client_for, student)
    for client in (client_for(ALPHA), student_client):
        text = _text(client.get("/p/about/?preview=draft"))
        assert "Live version" in text and "Draft version" not in text
    preview = owner_client.get("/p/about/?preview=draft")
    assert "Draft version" in _text(preview) and "data-draft-preview" in _text(preview)
    assert preview["Cache-Control"] == "private, no-store"
    assert "Live version" in _text(owner_client.get("/p/about/"))
    # An unpublished page previews for its managers, 404s for everyone else.
    draft_only = _new_page(school, owner, "Soon", "<p>soon</p>", publish_it=False)
    assert owner_client.get(f"/p/{draft_only.slug}/?preview=draft").status_code == 200
    assert student_client.get(f"/p/{draft_only.slug}/?preview=draft").status_code == 404
    # The home page's own address redirects to / (and keeps the preview).
    assert owner_client.get("/p/home/?preview=draft")["Location"] == "/?preview=draft"


def test_manager_of_another_school_cannot_preview(make_school: Any, client_for: Any) -> None:
    alpha = make_school("alpha")
    bravo = make_school("bravo")
    page = _new_page(alpha.school, alpha.owner, "About", "<p>live</p>")
    with school_context(alpha.school):
        services.save_draft(
            school=alpha.school,
            actor=alpha.owner,
            page=page,
            html="<p>secret draft</p>",
            css="",
            project={},
        )
    intruder = client_for(ALPHA)
    with school_context(bravo.school):
        intruder.force_login(bravo.owner)
    response = intruder.get("/p/about/?preview=draft")
    assert "secret draft" not in _text(response)


# --- drafts, publishing, revisions ------------------------------------------------------------


def test_publish_restore_publish_makes_new_revisions(make_school: Any, client_for: Any) -> None:
    created = make_school("alpha")
    school, owner = created.school, created.owner
    client = logged_in(client_for, owner)
    page = home_page(school)
    visitor = client_for(ALPHA)
    assert save_draft(client, page.pk, html="<h1>First</h1>").status_code == 200
    first = publish(client, page.pk)
    assert first.json()["revision"] == 2
    assert save_draft(client, page.pk, html="<h1>Second</h1>").status_code == 200
    assert publish(client, page.pk).json()["revision"] == 3
    assert "Second" in main_html(visitor.get("/"))
    with school_context(school):
        rev2 = PageRevision.objects.get(page=page, number=2)
    response = client.post(f"/manage/site/pages/{page.pk}/revisions/{rev2.pk}/restore/")
    assert response.status_code == 302
    restored = reload(page)
    assert restored.draft_html == "<h1>First</h1>"
    assert "Second" in main_html(visitor.get("/"))  # live page unchanged by a restore
    assert publish(client, page.pk).json()["revision"] == 4
    assert "First" in main_html(visitor.get("/"))
    with school_context(school):
        numbers = list(PageRevision.objects.filter(page=page).values_list("number", flat=True))
    assert numbers == [4, 3, 2, 1]


def test_publishing_an_empty_page_is_refused(make_school: Any, client_for: Any) -> None:
    created = make_school("alpha")
    client = logged_in(client_for, created.owner)
    page = home_page(created.school)
    save_draft(client, page.pk, html="   ")
    response = publish(client, page.pk)
    assert response.status_code == 400 and "empty" in response.json()["error"]
    assert reload(page).published_revision_id == page.published_revision_id


def test_apply_starter_changes_the_draft_only(make_school: Any, client_for: Any) -> None:
    created = make_school("alpha")
    client = logged_in(client_for, created.owner)
    page = home_page(created.school)
    live_before = reload(page).published_html
    response = client.post(f"/manage/site/pages/{page.pk}/starter/", {"starter": "bold"})
    assert response.status_code == 302
    page = reload(page)
    assert "cp-hero--bold" in page.draft_html and page.draft_project == {}
    assert page.published_html == live_before
    assert "cp-hero--bold" not in main_html(client_for(ALPHA).get("/"))
    assert "cp-hero--bold" in main_html(client.get("/?preview=draft"))
    # Unknown starters are refused with a message; nothing changes.
    client.post(f"/manage/site/pages/{page.pk}/starter/", {"starter": "nope"})
    assert "cp-hero--bold" in reload(page).draft_html


@pytest.mark.parametrize("starter", ["classic", "bold", "minimal", "blank"])
def test_every_starter_creates_a_page_that_renders(
    starter: str, make_school: Any, client_for: Any
) -> None:
    created = make_school("alpha")
    client = logged_in(client_for, created.owner)
    response = client.post(
        "/manage/site/pages/new/", {"title": f"{starter} page", "starter": starter}
    )
    assert response.status_code == 302
    with school_context(created.school):
        page = Page.objects.get(school=created.school, slug=f"{starter}-page")
    assert response["Location"] == f"/manage/site/pages/{page.pk}/builder/"
    assert page.status == Page.Status.DRAFT and page.draft_html
    preview = client.get(f"/p/{page.slug}/?preview=draft")
    assert preview.status_code == 200
    assert "cp-section" in _text(preview) or "cp-hero" in _text(preview)


def test_home_page_switch_and_delete_rules(make_school: Any, client_for: Any) -> None:
    created = make_school("alpha")
    school, owner = created.school, created.owner
    client = logged_in(client_for, owner)
    old_home = home_page(school)
    landing = _new_page(school, owner, "Landing", '<h1 id="landing">Landing</h1>')
    draft = _new_page(school, owner, "Draft", "<p>x</p>", publish_it=False)
    client.post(f"/manage/site/pages/{draft.pk}/home/")
    assert reload(draft).is_home is False  # must be published first
    client.post(f"/manage/site/pages/{landing.pk}/home/")
    assert reload(landing).is_home and not reload(old_home).is_home
    visitor = client_for(ALPHA)
    assert 'id="landing"' in main_html(visitor.get("/"))
    assert visitor.get("/p/landing/")["Location"] == "/"
    assert visitor.get("/p/home/").status_code == 200  # the old home is a normal page now
    # The home page cannot be deleted; another page can.
    client.post(f"/manage/site/pages/{landing.pk}/delete/")
    assert reload(landing).pk
    assert client.post(f"/manage/site/pages/{old_home.pk}/delete/").status_code == 302
    with school_context(school):
        assert not Page.objects.filter(pk=old_home.pk).exists()
        assert not PageRevision.objects.filter(page_id=old_home.pk).exists()


def test_page_settings_validate_the_address(make_school: Any, client_for: Any) -> None:
    created = make_school("alpha")
    school, owner = created.school, created.owner
    client = logged_in(client_for, owner)
    about = _new_page(school, owner, "About")
    _new_page(school, owner, "Team")
    response = client.post(
        f"/manage/site/pages/{about.pk}/", {"title": "About", "slug": "team", "show_in_nav": "on"}
    )
    assert response.status_code == 200 and "already uses this address" in _text(response)
    response = client.post(
        f"/manage/site/pages/{about.pk}/", {"title": "About", "slug": "Bad Slug!"}
    )
    assert "Use lowercase letters" in _text(response)
    assert reload(about).slug == "about"
    client.post(f"/manage/site/pages/{about.pk}/", {"title": "Our story", "slug": "our-story"})
    about = reload(about)
    assert (about.title, about.slug, about.show_in_nav) == ("Our story", "our-story", False)
    assert client_for(ALPHA).get("/p/our-story/").status_code == 200


def test_unpublish_takes_a_page_down(make_school: Any, client_for: Any) -> None:
    created = make_school("alpha")
    client = logged_in(client_for, created.owner)
    about = _new_page(created.school, created.owner, "About")
    client.post(f"/manage/site/pages/{about.pk}/unpublish/")
    assert client_for(ALPHA).get("/p/about/").status_code == 404
    assert _nav_titles(client_for(ALPHA).get("/")) == []
    home = home_page(created.school)
    client.post(f"/manage/site/pages/{home.pk}/unpublish/")
    assert reload(home).status == Page.Status.PUBLISHED


# --- limits -------------------------------------------------------------------------------


def test_page_count_limit_of_the_plan(make_school: Any, client_for: Any) -> None:
    created = make_school("alpha")  # Free: 5 pages including the home page
    school, owner = created.school, created.owner
    limit = Plan.objects.get(code="free").max_pages
    assert limit == 5
    client = logged_in(client_for, owner)
    for n in range(limit - 1):
        assert client.post("/manage/site/pages/new/", {"title": f"Page {n}"}).status_code == 302
    response = client.post("/manage/site/pages/new/", {"title": "One too many"}, follow=True)
    assert "includes up to 5 pages" in _text(response)
    with school_context(school):
        assert Page.objects.filter(school=school).count() == limit
        with pytest.raises(PageError):
            services.create_page(school=school, actor=owner, title="Again")
    assert "data-page-limit" in _text(client.get("/manage/site/pages/"))


def test_oversize_save_is_refused_with_413_and_nothing_is_stored(
    make_school: Any, client_for: Any
) -> None:
    created = make_school("alpha")
    school = created.school
    client = logged_in(client_for, created.owner)
    page = home_page(school)
    before = reload(page)
    limit = school.plan.max_page_bytes
    big = "<p>" + "x" * limit + "</p>"
    response = save_draft(client, page.pk, html=big)
    assert response.status_code == 413
    body = response.json()
    assert body["ok"] is False and "Nothing was saved" in body["error"]
    assert body["limit"] == limit and body["size"] > limit
    after = reload(page)
    assert (after.draft_html, after.draft_css, after.draft_project, after.draft_updated_at) == (
        before.draft_html,
        before.draft_css,
        before.draft_project,
        before.draft_updated_at,
    )
    # HTML + CSS + project count together.
    third = "x" * (limit // 3 + 10)
    response = save_draft(
        client,
        page.pk,
        html=f"<p>{third}</p>",
        css=f"/*{third}*/",
        project={"pages": [{"id": third}]},
    )
    assert response.status_code == 413
    # Beyond what the server reads at all: still a 413 with a JSON message.
    huge = "<p>" + "x" * 3_000_000 + "</p>"
    response = save_draft(client, page.pk, html=huge)
    assert response.status_code == 413 and "Nothing was saved" in response.json()["error"]
    assert reload(page).draft_html == before.draft_html
    with school_context(school), pytest.raises(PageTooLarge):
        services.save_draft(
            school=school, actor=created.owner, page=page, html=big, css="", project={}
        )


# --- dynamic blocks and the cache ---------------------------------------------------------


DYNAMIC_HTML = (
    '<section><h1 id="t">Courses</h1><div data-cp-block="catalogue"></div>'
    '<div data-cp-block="course" data-course="{course}"></div>'
    '<div data-cp-block="instructor" data-user="{user}"></div></section>'
)


def test_dynamic_blocks_show_live_data_and_follow_course_changes(
    make_school: Any, client_for: Any
) -> None:
    created = make_school("alpha")
    school, owner = created.school, created.owner
    first = publish_course(school, owner, "Watercolour Basics", subtitle="Loose landscapes")
    _new_page(school, owner, "Learn", DYNAMIC_HTML.format(course=first.pk, user=owner.pk))
    visitor = client_for(ALPHA)
    body = main_html(visitor.get("/p/learn/"))
    assert body.count("Watercolour Basics") == 3  # catalogue, course card, instructor's list
    assert "Loose landscapes" in body and "Alpha Owner" in body and "Founder" in body

    # A new course appears at once: publishing bumps the site version.
    second = publish_course(school, owner, "Oil Painting")
    assert "Oil Painting" in main_html(visitor.get("/p/learn/"))
    # Renaming and unpublishing are seen too.
    with school_context(school):
        course_services.update_course(
            school=school,
            actor=owner,
            course=second,
            title="Oil Painting II",
            subtitle="",
            description_md="",
        )
    assert "Oil Painting II" in main_html(visitor.get("/p/learn/"))
    with school_context(school):
        course_services.set_course_status(school=school, actor=owner, course=second, publish=False)
    body = main_html(visitor.get("/p/learn/"))
    assert "Oil Painting" not in body
    # A draft course in a course card renders nothing.
    with school_context(school):
        course_services.set_course_status(school=school, actor=owner, course=first, publish=False)
    body = main_html(visitor.get("/p/learn/"))
    assert "Watercolour Basics" not in body and 'data-cp-rendered="course"' not in body


def test_published_pages_render_from_the_cache(
    make_school: Any, client_for: Any, monkeypatch: Any
) -> None:
    created = make_school("alpha")
    school, owner = created.school, created.owner
    calls: list[str] = []
    original = blocks.render_body

    def counting(**kwargs: Any) -> Any:
        calls.append(kwargs["html"][:20])
        return original(**kwargs)

    monkeypatch.setattr(blocks, "render_body", counting)
    visitor = client_for(ALPHA)
    owner_client = logged_in(client_for, owner)
    for _ in range(3):
        assert visitor.get("/").status_code == 200
    assert len(calls) == 1
    # For signed-in people the redeem form is per request (CSRF token), even from the
    # cache; visitors share one page whose form carries no token (ops/edgecache.py).
    pattern = r'csrfmiddlewaretoken" value="([^"]+)"'
    tokens = {
        found.group(1)
        for _ in range(2)
        if (found := re.search(pattern, _text(owner_client.get("/")))) is not None
    }
    assert len(tokens) == 2 and len(calls) == 1
    assert re.search(pattern, _text(client_for(ALPHA).get("/"))) is None
    # Publishing renders again (new revision in the key); previews never use the cache.
    page = home_page(school)
    save_draft(owner_client, page.pk, html="<h1>New</h1>")
    owner_client.get("/?preview=draft")
    owner_client.get("/?preview=draft")
    assert len(calls) == 3
    publish(owner_client, page.pk)
    assert "New" in main_html(visitor.get("/"))
    visitor.get("/")
    assert len(calls) == 4


def test_placeholders_with_another_schools_ids_render_nothing(
    make_school: Any, client_for: Any
) -> None:
    from courseplatform.video.models import VideoAsset

    alpha = make_school("alpha")
    bravo = make_school("bravo")
    theirs = publish_course(bravo.school, bravo.owner, "Bravo Secret Course")
    with school_context(bravo.school):
        their_video = VideoAsset.objects.create(
            school=bravo.school,
            title="Bravo Secret Video",
            original_filename="b.mp4",
            status=VideoAsset.Status.READY,
        )
    html = (
        '<h1 id="t">Mine</h1>'
        f'<div data-cp-block="course" data-course="{theirs.pk}"></div>'
        f'<div data-cp-block="instructor" data-user="{bravo.owner.pk}"></div>'
        f'<div data-cp-block="video" data-video="{their_video.pk}"></div>'
        '<div data-cp-block="course" data-course="999999999"></div>'
    )
    _new_page(alpha.school, alpha.owner, "Mine", html)
    body = main_html(client_for(ALPHA).get("/p/mine/"))
    assert "Mine" in body
    for leaked in (
        "Bravo",
        'data-cp-rendered="course"',
        'data-cp-rendered="instructor"',
        'data-cp-rendered="video"',
    ):
        assert leaked not in body


def test_video_block_shows_the_schools_own_ready_video(make_school: Any, client_for: Any) -> None:
    from courseplatform.video.models import VideoAsset

    created = make_school("alpha")
    school, owner = created.school, created.owner
    with school_context(school):
        ready = VideoAsset.objects.create(
            school=school,
            title="Welcome tour",
            original_filename="tour.mp4",
            status=VideoAsset.Status.READY,
        )
        processing = VideoAsset.objects.create(
            school=school,
            title="Not yet",
            original_filename="n.mp4",
            status=VideoAsset.Status.PROCESSING,
        )
    _new_page(
        school,
        owner,
        "Tour",
        f'<div data-cp-block="video" data-video="{ready.pk}"></div>'
        f'<div data-cp-block="video" data-video="{processing.pk}">'
        "</div><p>end</p>",
    )
    body = main_html(client_for(ALPHA).get("/p/tour/"))
    assert body.count('data-cp-rendered="video"') == 1 and "Welcome tour" in body


def test_embed_block_renders_a_privacy_friendly_link_or_frame(
    make_school: Any, client_for: Any, monkeypatch: Any
) -> None:
    from courseplatform.ops import csp

    created = make_school("alpha")
    _new_page(
        created.school,
        created.owner,
        "Watch",
        '<div data-cp-block="embed" data-url="https://youtu.be/dQw4w9WgXcQ"></div>',
    )
    monkeypatch.setattr(csp, "FRAME_SOURCES", [])
    body = main_html(client_for(ALPHA).get("/p/watch/"))
    assert "<iframe" not in body and "https://www.youtube.com/watch?v=dQw4w9WgXcQ" in body
    monkeypatch.setattr(csp, "FRAME_SOURCES", ["https://www.youtube-nocookie.com"])
    # Another page (the first is cached with the link).
    _new_page(
        created.school,
        created.owner,
        "Watch 2",
        '<div data-cp-block="embed" data-url="https://youtu.be/dQw4w9WgXcQ"></div>',
    )
    body = main_html(client_for(ALPHA).get("/p/watch-2/"))
    assert (
        '<iframe class="cp-embed__frame" src="https://www.youtube-nocookie.com/embed/'
        'dQw4w9WgXcQ"' in body
    )
    assert 'sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"' in body


# --- services guard their inputs --------------------------------------------------------------


def test_services_refuse_other_schools_objects_and_non_managers(
    make_school: Any, make_user: Any
) -> None:
    alpha = make_school("alpha")
    bravo = make_school("bravo")
    alpha_home = home_page(alpha.school)
    with school_context(alpha.school):
        revision = PageRevision.objects.get(page=alpha_home)
    with school_context(bravo.school):
        for call in (
            lambda: services.save_draft(
                school=bravo.school,
                actor=bravo.owner,
                page=alpha_home,
                html="<p>x</p>",
                css="",
                project={},
            ),
            lambda: services.publish_page(school=bravo.school, actor=bravo.owner, page=alpha_home),
            lambda: services.restore_revision(
                school=bravo.school, actor=bravo.owner, page=alpha_home, revision=revision
            ),
            lambda: services.delete_page(school=bravo.school, actor=bravo.owner, page=alpha_home),
            lambda: services.apply_starter(
                school=bravo.school, actor=bravo.owner, page=alpha_home, starter="bold"
            ),
        ):
            with pytest.raises(Http404):
                call()
    student = make_user(alpha.school, "s@alpha.test")
    with school_context(alpha.school):
        with pytest.raises(PermissionDenied):
            services.save_draft(
                school=alpha.school,
                actor=student,
                page=alpha_home,
                html="<p>x</p>",
                css="",
                project={},
            )
        with pytest.raises(PermissionDenied):
            services.create_page(school=alpha.school, actor=bravo.owner, title="Nope")
    assert reload(alpha_home).draft_html == alpha_home.draft_html


def test_instructors_can_build_pages(make_school: Any, make_user: Any, client_for: Any) -> None:
    created = make_school("alpha")
    teacher = make_user(created.school, "teach@alpha.test", role=User.Role.INSTRUCTOR)
    client = logged_in(client_for, teacher)
    page = home_page(created.school)
    assert save_draft(client, page.pk, html="<h1>By the teacher</h1>").status_code == 200
    assert publish(client, page.pk).status_code == 200
    assert "By the teacher" in main_html(client_for(ALPHA).get("/"))


# --- images ---------------------------------------------------------------------------------


def _png(name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (14, 116, 144)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_builder_image_uploads_are_validated_and_served_per_school(
    make_school: Any, client_for: Any, fresh_storage: Any
) -> None:
    alpha = make_school("alpha")
    make_school("bravo")
    client = logged_in(client_for, alpha.owner)
    response = client.post("/manage/site/assets/", {"files[]": _png()})
    assert response.status_code == 200, response.content
    src = response.json()["data"][0]["src"]
    assert re.fullmatch(r"/site-media/[0-9a-f]{32}\.png", src)
    assert {"type": "image", "src": src} in client.get("/manage/site/assets/").json()["data"]
    served = client_for(ALPHA).get(src)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert "immutable" in served["Cache-Control"]
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")  # type: ignore[attr-defined]
    # Another school's host looks in its own prefix only.
    assert client_for("bravo.localhost").get(src).status_code == 404
    assert client_for(ALPHA).get("/site-media/../../secret.png").status_code == 404
    assert client_for(ALPHA).get("/site-media/notahexname.png").status_code == 404
    # Not an image: refused with a message, nothing stored.
    fake = SimpleUploadedFile("evil.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = client.post("/manage/site/assets/", {"files[]": fake})
    assert response.status_code == 400 and "not an image" in response.json()["error"]
    assert len(client.get("/manage/site/assets/").json()["data"]) == 1
    # The uploaded image is usable in a page (same-origin path survives sanitising).
    page = home_page(alpha.school)
    save_draft(
        client,
        page.pk,
        html=f'<img src="{src}" alt="x">',
        css=f'#a{{background-image:url("{src}")}}',
    )
    stored = reload(page)
    assert f'src="{src}"' in stored.draft_html and src in stored.draft_css
