"""The signup form's "School language": offered in the visitor's language, saved on the school."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from courseplatform.onboarding.services import create_school
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-passphrase-42"


def _selected_language(html: str) -> list[str]:
    select = re.search(r'<select name="language"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert select, "no language select on the signup page"
    return re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', select.group(1))


def _data(**overrides: str) -> dict[str, str]:
    data = {
        "full_name": "Ada Lovelace",
        "email": "ada@example.com",
        "password": PASSWORD,
        "school_name": "Analytical Engines",
        "subdomain": "engines",
    }
    data.update(overrides)
    return data


def test_signup_offers_the_browsers_language(client_for: Callable[..., Client]) -> None:
    platform = client_for("localhost")
    german = platform.get("/signup/", HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.9,en;q=0.4")
    html = german.content.decode()
    assert _selected_language(html) == ["de"]
    assert "Sprache der Schule" in html  # the page itself is in German too
    assert _selected_language(platform.get("/signup/").content.decode()) == ["en"]
    brazilian = platform.get("/signup/", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert _selected_language(brazilian.content.decode()) == ["pt-br"]


def test_signup_saves_the_chosen_language(
    client_for: Callable[..., Client], in_school: Callable[[Any], Any]
) -> None:
    response = client_for("localhost").post(
        "/signup/", _data(language="ar"), HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 302, response.content.decode()[:500]
    school = School.objects.get(slug="engines")
    assert school.language == "ar"
    with in_school(school):
        assert AuditLog.objects.get(action="school.created").data["language"] == "ar"


def test_signup_without_a_language_takes_the_offered_default(
    client_for: Callable[..., Client],
) -> None:
    response = client_for("localhost").post("/signup/", _data(), HTTP_ACCEPT_LANGUAGE="es-419")
    assert response.status_code == 302
    assert School.objects.get(slug="engines").language == "es"


def test_signup_refuses_an_unknown_language(client_for: Callable[..., Client]) -> None:
    response = client_for("localhost").post("/signup/", _data(language="klingon"))
    assert response.status_code == 200
    assert "klingon" in response.content.decode()  # "Select a valid choice. klingon is not …"
    assert not School.objects.filter(slug="engines").exists()


def test_create_school_language_defaults_to_english_and_is_validated() -> None:
    created = create_school(
        slug="plain",
        name="Plain",
        owner_email="o@plain.test",
        owner_password=PASSWORD,
        owner_name="O",
    )
    assert created.school.language == "en"
    follows = create_school(
        slug="browser",
        name="Browser",
        owner_email="o@browser.test",
        owner_password=PASSWORD,
        owner_name="O",
        language="",
    )
    assert follows.school.language == ""  # "" follows each visitor's browser
    with pytest.raises(ValidationError) as refused:
        create_school(
            slug="wrong",
            name="Wrong",
            owner_email="o@wrong.test",
            owner_password=PASSWORD,
            owner_name="O",
            language="xx",
        )
    assert "language" in refused.value.message_dict
    assert not School.objects.filter(slug="wrong").exists()
    with school_context(created.school):
        assert created.owner.school_id == created.school.pk
