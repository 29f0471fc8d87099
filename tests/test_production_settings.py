"""Settings behind the HTTPS edge (README "Production"), in fresh interpreters: what
``PLATFORM_SCHEME=https`` turns on, and the public port of links built outside a request.

Found by the production smoke test (tests/test_production_smoke.py): no
Strict-Transport-Security header was sent at all, and with ``PORT=8000`` (the app server
behind Caddy) the worker's and the shell's links to a school carried ``:8000``, a port
nobody outside can reach.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import serve  # scripts/serve.py (conftest puts scripts/ on the path)

from tests.fixtures.browser import REPO_ROOT

_PROBE = """
import json
from django.conf import settings
import django
django.setup()
from courseplatform.tenancy.models import School
from courseplatform.tenancy.selectors import school_url
print(json.dumps({
    "port": settings.PLATFORM_PORT,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "proxy_ssl": settings.SECURE_PROXY_SSL_HEADER,
    "link": school_url(School(slug="harbour"), "/accounts/verify/", subdomain=True),
}))
"""


def _settings(**values: str) -> dict[str, object]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PORT", "PLATFORM_PORT", "PLATFORM_SCHEME", "HSTS_SECONDS"}
    }
    env.update(values, DJANGO_SETTINGS_MODULE="courseplatform.settings", PLATFORM_DOMAIN="x.test")
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_behind_the_https_edge_links_use_the_public_port_and_hsts_is_on() -> None:
    found = _settings(PLATFORM_SCHEME="https", PORT="8000")
    assert found["port"] == ""
    assert found["link"] == "https://harbour.x.test/accounts/verify/"
    assert found["hsts"] == 31_536_000
    assert found["session_secure"] is True and found["csrf_secure"] is True
    assert found["proxy_ssl"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_an_edge_on_another_port_is_named_and_hsts_can_be_tuned() -> None:
    found = _settings(
        PLATFORM_SCHEME="https", PORT="8000", PLATFORM_PORT="8443", HSTS_SECONDS="600"
    )
    assert found["link"] == "https://harbour.x.test:8443/accounts/verify/"
    assert found["hsts"] == 600


def test_served_directly_over_http_links_use_the_server_port_and_no_hsts() -> None:
    found = _settings(PORT="8123")
    assert found["link"] == "http://harbour.x.test:8123/accounts/verify/"
    assert found["hsts"] == 0
    assert found["session_secure"] is False


def test_the_supervisor_leaves_the_public_port_to_the_settings_behind_the_edge() -> None:
    behind_edge = {"PLATFORM_SCHEME": "https", "PORT": "8000"}
    serve.default_public_port(behind_edge)
    assert "PLATFORM_PORT" not in behind_edge
    direct = {"PORT": "8000"}
    serve.default_public_port(direct)
    assert direct["PLATFORM_PORT"] == "8000"
    explicit = {"PLATFORM_SCHEME": "https", "PORT": "8000", "PLATFORM_PORT": "8443"}
    serve.default_public_port(explicit)
    assert explicit["PLATFORM_PORT"] == "8443"


def test_the_supervisor_prints_the_public_address() -> None:
    assert serve.banner({"PORT": "8000"}).startswith("Platform: http://localhost:8000/")
    behind_edge = serve.banner(
        {
            "PLATFORM_SCHEME": "https",
            "PLATFORM_DOMAIN": "courses.example.com",
            "PORT": "8000",
            "WEB_HOST": "127.0.0.1",
        }
    )
    assert behind_edge.splitlines() == [
        "Platform: https://courses.example.com/   (schools at https://<slug>.courses.example.com/)",
        "Web server for the edge: http://127.0.0.1:8000/",
    ]
