"""Settings → API and the API docs in Chromium (CSP guard on): create a token, see it
once, call the API with it, and open the self-hosted Swagger UI."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import REPO_ROOT, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PASSWORD = "a-strong-pass-1234"
PHONE = {"width": 375, "height": 812}


def _create_school(slug: str) -> None:
    created = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createschool",
            slug,
            "--name",
            "Api Academy",
            "--owner-email",
            f"owner@{slug}.test",
            "--password",
            PASSWORD,
        ],
        cwd=REPO_ROOT,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr[-2000:]


def test_token_page_and_docs(live_app: LiveApp, page: Page) -> None:
    slug = f"api-{secrets.token_hex(4)}"
    host = f"{slug}."
    _create_school(slug)
    page.goto(live_app.url(host, "/accounts/login/"))
    page.locator('input[name="email"]').fill(f"owner@{slug}.test")
    page.locator('input[name="password"]').fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(live_app.url(host, "/manage/"))

    page.goto(live_app.url(host, "/manage/settings/"))
    page.get_by_role("link", name="Manage API tokens").click()
    page.wait_for_url(live_app.url(host, "/manage/settings/api/"))
    page.locator('input[name="name"]').fill("Shop sync")
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Create token").click()
    page.wait_for_url(live_app.url(host, "/manage/settings/api/"))
    token = page.locator("[data-token-value]").input_value()
    assert token.startswith("cp_")
    expect(page.locator("[data-token-list] [data-token]")).to_have_count(1)
    expect(page.locator("[data-token-list]")).to_contain_text("Shop sync")
    screenshot(page, "api-tokens-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "api-tokens-phone")

    # Python does not resolve *.localhost: talk to the server's address with the Host.
    request = urllib.request.Request(
        f"http://127.0.0.1:{live_app.port}/api/v1/school",
        headers={"Authorization": f"Bearer {token}", "Host": f"{slug}.localhost:{live_app.port}"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert json.load(answer)["slug"] == slug

    # A reload after creating repeats the redirect's GET (no form re-post, no second
    # token), and the secret is not shown again.
    page.reload()
    expect(page.locator("[data-token-value]")).to_have_count(0)
    expect(page.locator("[data-token-list] [data-token]")).to_have_count(1)
    expect(page.locator("[data-token-list]")).to_contain_text("Last used")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_app.url(host, "/api/v1/docs"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Courseplatform school API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    screenshot(page, "api-docs")
