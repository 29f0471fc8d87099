"""Bad input to the page manager and the builder's autosave is refused with a clear
message and nothing stored; a logo whose file has vanished is a 404, not an error;
dynamic blocks repeat and play free previews."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from courseplatform.sites import services
from courseplatform.sites.models import Page, Theme
from courseplatform.tenancy.rls import school_context

from .support import home_page, logged_in, reload

pytestmark = pytest.mark.django_db


def _page_titles(school: Any) -> list[str]:
    with school_context(school):
        return sorted(Page.objects.values_list("title", flat=True))


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("   ", "Give the page a title."),
        ("x" * (services.TITLE_MAX + 1), f"Use at most {services.TITLE_MAX} characters."),
    ],
)
def test_page_create_refuses_a_bad_title_and_creates_nothing(
    school_a: Any, client_for: Callable[..., Client], title: str, message: str
) -> None:
    school = school_a.school
    before = _page_titles(school)
    client = logged_in(client_for, school_a.owner)
    response = client.post("/manage/site/pages/new/", {"title": title}, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _page_titles(school) == before


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"html": 42, "css": ""}, "html and css must be strings."),
        ({"html": "<p>x</p>", "css": ["a"]}, "html and css must be strings."),
        ({"html": "<p>x</p>", "css": "", "project": [1, 2]}, "project must be an object."),
    ],
)
def test_autosave_refuses_a_malformed_body_and_keeps_the_draft(
    school_a: Any, client_for: Callable[..., Client], payload: dict[str, Any], message: str
) -> None:
    page = home_page(school_a.school)
    client = logged_in(client_for, school_a.owner)
    response = client.post(
        f"/manage/site/pages/{page.pk}/draft/",
        data=json.dumps(payload),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert message in json.loads(response.content)["error"]
    after = reload(page)
    assert (after.draft_html, after.draft_css, after.draft_project) == (
        page.draft_html,
        page.draft_css,
        page.draft_project,
    )


def test_branding_file_missing_from_storage_is_not_found(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    school = school_a.school
    with school_context(school):
        Theme.objects.filter(school=school).update(
            logo_key=f"schools/{school.pk}/branding/vanished.png"
        )
    response = client_for("alpha.localhost").get("/branding/logo")
    assert response.status_code == 404


def test_repeated_catalogue_blocks_list_the_courses_each_time(school_a: Any, settings: Any) -> None:
    from django.test import RequestFactory

    from courseplatform.sites import blocks

    from .support import publish_course

    settings.ROOT_URLCONF = "courseplatform.urls.school"
    school = school_a.school
    publish_course(school, school_a.owner, "Watercolour Basics")
    html = '<div data-cp-block="catalogue"></div><div data-cp-block="catalogue"></div>'
    with school_context(school):
        body = blocks.render_body(school=school, html=html, css="")
        request = RequestFactory().get("/", HTTP_HOST="alpha.localhost")
        rendered = str(blocks.finish(body, request=request, school=school))
    assert rendered.count("Watercolour Basics") == 2
    assert rendered.count('data-cp-rendered="catalogue"') == 2


def test_autosave_over_the_servers_request_limit_is_413_and_keeps_the_draft(
    school_a: Any, client_for: Callable[..., Client], settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    page = home_page(school_a.school)
    client = logged_in(client_for, school_a.owner)
    response = client.post(
        f"/manage/site/pages/{page.pk}/draft/",
        data=json.dumps({"html": "<p>" + "x" * 5000 + "</p>", "css": "", "project": {}}),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert "exceeds the server's limit" in json.loads(response.content)["error"]
    assert reload(page).draft_html == page.draft_html


def test_video_block_of_a_free_preview_lesson_renders_for_visitors(
    school_a: Any, settings: Any
) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from courseplatform.courses.models import Lesson
    from courseplatform.sites import blocks
    from courseplatform.video.models import VideoAsset

    from .support import publish_course

    settings.ROOT_URLCONF = "courseplatform.urls.school"
    school = school_a.school
    course = publish_course(school, school_a.owner, "Watercolour Basics")
    with school_context(school):
        asset = VideoAsset.objects.create(
            school=school,
            title="Welcome tour",
            original_filename="tour.mp4",
            status=VideoAsset.Status.READY,
        )
        Lesson.objects.filter(school=school, course=course).update(video=asset, is_preview=True)
        body = blocks.render_body(
            school=school, html=f'<div data-cp-block="video" data-video="{asset.pk}"></div>', css=""
        )
        request = RequestFactory().get("/", HTTP_HOST="alpha.localhost")
        request.user = AnonymousUser()
        request.school = school  # type: ignore[attr-defined]
        rendered = str(blocks.finish(body, request=request, school=school))
        lesson = Lesson.objects.get(school=school, course=course)
    assert f'data-video-id="{asset.pk}"' in rendered
    # The player itself (a preview plays for visitors), with no resume position to save.
    assert "data-video-player" in rendered
    assert f'data-src="/video/lessons/{lesson.pk}/master.m3u8"' in rendered
    assert 'data-position-url=""' in rendered
