"""The shipped deploy/Caddyfile with Debian's real Caddy in front of the real app.

``caddy validate`` accepts the production configuration; then Caddy runs it on
loopback high ports with on-demand certificates from its local CA (``tls internal``)
and the app's ``ask`` endpoint deciding which names may get one: a school's name is
served that school's page under a certificate for exactly that name, a name that
serves nobody fails the TLS handshake, and plain HTTP is redirected to HTTPS.

The app runs in a subprocess, so the schools are committed (fresh slugs per run).
"""

from __future__ import annotations

import secrets
import ssl
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.fixtures.edge import CADDYFILE, CaddyEdge, caddy_env, require_caddy

pytestmark = pytest.mark.e2e


def _validate(tmp_path: Path, **values: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_caddy(), "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env=caddy_env(tmp_path, **values),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION_VALUES = {
    "PLATFORM_DOMAIN": "courses.example.com",
    "APP_UPSTREAM": "127.0.0.1:8000",
    "TLS_ASK_URL": "http://127.0.0.1:8000/internal/tls-ask",
    "ACME_EMAIL": "ops@example.com",
}


def test_caddy_validates_the_shipped_caddyfile(tmp_path: Path) -> None:
    result = _validate(tmp_path, **PRODUCTION_VALUES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


def test_caddy_refuses_the_caddyfile_without_its_required_values(tmp_path: Path) -> None:
    # No ACME contact: the `email` option is left without its value.
    values = {k: v for k, v in PRODUCTION_VALUES.items() if k != "ACME_EMAIL"}
    result = _validate(tmp_path, **values)
    assert result.returncode != 0
    assert "email" in result.stdout + result.stderr


def test_the_adapted_config_asks_the_app_and_proxies_to_it(tmp_path: Path) -> None:
    import json

    result = subprocess.run(
        [require_caddy(), "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env=caddy_env(tmp_path, **PRODUCTION_VALUES),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    config = json.loads(result.stdout)
    automation = config["apps"]["tls"]["automation"]
    assert automation["on_demand"]["ask"] == PRODUCTION_VALUES["TLS_ASK_URL"]
    # Exactly one policy issues on demand: the catch-all for subdomains and custom domains.
    on_demand = [p for p in automation["policies"] if p.get("on_demand")]
    assert len(on_demand) == 1 and "subjects" not in on_demand[0]
    text = result.stdout
    assert '"dial":"127.0.0.1:8000"' in text.replace(" ", "")
    assert "https://{http.request.host}{http.request.uri}" in text


# --- the real edge in front of the real app ------------------------------------------


@pytest.fixture
def edge_schools(committed_db: None) -> SimpleNamespace:
    from courseplatform.onboarding.services import create_school

    token = secrets.token_hex(3)
    made = {}
    for key in ("north", "south"):
        slug = f"edge{key}{token}"
        made[key] = create_school(
            slug=slug,
            name=f"{key.title()} Edge Academy {token}",
            owner_email=f"owner@{slug}.test",
            owner_password="a-long-test-passphrase-42",
            owner_name="Edge Owner",
            plan_code="premium",
        ).school
    return SimpleNamespace(**made)


def test_school_subdomain_gets_its_own_certificate_and_its_own_page(
    caddy_edge: CaddyEdge, edge_schools: SimpleNamespace
) -> None:
    for school, other in ((edge_schools.north, edge_schools.south), (edge_schools.south, None)):
        name = f"{school.slug}.localhost"
        answer = caddy_edge.https_get(name, "/")
        assert answer.status == 200, answer.body[:500]
        assert school.name in answer.body
        if other is not None:
            assert other.name not in answer.body
        assert caddy_edge.peer_certificate_names(name) == [name]


def test_a_name_that_serves_no_school_fails_the_handshake(
    caddy_edge: CaddyEdge, edge_schools: SimpleNamespace
) -> None:
    for name in (f"nobody{secrets.token_hex(3)}.localhost", "victim-brand.example"):
        with pytest.raises(ssl.SSLError):
            caddy_edge.https_get(name, "/")


def _custom_domain(school: Any, hostname: str, **fields: Any) -> None:
    from django.utils import timezone

    from courseplatform.domains.models import CustomDomain
    from courseplatform.tenancy.rls import school_context

    with school_context(school):
        CustomDomain.objects.create(
            school=school,
            hostname=hostname,
            activated_at=timezone.now() if fields.get("status") == "active" else None,
            **fields,
        )


def test_an_active_custom_domain_gets_a_certificate_and_its_schools_page(
    caddy_edge: CaddyEdge, edge_schools: SimpleNamespace
) -> None:
    token = secrets.token_hex(3)
    active = f"learn-{token}.north-brand.test"
    pending = f"learn-{token}.south-brand.test"
    _custom_domain(edge_schools.north, active, status="active")
    _custom_domain(edge_schools.south, pending, status="pending")
    answer = caddy_edge.https_get(active, "/")
    assert answer.status == 200, answer.body[:500]
    assert edge_schools.north.name in answer.body
    assert edge_schools.south.name not in answer.body
    assert caddy_edge.peer_certificate_names(active) == [active]
    # Not verified yet: no certificate, so no TLS at all (and nothing of the school).
    with pytest.raises(ssl.SSLError):
        caddy_edge.https_get(pending, "/")


def test_a_primary_custom_domain_takes_the_subdomains_visitors_through_the_edge(
    caddy_edge: CaddyEdge, edge_schools: SimpleNamespace
) -> None:
    primary = f"www-{secrets.token_hex(3)}.south-brand.test"
    _custom_domain(edge_schools.south, primary, status="active", is_primary=True)
    subdomain = f"{edge_schools.south.slug}.localhost"
    answer = caddy_edge.https_get(subdomain, "/courses/?page=2")
    assert answer.status == 301
    # PLATFORM_SCHEME=https, and the port the visitor used (the edge's test port).
    location = f"https://{primary}:{caddy_edge.https_port}/courses/?page=2"
    assert answer.headers["Location"] == location
    landed = caddy_edge.https_get(primary, "/courses/?page=2")
    assert landed.status == 200
    assert edge_schools.south.name in landed.body


def test_the_platform_domain_is_served_over_https(caddy_edge: CaddyEdge) -> None:
    answer = caddy_edge.https_get("localhost", "/")
    assert answer.status == 200
    assert "Create your school" in answer.body
    assert caddy_edge.peer_certificate_names("localhost") == ["localhost"]


def test_plain_http_is_redirected_to_https_with_the_path_kept(
    caddy_edge: CaddyEdge, edge_schools: SimpleNamespace
) -> None:
    name = f"{edge_schools.north.slug}.localhost"
    answer = caddy_edge.http_get(name, "/courses/?page=2")
    assert answer.status in (301, 308)
    assert answer.headers["Location"].startswith(f"https://{name}")
    assert answer.headers["Location"].endswith("/courses/?page=2")


def test_the_app_sees_the_request_as_secure_behind_the_edge(
    caddy_edge: CaddyEdge, edge_schools: SimpleNamespace
) -> None:
    # Django checks the Referer of a POST only on a secure request: a login POST with a
    # valid CSRF token but no Referer is refused, so X-Forwarded-Proto from the edge
    # (with TRUSTED_PROXY_COUNT=1 and PLATFORM_SCHEME=https) made it secure. With the
    # school's own page as Referer the same POST goes through the CSRF check.
    import re

    name = f"{edge_schools.north.slug}.localhost"
    form = caddy_edge.https_get(name, "/accounts/login/")
    assert form.status == 200
    cookie = form.headers["Set-Cookie"]
    assert "Secure" in cookie
    csrf_cookie = re.search(r"csrftoken=([^;]+)", cookie)
    csrf_field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
    assert csrf_cookie and csrf_field
    headers = {
        "Cookie": f"csrftoken={csrf_cookie.group(1)}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    body = f"csrfmiddlewaretoken={csrf_field.group(1)}&email=nobody%40example.test&password=x"
    refused = caddy_edge.https_request(
        name, "/accounts/login/", method="POST", headers=headers, body=body
    )
    assert refused.status == 403  # CSRF: a secure POST needs a same-origin Referer
    accepted = caddy_edge.https_request(
        name,
        "/accounts/login/",
        method="POST",
        headers={**headers, "Referer": f"https://{name}:{caddy_edge.https_port}/accounts/login/"},
        body=body,
    )
    assert accepted.status == 200  # the form again, with "wrong email or password"
    assert "csrfmiddlewaretoken" in accepted.body
