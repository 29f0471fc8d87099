"""The embedded default: with nothing configured the platform runs on SQLite, the
local-memory cache and local files under VAR_DIR.

Everything here happens in subprocesses whose environment has no database, Redis or
S3 settings, so it never touches the suite's PostgreSQL database: migrate, create a
school from the command line, serve it the way `make demo` does (``scripts/serve.py``:
granian, the task worker and the watchdog) and ask it for pages and a static file.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMAND_TIMEOUT = 180
STARTUP_TIMEOUT = 60.0

# Anything that would point the app at external services (or change the defaults).
_SERVICE_VARS = (
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "DATABASE_ADMIN_URL",
    "REDIS_URL",
    "TEST_REDIS_URL",
    "CACHE_KEY_PREFIX",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "CLOUDFLARE_R2_BUCKET",
    "CLOUDFLARE_R2_ENDPOINT",
    "CLOUDFLARE_API_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "MEDIA_ROOT",
    "PLATFORM_DOMAIN",
    "PLATFORM_PORT",
    "PLATFORM_SCHEME",
    "PORT",
    "SECRET_KEY",
    "JWT_SECRET",
    "TASKS_BACKEND",
    "EMAIL_URL",
    "EMAIL_HOST",
    "DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in _SERVICE_VARS:
        env.pop(name, None)
    # A PostgreSQL client reached by accident would fail loudly instead of working.
    env["PGHOST"] = "/nonexistent"
    env["VAR_DIR"] = str(tmp_path / "var")
    env["DJANGO_SETTINGS_MODULE"] = "courseplatform.settings"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert result.returncode == 0, (
        f"manage.py {' '.join(args)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )
    return result


def _get(port: int, path: str, host: str) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        conn.close()


@pytest.fixture
def served(embedded_env: dict[str, str], tmp_path: Path) -> Iterator[int]:
    """Set up the embedded-default app in VAR_DIR and serve it; yields the port."""
    _manage(embedded_env, "migrate", "--noinput")
    created = _manage(
        embedded_env,
        "createschool",
        "smoke",
        "--name",
        "Smoke School",
        "--owner-email",
        "o@smoke.test",
        "--password",
        "a-strong-pass-1234",
    )
    assert "http://smoke.localhost:8000/" in created.stdout, created.stdout

    port = _free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "scripts/serve.py"],
            cwd=REPO_ROOT,
            env={**embedded_env, "PORT": str(port), "WEB_HOST": "127.0.0.1"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"scripts/serve.py exited with {process.returncode}:\n"
                    f"{log_path.read_text(errors='replace')[-3000:]}"
                )
            try:
                if _get(port, "/healthz", f"localhost:{port}")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    "scripts/serve.py did not answer /healthz in time:\n"
                    f"{log_path.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.1)
        yield port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def test_embedded_defaults_serve_a_school_without_external_services(
    served: int, embedded_env: dict[str, str]
) -> None:
    port = served
    var_dir = Path(embedded_env["VAR_DIR"])
    database = var_dir / "db.sqlite3"
    assert database.is_file() and database.stat().st_size > 0
    assert (var_dir / "secret_key").is_file()

    backends = _manage(
        embedded_env,
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; from django.db import connection; "
        "print('BACKENDS', connection.vendor, settings.CACHES['default']['BACKEND'], "
        "settings.STORAGES['default']['BACKEND'])",
    )
    line = next(x for x in backends.stdout.splitlines() if x.startswith("BACKENDS "))
    assert line.split()[1:] == [
        "sqlite",
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.files.storage.FileSystemStorage",
    ], backends.stdout

    status, _, body = _get(port, "/", f"smoke.localhost:{port}")
    assert status == 200
    assert "Smoke School" in body
    # DEBUG is off: the stylesheet the page links to is served by WhiteNoise.
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', body)
    assert stylesheet, body[:2000]
    status, content_type, css = _get(port, stylesheet.group(1), f"smoke.localhost:{port}")
    assert status == 200 and content_type.startswith("text/css") and css

    status, _, body = _get(port, "/", "nope.localhost")
    assert status == 404
    assert "Smoke School" not in body

    status, _, body = _get(port, "/", f"localhost:{port}")
    assert status == 200
    assert "Create your school" in body
    assert "Smoke School" not in body

    status, _, body = _get(port, "/healthz", f"localhost:{port}")
    assert status == 200

    status, content_type, body = _get(port, "/readyz", f"localhost:{port}")
    assert status == 200, body
    assert content_type.startswith("application/json")
    payload = json.loads(body)
    assert payload["status"] == "ok"
    assert payload["checks"] == {"database": "ok", "cache": "ok", "storage": "ok"}
