"""Visitors' public pages from the web process's memory (ops/pagecache.py): answered
before the rest of the chain with the same headers, never to a session or a signed-in
person, never for unknown hosts or suspended schools, fresh at once after a change in
this process and as soon as another process announces one (within
PUBLIC_PROCESS_CACHE_SECONDS when this process cannot hear it, and for pages with
expiring URLs), bounded in bytes."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from courseplatform.ops import edgecache, pagecache
from courseplatform.ops.schools import set_school_status
from courseplatform.sites.models import Page
from courseplatform.sites.tests.support import logged_in, publish_course
from courseplatform.telemetry.metrics import PAGE_PROCESS_CACHE_BYTES, PAGE_PROCESS_CACHE_ENTRIES
from courseplatform.tenancy import broadcast, cache_tokens
from courseplatform.tenancy.generation import _key as generation_key
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import platform_bypass, school_context
from tests.fixtures.custom_domains import serving_domain

pytestmark = [pytest.mark.django_db, pytest.mark.school_plan("premium")]

HOST = "alpha.localhost"
CUSTOM_HOST = "learn.alpha-brand.test"


@pytest.fixture
def site(school_a: Any) -> dict[str, str]:
    course = publish_course(school_a.school, school_a.owner, "Watercolour Basics")
    with school_context(school_a.school):
        Page.objects.create(
            school=school_a.school,
            slug="about",
            title="About us",
            status=Page.Status.PUBLISHED,
            published_html="<p>We paint.</p>",
        )
    return {"landing": "/", "page": "/p/about/", "catalogue": "/courses/",
            "course": f"/courses/{course.slug}/"}  # fmt: skip


def _get(path: str, host: str = HOST, **extra: Any) -> Any:
    return Client(HTTP_HOST=host).get(path, **extra)


class _RedisRefused:
    """Stands in for the cache: any call fails the test (a memory hit asks nothing)."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the cache was asked: {name}")


def _headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.items() if k != "X-Request-ID"}


def test_a_second_visit_is_answered_from_memory_with_the_same_headers(
    site: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = {name: _get(path) for name, path in site.items()}
    from courseplatform.tenancy import hostcache

    for module in (edgecache, hostcache, cache_tokens):
        monkeypatch.setattr(module, "cache", _RedisRefused())
    for name, path in site.items():
        with CaptureQueriesContext(connection) as ctx:
            again = _get(path)
        assert len(ctx.captured_queries) == 0, name
        assert again.status_code == 200, name
        assert again.content == first[name].content, name
        assert _headers(again) == _headers(first[name]), name
        assert again["Cache-Control"].startswith("public, ") and not again.cookies, name
        assert "Content-Security-Policy" in again and again["X-Frame-Options"] == "DENY"
        assert again["X-Request-ID"] != first[name]["X-Request-ID"]
    assert pagecache.stats()["hits"] == len(site)


def test_304_and_head_from_memory(site: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    first = _get("/")
    monkeypatch.setattr(edgecache, "cache", _RedisRefused())
    not_modified = _get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == first["ETag"]
    assert not_modified["Cache-Control"] == first["Cache-Control"]
    assert "Content-Type" not in not_modified
    other = _get("/", HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200 and other.content == first.content
    head = Client(HTTP_HOST=HOST).head("/")
    assert head.status_code == 200 and head["ETag"] == first["ETag"]


def test_clients_that_accept_gzip_get_the_compressed_copy(
    site: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _get("/")
    assert first["Vary"] == "Cookie, Accept-Encoding"
    monkeypatch.setattr(edgecache, "cache", _RedisRefused())
    packed = _get("/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == first.content
    assert int(packed["Content-Length"]) == len(packed.content) < len(first.content)
    # Its own strong ETag (one per representation), the other headers the same.
    assert packed["ETag"] == edgecache.gzip_etag(first["ETag"]) != first["ETag"]
    same = {k: v for k, v in _headers(first).items() if k not in ("ETag", "Content-Length")}
    assert {k: packed[k] for k in same} == same
    # Revalidation works with either tag, from memory and through the whole chain.
    for tag in (packed["ETag"], first["ETag"]):
        again = _get("/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=tag)
        assert again.status_code == 304 and again["ETag"] == packed["ETag"]
        assert "Content-Encoding" not in again
    pagecache.clear()
    monkeypatch.undo()
    chain = _get("/", HTTP_IF_NONE_MATCH=packed["ETag"])
    assert chain.status_code == 304
    # A client without gzip gets the plain body from memory.
    plain = _get("/", HTTP_ACCEPT_ENCODING="identity")
    assert "Content-Encoding" not in plain and plain.content == first.content


def test_sessions_messages_and_signed_in_people_never_get_the_copy(
    site: dict[str, str], school_a: Any, client_for: Callable[..., Client]
) -> None:
    visitor_copy = _get("/")
    assert pagecache.stats()["entries"] == 1
    for cookie in ("sessionid", "messages"):
        client = Client(HTTP_HOST=HOST)
        client.cookies[cookie] = "anything"
        response = client.get("/")
        assert response["Cache-Control"] == "private, no-store", cookie
    owner = logged_in(client_for, school_a.owner)
    response = owner.get("/")
    assert response["Cache-Control"] == "private, no-store"
    assert response.content != visitor_copy.content  # the signed-in rendering
    assert "csrfmiddlewaretoken" in response.content.decode()
    assert pagecache.stats()["hits"] == 0


def test_only_visitor_gets_without_a_query_are_kept(site: dict[str, str]) -> None:
    _get("/courses/?ref=mail")
    Client(HTTP_HOST=HOST).post("/courses/")
    Client(HTTP_HOST=HOST).head("/courses/")
    assert pagecache.stats()["entries"] == 0
    _get("/courses/")
    with CaptureQueriesContext(connection) as ctx:
        again = _get("/courses/?ref=mail")
    assert len(ctx.captured_queries) >= 1 and again.status_code == 200
    assert pagecache.stats()["hits"] == 0


def test_unknown_hosts_and_missing_pages_are_never_kept(site: dict[str, str]) -> None:
    for _ in range(2):
        assert _get("/", host="nobody.localhost").status_code == 404
        assert _get("/p/nope/").status_code == 404
    assert pagecache.stats()["entries"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_suspended_school_answers_403_on_the_next_visit(
    site: dict[str, str], school_a: Any
) -> None:
    assert _get("/").status_code == 200
    assert _get("/").status_code == 200
    assert pagecache.stats()["hits"] == 1
    school = school_a.school
    with platform_bypass(actor=None, reason="test: suspend"):
        set_school_status(school=school, actor=None, status=School.Status.SUSPENDED)
    assert _get("/").status_code == 403
    assert _get("/").status_code == 403  # and is not kept
    with platform_bypass(actor=None, reason="test: unsuspend"):
        set_school_status(school=school, actor=None, status=School.Status.ACTIVE)
    assert _get("/").status_code == 200


def test_an_edit_shows_at_once_in_this_process(site: dict[str, str], school_a: Any) -> None:
    for path in site.values():
        _get(path)
    publish_course(school_a.school, school_a.owner, "Oil Painting")
    assert "Oil Painting" in _get("/courses/").content.decode()
    with school_context(school_a.school):
        page = Page.objects.get(school=school_a.school, slug="about")
        page.published_html = "<p>We sculpt now.</p>"
        page.save()
    assert "We sculpt now." in _get("/p/about/").content.decode()


def _edit_about_elsewhere(school: Any, text: str) -> None:
    """The page row changes as another process would change it: no signal here."""
    with school_context(school):
        Page.objects.filter(school=school, slug="about").update(published_html=f"<p>{text}</p>")


def _wait_for(predicate: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_an_edit_in_another_process_shows_as_soon_as_it_is_announced(
    site: dict[str, str], school_a: Any
) -> None:
    assert broadcast.wait_until_listening()
    before = _get("/p/about/").content
    assert _get("/p/about/").content == before and pagecache.stats()["hits"] == 1
    _edit_about_elsewhere(school_a.school, "Edited elsewhere.")
    # A real second process bumps the content generation (tenancy.generation), which
    # replaces the Redis token and announces it; this process only hears the message.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "courseplatform.settings"}
    code = (
        "import django; django.setup(); "
        "from courseplatform.tenancy.generation import bump_content_generation; "
        f"bump_content_generation({school_a.school.pk})"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert _wait_for(lambda: "Edited elsewhere." in _get("/p/about/").content.decode())


def test_a_copy_outlives_its_window_while_the_process_hears_every_change(
    site: dict[str, str], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    assert broadcast.wait_until_listening()
    clock = [1000.0]
    monkeypatch.setattr(pagecache, "_clock", lambda: clock[0])
    first = _get("/p/about/")
    clock[0] += settings.PUBLIC_PAGE_LIFETIME_SECONDS - 1  # far past the 60 s window
    with CaptureQueriesContext(connection) as ctx:
        again = _get("/p/about/")
    assert again.content == first.content and len(ctx.captured_queries) == 0
    assert pagecache.stats()["hits"] == 1
    clock[0] += 2  # the lifetime's end: asked again (from the Redis copy, not rendered)
    _get("/p/about/")
    assert pagecache.stats()["hits"] == 1


def test_without_the_listener_a_copy_lives_only_its_window(
    site: dict[str, str], school_a: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    broadcast.stop_listening()
    monkeypatch.setattr(broadcast, "ensure_listening", lambda: None)
    monkeypatch.setattr(pagecache, "ensure_listening", lambda: None)
    settings.PUBLIC_PROCESS_CACHE_SECONDS = 20
    assert pagecache.window_seconds() == 20
    clock = [1000.0]
    monkeypatch.setattr(pagecache, "_clock", lambda: clock[0])
    before = _get("/p/about/").content
    # Another process edits: the Redis token changes, this process hears nothing.
    _edit_about_elsewhere(school_a.school, "Edited elsewhere.")
    cache.set(generation_key(school_a.school.pk), "another-process", 3600)
    clock[0] += 19.9
    assert _get("/p/about/").content == before
    clock[0] += 0.2
    assert "Edited elsewhere." in _get("/p/about/").content.decode()


def test_a_break_in_listening_ends_the_long_life_of_older_copies(
    site: dict[str, str], school_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert broadcast.wait_until_listening()
    epoch = broadcast.listening_epoch()
    clock = [1000.0]
    monkeypatch.setattr(pagecache, "_clock", lambda: clock[0])
    before = _get("/p/about/").content
    # The listener's connection is cut (only ours: by its client name).
    killed = broadcast.kill_own_connection_for_tests()
    assert killed == 1
    assert _wait_for(lambda: broadcast.listening_epoch() not in (None, epoch))
    # Announcements made during the break were lost: the copy made before it keeps
    # only its short window.
    _edit_about_elsewhere(school_a.school, "Edited during the break.")
    cache.set(generation_key(school_a.school.pk), "another-process", 3600)
    clock[0] += pagecache.window_seconds() - 1
    assert _get("/p/about/").content == before
    clock[0] += 2
    assert "Edited during the break." in _get("/p/about/").content.decode()


def test_a_page_with_an_expiring_url_lives_only_its_window(
    site: dict[str, str], monkeypatch: pytest.MonkeyPatch, school_a: Any
) -> None:
    from courseplatform.courses import covers
    from courseplatform.courses.models import Course

    assert broadcast.wait_until_listening()
    with school_context(school_a.school):
        Course.objects.filter(school=school_a.school).update(
            cover_key=f"schools/{school_a.school.pk}/covers/{'a' * 32}.png"
        )
    # Covers without their stable URL fall back to signed ones, which expire.
    monkeypatch.setattr(covers, "public_cover_path", lambda school, course: "")
    clock = [1000.0]
    monkeypatch.setattr(pagecache, "_clock", lambda: clock[0])
    first = _get("/courses/")
    assert "/files/" in first.content.decode()
    fresh, stale = edgecache.max_public_lifetime()
    assert first["Cache-Control"] == (
        f"public, max-age=0, s-maxage={fresh}, stale-while-revalidate={stale}"
    )
    clock[0] += pagecache.window_seconds() - 1
    _get("/courses/")
    assert pagecache.stats()["hits"] == 1
    clock[0] += 2
    _get("/courses/")
    assert pagecache.stats()["hits"] == 1  # the window ended although we still listen


def test_a_custom_domain_is_kept_apart_and_a_new_primary_redirects_at_once(
    site: dict[str, str], school_a: Any
) -> None:
    domain = serving_domain(school_a.school, CUSTOM_HOST)
    on_domain = _get("/", host=CUSTOM_HOST)
    on_subdomain = _get("/")
    assert on_domain.status_code == on_subdomain.status_code == 200
    assert pagecache.stats()["entries"] == 2
    assert _get("/", host=CUSTOM_HOST).content == on_domain.content
    with school_context(school_a.school):
        domain.is_primary = True
        domain.save()
    moved = _get("/")
    assert moved.status_code == 301 and moved["Location"].startswith(f"http://{CUSTOM_HOST}")
    assert _get("/", host=CUSTOM_HOST).status_code == 200


def test_memory_is_bounded_by_bytes_least_recently_used_first(
    site: dict[str, str], settings: Any
) -> None:
    _get("/")
    size = pagecache.stats()["bytes"]  # one copy: gzipped body, key and overhead
    assert 0 < size < len(_get("/").content)
    pagecache.clear()
    settings.PUBLIC_PROCESS_CACHE_BYTES = int(size * 1.5)
    for path in ("/", "/courses/", "/p/about/"):
        _get(path)
    kept = pagecache.stats()
    assert kept["bytes"] <= settings.PUBLIC_PROCESS_CACHE_BYTES
    assert kept["entries"] < 3
    # What an operator (and `make bench`) reads from /metrics: this process's copies.
    assert kept["evictions"] == 3 - kept["entries"]
    assert PAGE_PROCESS_CACHE_ENTRIES._value.get() == kept["entries"]
    assert PAGE_PROCESS_CACHE_BYTES._value.get() == kept["bytes"]
    _get("/p/about/")
    assert pagecache.stats()["hits"] == 1  # the newest stayed
    settings.PUBLIC_PROCESS_CACHE_BYTES = size // 2  # nothing fits: nothing is kept
    pagecache.clear()
    _get("/")
    assert pagecache.stats()["entries"] == 0


def test_the_window_never_exceeds_s_maxage_and_zero_turns_it_off(
    site: dict[str, str], settings: Any
) -> None:
    settings.PUBLIC_PROCESS_CACHE_SECONDS = 600
    assert pagecache.window_seconds() == 60  # the page's s-maxage
    settings.PUBLIC_CACHE_SECONDS = 80
    settings.PUBLIC_CACHE_STALE_SECONDS = 60
    # 270 s of signed-URL life: Redis 80 + edge 80 + 60 stale, so 50 s are left here
    assert pagecache.window_seconds() == 50
    settings.PUBLIC_PROCESS_CACHE_SECONDS = 0
    _get("/")
    _get("/")
    assert pagecache.stats() == {"entries": 0, "bytes": 0, "hits": 0, "misses": 0,
                                 "evictions": 0}  # fmt: skip


def test_local_changes_forget_safely_when_too_many_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_tokens, "_LOCAL_NAMES", 2)
    seq = cache_tokens.local_seq()
    cache_tokens.note_local_change("school:1")
    assert cache_tokens.changed_here(seq, ("school:1",))
    assert not cache_tokens.changed_here(seq, ("school:2",))
    cache_tokens.note_local_change("school:2")
    assert not cache_tokens.changed_here(seq, ("school:9",))
    cache_tokens.note_local_change("school:3")  # pushes school:1 out: the floor rises
    assert cache_tokens.changed_here(seq, ("school:9",))  # so everything older is stale
    assert not cache_tokens.changed_here(cache_tokens.local_seq(), ("school:1",))
    cache_tokens.note_local_change()  # everything
    assert cache_tokens.changed_here(seq + 3, ("school:3",))
