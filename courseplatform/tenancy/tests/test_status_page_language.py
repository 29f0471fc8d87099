"""Pages answered before LanguageMiddleware speak the visitor's language: the switcher's
cookie, else the school's language, else the browser's (tenancy/languages.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from courseplatform.onboarding.services import create_school
from courseplatform.ops import ratelimit
from courseplatform.ops.schools import set_school_status
from courseplatform.tenancy import errors
from courseplatform.tenancy.languages import render_status_page, status_page_language
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import platform_bypass

PASSWORD = "a-long-test-passphrase-42"


def _school(slug: str, language: str) -> School:
    return create_school(
        slug=slug,
        name=f"{slug.title()} Academy",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Owner",
        language=language,
    ).school


def _html(response: Any) -> str:
    return str(response.content.decode())


def test_status_page_language_precedence() -> None:
    rf = RequestFactory()
    german_browser = rf.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    arabic_school = School(slug="x", name="X", language="ar")
    browser_school = School(slug="y", name="Y", language="")
    assert status_page_language(german_browser) == "de"
    assert status_page_language(german_browser, arabic_school) == "ar"
    assert status_page_language(german_browser, browser_school) == "de"
    german_browser.COOKIES["cp_language"] = "pt-br"
    assert status_page_language(german_browser, arabic_school) == "pt-br"
    assert status_page_language(rf.get("/", HTTP_ACCEPT_LANGUAGE="ja, *")) == "en"
    assert status_page_language(rf.get("/")) == "en"


@pytest.mark.django_db
def test_unknown_host_page_follows_the_browser_then_the_cookie() -> None:
    response = Client(HTTP_HOST="nobody.localhost").get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es")
    html = _html(response)
    assert response.status_code == 404
    assert response["Content-Language"] == "es"
    assert "Accept-Language" in response["Vary"]
    assert '<html lang="es" dir="ltr"' in html
    assert "No hay ninguna escuela en esta dirección" in html
    assert "/jsi18n/es/" in html

    visitor = Client(HTTP_HOST="nobody.localhost")
    visitor.cookies["cp_language"] = "ar"
    html = _html(visitor.get("/", HTTP_ACCEPT_LANGUAGE="es"))
    assert '<html lang="ar" dir="rtl"' in html
    assert "لا توجد مدرسة على هذا العنوان" in html
    # The next request on the same thread is English again: nothing leaked.
    assert "No school lives at this address" in _html(Client(HTTP_HOST="nobody.localhost").get("/"))


@pytest.mark.django_db(transaction=True)
def test_suspended_school_page_is_in_the_schools_language() -> None:
    school = _school("qahira", "ar")
    with platform_bypass(actor=None, reason="test: suspend"):
        set_school_status(school=school, actor=None, status=School.Status.SUSPENDED)
    response = Client(HTTP_HOST="qahira.localhost").get("/", HTTP_ACCEPT_LANGUAGE="de")
    html = _html(response)
    assert response.status_code == 403
    assert '<html lang="ar" dir="rtl"' in html
    assert "Qahira Academy غير متاحة مؤقتًا" in html
    assert "vorübergehend" not in html


@pytest.mark.django_db
def test_closing_and_rate_limited_pages_render_in_the_chosen_language() -> None:
    rf = RequestFactory()
    request = rf.get("/", HTTP_ACCEPT_LANGUAGE="en")
    school = School(
        slug="lisboa",
        name="Lisboa",
        language="pt-br",
        purge_after=timezone.now() + timedelta(days=30),
    )
    html = _html(
        render_status_page(
            request, "tenancy/closing.html", {"school": school}, status=503, school=school
        )
    )
    assert '<html lang="pt-br"' in html
    assert "Lisboa está sendo encerrada" in html

    limited = rf.post("/signup/", HTTP_ACCEPT_LANGUAGE="de-CH,de;q=0.8")
    limited.school = None  # type: ignore[attr-defined]
    response = ratelimit.too_many_requests(limited, 120, "")
    html = _html(response)
    assert response.status_code == 429 and response["Retry-After"] == "120"
    assert "Bitte versuche es in 2 Minuten erneut." in html
    assert "Zu viele Versuche" in html


def test_server_error_page_is_translated_and_right_to_left() -> None:
    request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE="ar")
    html = _html(errors.server_error(request))
    assert '<html lang="ar" dir="rtl"' in html
    assert "حدث خطأ ما من جهتنا" in html
    # Already chosen by LanguageMiddleware: that language wins over the browser's.
    request.LANGUAGE_CODE = "es"  # type: ignore[attr-defined]
    assert "Algo salió mal de nuestro lado" in _html(errors.server_error(request))


@pytest.mark.django_db
def test_not_found_and_csrf_pages_on_a_school_use_its_language(
    client_for: Callable[..., Client],
) -> None:
    _school("madrid", "es")
    response = client_for("madrid.localhost").get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 404
    assert "Página no encontrada" in _html(response)

    strict = Client(HTTP_HOST="madrid.localhost", enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"email": "a@b.test", "password": "x"})
    html = _html(response)
    assert response.status_code == 403
    assert '<html lang="es" dir="ltr"' in html
    assert "Formulario vencido" in html
