"""Which language a page is in (accounts/language.py): the signed-in person's choice,
then the visitor's switcher cookie, then the school's language, then the browser's;
the switcher itself; what shared caches may keep; the JavaScript catalog; emails."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from courseplatform.accounts.models import User
from courseplatform.accounts.services import send_school_email
from courseplatform.ops import pagecache
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

HOST = "alpha.localhost"


def _set_school_language(school: School, language: str) -> None:
    with school_context(school):
        school.language = language
        school.save(update_fields=["language", "updated_at"])


def _lang(response: Any) -> str:
    return str(response["Content-Language"])


@pytest.fixture(autouse=True)
def _fresh_process_cache() -> None:
    pagecache.clear()


def test_the_school_language_beats_the_browser(school_a: Any) -> None:
    _set_school_language(school_a.school, "de")
    response = Client(HTTP_HOST=HOST).get("/", HTTP_ACCEPT_LANGUAGE="es")
    assert _lang(response) == "de"
    assert b'<html lang="de" dir="ltr"' in response.content
    assert "Sprache" in response.content.decode()  # the footer switcher, translated


def test_the_browser_decides_when_the_school_follows_it(school_a: Any) -> None:
    _set_school_language(school_a.school, "")
    assert _lang(Client(HTTP_HOST=HOST).get("/", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9")) == "pt-br"
    assert _lang(Client(HTTP_HOST=HOST).get("/", HTTP_ACCEPT_LANGUAGE="pt")) == "pt-br"
    assert _lang(Client(HTTP_HOST=HOST).get("/", HTTP_ACCEPT_LANGUAGE="fr, de;q=0.5")) == "de"
    assert _lang(Client(HTTP_HOST=HOST).get("/", HTTP_ACCEPT_LANGUAGE="fr")) == "en"
    assert _lang(Client(HTTP_HOST=HOST).get("/")) == "en"


def test_the_visitor_cookie_beats_the_school_and_the_student_beats_both(
    school_a: Any, make_user: Any
) -> None:
    _set_school_language(school_a.school, "de")
    visitor = Client(HTTP_HOST=HOST)
    visitor.cookies["cp_language"] = "es"
    assert _lang(visitor.get("/", HTTP_ACCEPT_LANGUAGE="de")) == "es"
    visitor.cookies["cp_language"] = "xx-made-up"
    assert _lang(visitor.get("/")) == "de"

    student = make_user(school_a.school, "ana@alpha.test")
    with school_context(school_a.school):
        User.objects.filter(pk=student.pk).update(language="ar")
    client = Client(HTTP_HOST=HOST)
    with school_context(school_a.school):
        client.force_login(User.objects.get(pk=student.pk))
    client.cookies["cp_language"] = "es"
    response = client.get("/my/")
    assert _lang(response) == "ar"
    assert b'dir="rtl"' in response.content


def test_the_switcher_sets_a_cookie_for_a_visitor_and_goes_back(school_a: Any) -> None:
    client = Client(HTTP_HOST=HOST)
    response = client.post("/language/", {"language": "pt-br", "next": "/courses/"})
    assert response.status_code == 302 and response["Location"] == "/courses/"
    assert response.cookies["cp_language"].value == "pt-br"
    assert response.cookies["cp_language"]["httponly"]
    assert _lang(client.get("/courses/")) == "pt-br"


def test_the_switcher_refuses_other_hosts_and_unknown_languages(school_a: Any) -> None:
    client = Client(HTTP_HOST=HOST)
    away = client.post("/language/", {"language": "de", "next": "https://evil.test/x"})
    assert away.status_code == 302 and away["Location"] == "/"
    bad = client.post("/language/", {"language": "klingon"})
    assert bad.status_code == 400 and "cp_language" not in bad.cookies
    assert client.get("/language/").status_code == 405


def test_a_signed_in_choice_is_saved_on_the_account_and_needs_the_csrf_token(
    school_a: Any, make_user: Any
) -> None:
    ben = make_user(school_a.school, "ben@alpha.test")
    client = Client(HTTP_HOST=HOST, enforce_csrf_checks=True)
    with school_context(school_a.school):
        client.force_login(ben)
    client.get("/my/")  # a page with a form: sets the CSRF cookie
    forged = client.post("/language/", {"language": "de"})
    assert forged.status_code == 403
    token = client.cookies["csrftoken"].value
    saved = client.post("/language/", {"language": "de", "csrfmiddlewaretoken": token})
    assert saved.status_code == 302
    with school_context(school_a.school):
        assert User.objects.get(email="ben@alpha.test").language == "de"


def test_only_a_page_in_the_school_language_is_for_shared_caches(school_a: Any) -> None:
    _set_school_language(school_a.school, "es")
    shared = Client(HTTP_HOST=HOST).get("/courses/")
    assert shared["Cache-Control"].startswith("public")
    assert "Accept-Language" not in shared.get("Vary", "")

    chooser = Client(HTTP_HOST=HOST)
    chooser.cookies["cp_language"] = "de"
    chosen = chooser.get("/courses/")
    assert chosen["Cache-Control"].startswith("private") and _lang(chosen) == "de"
    # The process copy is kept per language: the next plain visitor still gets Spanish.
    assert _lang(Client(HTTP_HOST=HOST).get("/courses/")) == "es"
    assert _lang(chooser.get("/courses/")) == "de"

    _set_school_language(school_a.school, "")
    browser = Client(HTTP_HOST=HOST).get("/courses/", HTTP_ACCEPT_LANGUAGE="ar")
    assert browser["Cache-Control"].startswith("private") and _lang(browser) == "ar"
    assert "Accept-Language" in browser["Vary"]


def test_the_javascript_catalog_is_per_language_and_cacheable(school_a: Any) -> None:
    response = Client(HTTP_HOST=HOST).get("/jsi18n/ar/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "public" in response["Cache-Control"]
    assert b"django.pluralidx" in response.content
    assert Client(HTTP_HOST=HOST).get("/jsi18n/xx/").status_code == 404
    assert Client(HTTP_HOST="localhost").get("/jsi18n/de/").status_code == 200


def test_an_email_is_in_the_recipients_language_whatever_the_request(
    school_a: Any, make_user: Any
) -> None:
    from django.utils.translation import gettext_lazy, override

    student = make_user(school_a.school, "carla@alpha.test")
    with school_context(school_a.school):
        User.objects.filter(pk=student.pk).update(language="de")
        student.refresh_from_db()
    with override("es"):
        send_school_email(
            school=school_a.school,
            user=student,
            subject=gettext_lazy("Language"),
            template="accounts/email/verify",
            context={"link": "https://alpha.localhost/x"},
        )
    assert mail.outbox[-1].subject == "Sprache"
