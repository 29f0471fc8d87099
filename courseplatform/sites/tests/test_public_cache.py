"""Public pages for visitors (ops/edgecache.py): shared-cache headers, ETag and 304, no
cookie, no database round trip when warm, fresh after every content change, and
nothing personal ever cacheable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from courseplatform.ops.middleware import SharedCacheGuardMiddleware
from courseplatform.sites.models import Page, Theme
from courseplatform.sites.tests.support import logged_in, publish_course
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

HOST = "alpha.localhost"


@pytest.fixture
def site(school_a: Any) -> dict[str, str]:
    school, owner = school_a.school, school_a.owner
    course = publish_course(school, owner, "Watercolour Basics")
    with school_context(school):
        Page.objects.create(
            school=school,
            slug="about",
            title="About us",
            status=Page.Status.PUBLISHED,
            published_html="<p>We paint.</p>",
        )
    return {
        "landing": "/",
        "builder page": "/p/about/",
        "catalogue": "/courses/",
        "course": f"/courses/{course.slug}/",
    }


def _visitor() -> Client:
    return Client(HTTP_HOST=HOST)


def test_visitors_get_shared_cache_headers_an_etag_and_no_cookie(site: dict[str, str]) -> None:
    for name, path in site.items():
        response = _visitor().get(path)
        assert response.status_code == 200, name
        assert response["Cache-Control"] == (
            "public, max-age=0, s-maxage=60, stale-while-revalidate=60"
        ), name
        assert response["Vary"] == "Cookie, Accept-Encoding", name
        assert response["ETag"].startswith('"') and len(response["ETag"]) == 42, name
        assert not response.cookies, f"{name} set {list(response.cookies)}"
        assert "csrfmiddlewaretoken" not in response.content.decode(), name
        assert "X-CSRFToken" not in response.content.decode(), name


def test_head_answers_like_get_without_a_body_cold_and_warm(site: dict[str, str]) -> None:
    # Uptime checks and CDNs probe with HEAD; a cold page once answered 405 (only the
    # cached copy allowed it).
    for name, path in site.items():
        cold = _visitor().head(path)
        assert cold.status_code == 200, name
        assert cold.content == b"", name
        assert cold["Cache-Control"].startswith("public, "), name
        page = _visitor().get(path)
        warm = _visitor().head(path)
        assert warm.status_code == 200 and warm.content == b"", name
        assert warm["ETag"] == page["ETag"], name


def test_other_methods_on_a_public_page_are_refused(site: dict[str, str]) -> None:
    for name, path in site.items():
        assert _visitor().put(path).status_code == 405, name
        assert _visitor().delete(path).status_code == 405, name


def test_a_matching_etag_answers_304_and_a_stale_one_the_page(site: dict[str, str]) -> None:
    for name, path in site.items():
        first = _visitor().get(path)
        again = _visitor().get(path, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304, name
        assert again.content == b""
        assert again["ETag"] == first["ETag"]
        assert again["Cache-Control"].startswith("public, "), name
        other = _visitor().get(path, HTTP_IF_NONE_MATCH='"something-else"')
        assert other.status_code == 200 and other.content == first.content, name


def test_a_warm_public_page_makes_no_database_round_trip(site: dict[str, str]) -> None:
    # The pinned figure for visitors (README "Request cost"): 0 on a warm cache.
    for name, path in site.items():
        _visitor().get(path)
        with CaptureQueriesContext(connection) as ctx:
            response = _visitor().get(path)
        assert response.status_code == 200
        assert len(ctx.captured_queries) == 0, (name, [q["sql"] for q in ctx.captured_queries])


def test_head_gets_the_same_headers(site: dict[str, str]) -> None:
    get = _visitor().get("/")
    head = _visitor().head("/")
    assert head.status_code == 200 and head.content == b""
    assert (head["ETag"], head["Cache-Control"]) == (get["ETag"], get["Cache-Control"])


def test_signed_in_pages_are_private_and_never_public(
    site: dict[str, str], school_a: Any, client_for: Callable[..., Client], make_user: Any
) -> None:
    student = make_user(school_a.school, "stu@alpha.test")
    for user in (school_a.owner, student):
        client = logged_in(client_for, user)
        for name, path in site.items():
            response = client.get(path)
            assert response.status_code == 200, name
            assert response["Cache-Control"] == "private, no-store", name
            assert "public" not in response["Cache-Control"]
            assert "s-maxage" not in response["Cache-Control"]


def test_a_visitor_with_a_session_or_messages_gets_a_private_page(site: dict[str, str]) -> None:
    for cookie in ("sessionid", "messages"):
        client = _visitor()
        client.cookies[cookie] = "anything"
        response = client.get("/")
        assert response["Cache-Control"] == "private, no-store", cookie


def test_the_redeem_block_of_a_shared_page_is_a_get_form_that_keeps_the_code(
    site: dict[str, str],
) -> None:
    body = _visitor().get("/").content.decode()
    assert "data-redeem-form" in body
    assert '<form method="get" action="/redeem/" data-redeem-form>' in body
    # The GET keeps the code for after sign-in, like a ?code= link.
    client = _visitor()
    response = client.get("/redeem/", {"code": "K7QM-3XTA-9BDR-W2HN"})
    assert response.status_code == 302 and "/accounts/signup/" in response["Location"]


def test_signed_in_visitors_still_get_the_post_form_with_its_token(
    site: dict[str, str], school_a: Any, client_for: Callable[..., Client]
) -> None:
    body = logged_in(client_for, school_a.owner).get("/").content.decode()
    assert '<form method="post" action="/redeem/" data-redeem-form>' in body
    assert "csrfmiddlewaretoken" in body


def test_every_content_change_shows_on_the_next_visit(site: dict[str, str], school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    for path in site.values():
        _visitor().get(path)  # all cached
    publish_course(school, owner, "Oil Painting")
    assert "Oil Painting" in _visitor().get("/courses/").content.decode()
    assert "Oil Painting" in _visitor().get("/").content.decode()  # the catalogue block

    with school_context(school):
        theme = Theme.objects.get(school=school)
        theme.primary_color = "#123456"
        theme.save()
    assert "#123456" in _visitor().get("/p/about/").content.decode()

    with school_context(school):
        page = Page.objects.get(school=school, slug="about")
        page.published_html = "<p>We sculpt now.</p>"
        page.save()
    assert "We sculpt now." in _visitor().get("/p/about/").content.decode()

    school.name = "Alpha Renamed"
    with school_context(school):
        school.save(update_fields=["name", "updated_at"])
    assert "Alpha Renamed" in _visitor().get(site["course"]).content.decode()


def test_query_strings_are_rendered_each_time_but_still_shared(site: dict[str, str]) -> None:
    _visitor().get("/courses/?ref=newsletter")
    with CaptureQueriesContext(connection) as ctx:
        response = _visitor().get("/courses/?ref=newsletter")
    assert len(ctx.captured_queries) >= 1  # not stored: anyone could fill the cache
    assert response["Cache-Control"].startswith("public, ")


def test_missing_pages_are_not_shared(site: dict[str, str]) -> None:
    for path in ("/p/nope/", "/courses/nope/"):
        response = _visitor().get(path)
        assert response.status_code == 404
        assert "public" not in response.get("Cache-Control", "")


# --- the guard ------------------------------------------------------------------------


def _guarded(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    return SharedCacheGuardMiddleware(lambda _: response)(request)


def test_the_guard_makes_a_public_response_that_sets_a_cookie_private() -> None:
    response = HttpResponse("hi")
    response["Cache-Control"] = "public, s-maxage=60"
    response.set_cookie("anything", "1")
    assert _guarded(RequestFactory().get("/"), response)["Cache-Control"] == "private, no-store"


def test_the_guard_makes_a_public_html_page_for_a_session_private() -> None:
    request = RequestFactory().get("/")
    request.COOKIES["sessionid"] = "x"
    page = HttpResponse("<p>hi</p>")
    page["Cache-Control"] = "public, s-maxage=60"
    assert _guarded(request, page)["Cache-Control"] == "private, no-store"
    image = HttpResponse(b"png", content_type="image/png")
    image["Cache-Control"] = "public, max-age=31536000, immutable"
    assert _guarded(request, image)["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_visitors_page_rendered_again_costs_its_pinned_round_trips(
    site: dict[str, str],
) -> None:
    # A query string is rendered every time: what a page cache miss costs once the host,
    # theme, menu and page bodies are cached. Every statement counts (the school setting
    # rides along with the first one). README "Request cost".
    # The course page reads its course tree from the cache too (courses/site_cache.py).
    expected = {"landing": 1, "builder page": 1, "catalogue": 1, "course": 0}
    for name, path in site.items():
        _visitor().get(f"{path}?fresh=1")
        with CaptureQueriesContext(connection) as ctx:
            assert _visitor().get(f"{path}?fresh=1").status_code == 200
        assert len(ctx.captured_queries) == expected[name], (
            name,
            [q["sql"][:120] for q in ctx.captured_queries],
        )


def test_static_files_touch_neither_the_host_lookup_nor_the_database() -> None:
    with CaptureQueriesContext(connection) as ctx:
        response = Client(HTTP_HOST="no-such-school.localhost").get("/static/dist/app.css")
    assert response.status_code == 200
    assert ctx.captured_queries == []


def test_reordering_sections_shows_on_the_next_visit(site: dict[str, str], school_a: Any) -> None:
    from courseplatform.courses import services as course_services
    from courseplatform.courses.models import Course, Section

    school, owner = school_a.school, school_a.owner
    with school_context(school):
        course = Course.objects.get(school=school, title="Watercolour Basics")
        later = course_services.add_section(
            school=school, actor=owner, course=course, title="Mixing colours"
        )
        course_services.add_lesson(
            school=school, actor=owner, section=later, title="Blend pigments"
        )
    body = _visitor().get(site["course"]).content.decode()
    assert body.index("Hello") < body.index("Blend pigments")  # cached from here on
    with school_context(school):
        order = list(
            Section.objects.filter(course=course).order_by("-position").values_list("pk", flat=True)
        )
        course_services.reorder_sections(
            school=school, actor=owner, course=course, section_ids=order
        )
    body = _visitor().get(site["course"]).content.decode()
    assert body.index("Blend pigments") < body.index("Hello")
