"""The school's language in settings: an owner's change reaches the public pages at once.

Public pages are cached (ops.edgecache: per school ``updated_at`` and language), so a
stale copy in the old language would survive a change that did not move ``updated_at``
or a cache keyed without the language. The visitor here sends no cookie and no
Accept-Language, so the school's setting is what decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

HTML_TAG = re.compile(r"<html[^>]*>")


def _html_tag(client: Client, path: str, **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    match = HTML_TAG.search(response.content.decode())
    assert match, f"{path}: no <html> tag"
    return match.group(0)


def _owner_sets_language(owner_client: Client, school: School, language: str) -> None:
    response = owner_client.post(
        "/manage/settings/",
        {"name": school.name, "language": language, "time_zone": school.time_zone},
    )
    assert response.status_code == 302, response.content.decode()[:500]


def test_changing_the_school_language_switches_the_public_pages_at_once(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    school = school_a.school
    host = f"{school.slug}.localhost"
    owner_client = client_for(host)
    with school_context(school):
        owner_client.force_login(school_a.owner)
    visitor = client_for(host)

    # English first, and asked twice so the page is in the cache in English.
    for path in ("/", "/courses/"):
        assert 'lang="en"' in _html_tag(visitor, path)
        assert 'lang="en"' in _html_tag(visitor, path)

    _owner_sets_language(owner_client, school, "de")
    for path in ("/", "/courses/"):
        tag = _html_tag(visitor, path)
        assert 'lang="de"' in tag and 'dir="ltr"' in tag, (path, tag)

    _owner_sets_language(owner_client, school, "ar")
    for path in ("/", "/courses/"):
        tag = _html_tag(visitor, path)
        assert 'lang="ar"' in tag and 'dir="rtl"' in tag, (path, tag)
    # The settings page itself now reads in Arabic for the owner (no language of their own).
    settings_page = owner_client.get("/manage/settings/").content.decode()
    assert '<h1 class="page-title">الإعدادات</h1>' in settings_page

    # "" follows each visitor's browser again.
    _owner_sets_language(owner_client, school, "")
    assert 'lang="es"' in _html_tag(visitor, "/", accept_language="es-MX,es;q=0.9")
    assert 'lang="en"' in _html_tag(visitor, "/")
    school.refresh_from_db()
    assert school.language == ""


def test_only_the_owner_changes_the_language(
    school_a: Any, client_for: Callable[..., Client], make_user: Callable[..., Any]
) -> None:
    school = school_a.school
    instructor = make_user(school, "ina@alpha.test", role="instructor")
    client = client_for(f"{school.slug}.localhost")
    with school_context(school):
        client.force_login(instructor)
    response = client.post(
        "/manage/settings/", {"name": school.name, "language": "de", "time_zone": "UTC"}
    )
    assert response.status_code in (302, 403)
    school.refresh_from_db()
    assert school.language != "de"
