"""Content-Security-Policy: on every host, never 'unsafe-inline' for scripts, and no
page of ours relies on inline script (which the policy would block in browsers).

The policy is built by ops/csp.py into settings.SECURE_CSP and sent by Django's
ContentSecurityPolicyMiddleware.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from courseplatform.ops.csp import build_policy, origin
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

ALPHA = "alpha.localhost"


def directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def policy_of(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    assert header, f"no Content-Security-Policy on {response.wsgi_request.path}"
    return directives(header)


def assert_strict(policy: dict[str, list[str]]) -> None:
    assert policy["default-src"] == ["'self'"]
    scripts = policy["script-src"]
    assert "'self'" in scripts
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert "*" not in scripts and "data:" not in scripts
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert "'unsafe-inline'" in policy["style-src"]
    assert not any(v.startswith("'nonce-") for v in policy["style-src"])


class ScriptAudit(HTMLParser):
    """Collects inline <script> blocks and on*= event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts: list[str] = []
        self.handlers: list[str] = []
        self.javascript_urls: list[str] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}>")
            if name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.javascript_urls.append(f"<{tag} {name}={value}>")
        if tag == "script":
            self._in_script = values

    def handle_data(self, data: str) -> None:
        if self._in_script is not None and data.strip():
            kind = (self._in_script.get("type") or "").lower()
            if not self._in_script.get("src") and kind != "application/json":
                self.inline_scripts.append(data.strip()[:80])

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None


def assert_no_inline_script(response: Any) -> None:
    audit = ScriptAudit()
    audit.feed(response.content.decode())
    path = response.wsgi_request.path
    assert audit.inline_scripts == [], (path, audit.inline_scripts)
    assert audit.handlers == [], (path, audit.handlers)
    assert audit.javascript_urls == [], (path, audit.javascript_urls)


def test_platform_pages_send_a_strict_policy(client_for: Callable[..., Client]) -> None:
    client = client_for("localhost")
    for path in ("/", "/signup/", "/find-school/", "/admin/login/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict(policy_of(response))
        assert_no_inline_script(response)


def test_school_pages_send_a_strict_policy(
    school_a: Any, client_for: Callable[..., Client], make_user: Callable[..., Any]
) -> None:
    anonymous = client_for(ALPHA)
    for path in (
        "/",
        "/courses/",
        "/redeem/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password-reset/",
        "/no-such-page/",
    ):
        response = anonymous.get(path)
        assert response.status_code in (200, 302, 404), (path, response.status_code)
        assert_strict(policy_of(response))
        if response.status_code != 302:
            assert_no_inline_script(response)
    owner = client_for(ALPHA)
    with school_context(school_a.school):
        owner.force_login(school_a.owner)
    for path in (
        "/manage/",
        "/manage/site/",
        "/manage/site/theme/",
        "/manage/settings/",
        "/manage/students/",
        "/manage/courses/",
        "/manage/codes/",
    ):
        response = owner.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        assert_strict(policy_of(response))
        assert_no_inline_script(response)


def test_unknown_hosts_and_health_checks_carry_the_policy_too(
    client_for: Callable[..., Client], db: None
) -> None:
    response = client_for("nobody.localhost").get("/")
    assert response.status_code == 404
    assert_strict(policy_of(response))


def test_form_action_allows_the_signup_hop_to_school_hosts(
    client_for: Callable[..., Client], db: None
) -> None:
    # Chromium checks form-action on the redirect after a form post: the platform's
    # signup answers with a redirect to <slug>.PLATFORM_DOMAIN.
    policy = policy_of(client_for("localhost").get("/signup/"))
    assert policy["form-action"] == ["'self'", "http://localhost:*", "http://*.localhost:*"]


def test_nonce_is_added_only_when_a_template_uses_it(client_for: Callable[..., Client]) -> None:
    # The operator console marks its scripts with {% csp_nonce_attr %}.
    response = client_for("localhost").get("/admin/login/")
    nonces = [v for v in policy_of(response)["script-src"] if v.startswith("'nonce-")]
    assert len(nonces) == 1
    nonce = nonces[0][len("'nonce-") : -1]
    assert f'nonce="{nonce}"' in response.content.decode()
    # A second request gets a fresh one.
    again = policy_of(client_for("localhost").get("/admin/login/"))["script-src"]
    assert nonces[0] not in again


def test_theme_style_is_inline_css_not_script(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    html = client_for(ALPHA).get("/").content.decode()
    assert re.search(r"<style>:root\{ --school-primary:#[0-9a-f]{6};", html)


# --- the policy builder --------------------------------------------------------------------------


def test_policy_adds_storage_and_cdn_origins_where_media_is_fetched() -> None:
    policy = build_policy(
        platform_domain="courses.example",
        platform_scheme="https",
        storage_endpoint="https://acc.r2.cloudflarestorage.com/",
        storage_bucket="media",
        cdn_base_url="https://cdn.courses.example/videos",
        extra_origins=["https://img.example/x"],
        report_uri="/csp-report/",
    )
    remote = [
        "https://acc.r2.cloudflarestorage.com",
        "https://cdn.courses.example",
        "https://img.example",
    ]
    for directive in ("img-src", "media-src", "connect-src"):
        values = policy[directive]
        assert isinstance(values, list)
        for source in remote:
            assert source in values, (directive, source)
    assert policy["script-src"] == ["'self'", "<CSP_NONCE_SENTINEL>"]
    assert policy["form-action"] == [
        "'self'",
        "https://courses.example:*",
        "https://*.courses.example:*",
    ]
    assert policy["upgrade-insecure-requests"] is True
    assert policy["report-uri"] == ["/csp-report/"]


def test_policy_for_aws_s3_and_local_storage() -> None:
    aws = build_policy(platform_domain="x.test", storage_bucket="media")
    assert "https://*.amazonaws.com" in aws["connect-src"]  # type: ignore[operator]
    local = build_policy(platform_domain="x.test", platform_scheme="http")
    assert local["connect-src"] == ["'self'"]
    assert "upgrade-insecure-requests" not in local
    assert origin("javascript:alert(1)") == ""
    assert origin("https://a.example:8443/p?q") == "https://a.example:8443"
