"""The management area on both hosts: the login-link hop between a school's platform
subdomain and its primary custom domain, signed files on the custom domain, and
"find your school" leading to the custom domain."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client, override_settings

from courseplatform.accounts.models import User
from courseplatform.domains.models import CustomDomain
from courseplatform.ops.files import signed_file_url
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.storage import school_storage_key
from tests.fixtures.custom_domains import serving_domain

pytestmark = [pytest.mark.django_db, pytest.mark.school_plan("premium")]

HOST = "learn.alpha-brand.test"


def _domain(school: Any, *, primary: bool = True) -> CustomDomain:
    return serving_domain(school, HOST, is_primary=primary)


def _signed_in(school: Any, user: User, host: str) -> Client:
    client = Client(HTTP_HOST=host)
    with school_context(school):
        client.force_login(user)
    return client


def _hop(client: Client, next_path: str = "/manage/courses/") -> str:
    response = client.post("/manage/switch-host/", {"next": next_path})
    assert response.status_code == 302
    return str(response["Location"])


def _follow_link(link: str) -> tuple[Client, Any]:
    parts = urlsplit(link)
    client = Client(HTTP_HOST=parts.netloc)
    return client, client.get(f"{parts.path}?{parts.query}")


def test_hop_from_subdomain_to_custom_domain_and_back(school_a) -> None:
    school, owner = school_a.school, school_a.owner
    _domain(school)
    on_subdomain = _signed_in(school, owner, "alpha.localhost:8000")
    link = _hop(on_subdomain, "/manage/courses/")
    assert link.startswith(f"http://{HOST}:8000/accounts/login-link/")
    assert parse_qs(urlsplit(link).query) == {"next": ["/manage/courses/"]}
    custom, landed = _follow_link(link)
    assert landed.status_code == 302 and landed["Location"] == "/manage/courses/"
    assert custom.get("/manage/courses/").status_code == 200  # signed in there now
    # And back: from the custom domain the hop goes to the platform subdomain.
    back = _hop(custom, "/manage/")
    assert back.startswith("http://alpha.localhost:8000/accounts/login-link/")
    sub, landed = _follow_link(back)
    assert landed.status_code == 302 and landed["Location"] == "/manage/"
    assert sub.get("/manage/").status_code == 200
    # A link is single-use.
    _, again = _follow_link(back)
    assert again.status_code == 400


@pytest.mark.parametrize(
    "hostile", ["https://evil.example/manage/", "//evil.example/manage/", "/courses/", ""]
)
def test_the_hop_only_carries_a_management_path(school_a, hostile: str) -> None:
    school, owner = school_a.school, school_a.owner
    _domain(school)
    link = _hop(_signed_in(school, owner, "alpha.localhost"), hostile)
    assert urlsplit(link).netloc == HOST
    assert parse_qs(urlsplit(link).query) == {"next": ["/manage/"]}


def test_a_forged_next_on_the_login_link_is_ignored(school_a) -> None:
    school, owner = school_a.school, school_a.owner
    _domain(school)
    link = _hop(_signed_in(school, owner, "alpha.localhost"))
    parts = urlsplit(link)
    for hostile in ("https://evil.example/", "//evil.example/manage/", "/manage/\n//x"):
        client = Client(HTTP_HOST=parts.netloc)
        landed = client.get(parts.path, {"next": hostile})
        if landed.status_code == 302:
            assert landed["Location"] == "/manage/", hostile
            break
    else:
        pytest.fail("the link was never accepted")


def test_the_hop_is_for_managers_and_needs_a_primary_domain(school_a, make_user) -> None:
    school, owner = school_a.school, school_a.owner
    student = make_user(school, "sam@alpha.test")
    _domain(school)
    assert (
        _signed_in(school, student, "alpha.localhost").post("/manage/switch-host/").status_code
        == 403
    )
    anonymous = Client(HTTP_HOST="alpha.localhost").post("/manage/switch-host/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert (
        _signed_in(school, owner, "alpha.localhost").get("/manage/switch-host/").status_code == 405
    )
    with school_context(school):
        CustomDomain.objects.filter(school=school).update(is_primary=False)
    from courseplatform.domains.routing import forget_domain

    forget_domain(HOST, school_id=school.pk)
    refused = _signed_in(school, owner, "alpha.localhost").post("/manage/switch-host/")
    assert refused.status_code == 302 and refused["Location"] == "/manage/"


def test_another_schools_session_does_not_hop(school_a, school_b) -> None:
    _domain(school_a.school)
    # Bravo's owner's session presented on Alpha's subdomain is logged out first.
    client = _signed_in(school_b.school, school_b.owner, "alpha.localhost")
    response = client.post("/manage/switch-host/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_signed_file_links_work_on_the_custom_domain_only_for_their_school(
    school_a, school_b
) -> None:
    school = school_a.school
    _domain(school, primary=False)
    key = f"{school_storage_key(school.pk)}test/notes.txt"
    default_storage.save(key, ContentFile(b"hello from alpha"))
    try:
        with override_settings(ROOT_URLCONF="courseplatform.urls.school"):
            url = signed_file_url(
                school=school, key=key, filename="notes.txt", content_type="text/plain"
            )
        served = Client(HTTP_HOST=HOST).get(url)
        assert served.status_code == 200
        assert served.getvalue() == b"hello from alpha"
        assert Client(HTTP_HOST="bravo.localhost").get(url).status_code == 404
    finally:
        default_storage.delete(key)


def test_find_your_school_leads_to_the_primary_domain(school_a) -> None:
    _domain(school_a.school)
    response = Client(HTTP_HOST="localhost:8000").post("/find-school/", {"subdomain": "alpha"})
    assert response.status_code == 302
    assert response["Location"] == f"http://{HOST}:8000/accounts/login/"
    # The page's policy lets that form post end on a custom domain (Chromium applies
    # form-action to the redirects after a post).
    page = Client(HTTP_HOST="localhost:8000").get("/find-school/")
    policy = page["Content-Security-Policy"]
    form_action = re.search(r"form-action ([^;]+)", policy)
    assert form_action and "http:" in form_action.group(1).split()
    # Other pages keep the narrow form-action.
    home = Client(HTTP_HOST="localhost:8000").get("/")
    narrow = re.search(r"form-action ([^;]+)", home["Content-Security-Policy"])
    assert narrow and "http:" not in narrow.group(1).split()


def test_the_dashboard_offers_the_hop_only_with_a_primary_domain(school_a) -> None:
    school, owner = school_a.school, school_a.owner
    page = _signed_in(school, owner, "alpha.localhost").get("/manage/")
    assert "/manage/switch-host/" not in page.content.decode()
    _domain(school)
    page = _signed_in(school, owner, "alpha.localhost").get("/manage/")
    html = page.content.decode()
    assert "/manage/switch-host/" in html and f"Manage on {HOST}" in html
    page = _signed_in(school, owner, HOST).get("/manage/")
    assert "Manage on alpha.localhost" in page.content.decode()
