"""The platform home links to signup, and "find your school" sends a visitor to the
login page of the school they name, or says it does not exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_platform_home_offers_signup_and_find_school(client_for: Callable[..., Client]) -> None:
    response = client_for("localhost").get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/signup/"' in html and 'href="/find-school/"' in html


def test_find_school_redirects_to_the_named_schools_login(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = client_for("localhost")
    assert client.get("/find-school/").status_code == 200
    response = client.post("/find-school/", {"subdomain": "  ALPHA "})
    assert response.status_code == 302
    assert response["Location"].startswith("http://alpha.localhost")
    assert response["Location"].endswith("/accounts/login/")


@pytest.mark.parametrize("subdomain", ["nowhere", ""])
def test_find_school_with_an_unknown_or_blank_address_says_so(
    school_a: Any, client_for: Callable[..., Client], subdomain: str
) -> None:
    response = client_for("localhost").post("/find-school/", {"subdomain": subdomain})
    assert response.status_code == 200
    html = response.content.decode()
    if subdomain:
        assert "We could not find a school at this address." in html
    else:
        assert "This field is required." in html
