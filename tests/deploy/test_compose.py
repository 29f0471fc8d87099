"""compose.yaml and .env.example, checked without a container daemon.

* The file parses (pyyaml) and Docker Compose itself (Debian's `docker-compose`, whose
  `config` needs no daemon) accepts it with a filled-in .env and refuses it, naming the
  variable, when a secret is missing.
* Every app service runs a documented production entry point (README "Production"),
  no secret has a default, images are pinned, long-running services restart and have
  a health check, dependencies wait for health or completion.
* The compose edge (deploy/compose/Caddyfile, which imports deploy/Caddyfile) runs in
  Debian's Caddy: its ask relay forwards the TLS question to the app with the platform
  host, so the app answers it from another container.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.browser import _free_port, _stop_process_group, _tail
from tests.fixtures.edge import caddy_env, require_caddy

from .conftest import ROOT, documented_commands, production_section

COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
APP_IMAGE = "${COURSEPLATFORM_IMAGE:-courseplatform:local}"
# Services that run the app image, and the one-shot release steps among them.
ONE_SHOT = {"db-roles", "migrate", "backup"}
# Names that hold credentials or keys: never a default, never a value in .env.example.
SECRET = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY|KEYS|EMAIL_URL")
# ${NAME}, ${NAME:-default}, ${NAME:?message} and the other forms compose interpolates.
REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def compose_text() -> str:
    """compose.yaml without its comment lines (which quote ${VAR:?} as an example)."""
    lines = COMPOSE.read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose()["services"]
    return result


def app_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services().items() if s.get("image") == APP_IMAGE}


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def filled_env(tmp_path: Path, **overrides: str) -> Path:
    """.env.example with a made-up value in every empty variable."""
    values = {name: value or f"test-{name.lower()}" for name, value in env_example().items()}
    values.update(PLATFORM_DOMAIN="courses.example.com", ACME_EMAIL="ops@example.com")
    values.update(overrides)
    path = tmp_path / ".env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items() if v is not None))
    return path


def docker_compose(env_file: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose comes from Debian's package: scripts/install-system-deps.sh"
    return subprocess.run(
        [binary, "--file", str(COMPOSE), "--env-file", str(env_file), "config"],
        cwd=ROOT,
        # Compose prefers the shell's variables to the .env file's: give it none.
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(env_file.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- the file as Compose reads it ---------------------------------------------------


def test_docker_compose_accepts_the_file_with_a_filled_env(tmp_path: Path) -> None:
    result = docker_compose(filled_env(tmp_path))
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(result.stdout)
    web = rendered["services"]["web"]
    assert web["environment"]["SECRET_KEY"] == "test-secret_key"
    assert web["environment"]["S3_ENDPOINT_URL"] == "https://media.courses.example.com"
    # The superuser password reaches the role-creating step only.
    holders = {n for n, s in rendered["services"].items() if "DATABASE_ADMIN_URL" in str(s)}
    assert holders == {"db-roles"}


@pytest.mark.parametrize("missing", ["SECRET_KEY", "CP_APP_DB_PASSWORD", "S3_SECRET_ACCESS_KEY"])
def test_docker_compose_refuses_to_run_without_a_secret(tmp_path: Path, missing: str) -> None:
    result = docker_compose(filled_env(tmp_path, **{missing: ""}))
    assert result.returncode != 0
    assert f"set {missing} in .env" in result.stderr


def test_every_variable_is_documented_in_env_example_and_used() -> None:
    referenced = set(REFERENCE.findall(compose_text()))
    names = {name for name, _op, _text in referenced}
    documented = set(env_example())
    # COMPOSE_PROJECT_NAME is read by compose itself, not interpolated.
    assert names == documented - {"COMPOSE_PROJECT_NAME"}


def test_no_secret_has_a_default_or_an_example_value() -> None:
    for name, op, _text in REFERENCE.findall(compose_text()):
        if SECRET.search(name):
            assert op == ":?", f"${{{name}}} must be ${{{name}:?...}}: a secret has no default"
    for name, value in env_example().items():
        if SECRET.search(name):
            assert value == "", f".env.example gives {name} a value"
    # Every app container gets each secret from .env: none is written into the file.
    for name, service in app_services().items():
        for key, value in service["environment"].items():
            if SECRET.search(key):
                assert "${" in str(value), f"{name}.{key} is written into compose.yaml"


# --- the services -------------------------------------------------------------------


def test_app_services_run_documented_production_entry_points() -> None:
    commands = documented_commands()
    app = app_services()
    assert set(app) == {"db-roles", "migrate", "web", "worker", "periodic", "backup"}
    for name, service in app.items():
        command = " ".join(service["command"])
        assert command in commands, f"{name}: {command!r} is not in README 'Production'"
    assert app["web"]["command"][-1] == "web" and app["worker"]["command"][-1] == "worker"
    assert app["periodic"]["command"][-1] == "periodic"


def test_images_are_pinned() -> None:
    for name, service in services().items():
        image = service["image"]
        if image == APP_IMAGE:
            continue
        _repository, _, tag = image.rpartition(":")
        assert ":" in image and tag and tag != "latest", f"{name}: {image} is not pinned"
    example = env_example()["COURSEPLATFORM_IMAGE"]
    assert not example.endswith(":latest")


def test_long_running_services_restart_and_report_health() -> None:
    for name, service in services().items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        assert service["restart"] in {"unless-stopped", "always"}, name
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        if check.get("disable"):
            # Only the periodic runner: its supervisor is the main process, jobs are short.
            assert name == "periodic", name
            continue
        assert check["test"][0] == "CMD" and check["interval"], name
    web_check = services()["web"]["healthcheck"]["test"]
    assert web_check == ["CMD", "python", "deploy/healthcheck.py"]  # /healthz
    assert services()["worker"]["healthcheck"]["test"][-2:] == ["--process", "db_worker"]


def test_dependencies_wait_for_health_and_for_the_release_steps() -> None:
    svc = services()
    assert svc["db-roles"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert svc["migrate"]["depends_on"] == {
        "db-roles": {"condition": "service_completed_successfully"}
    }
    for name in ("web", "worker", "periodic"):
        depends = svc[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
        assert depends["s3"] == {"condition": "service_healthy"}, name
    assert svc["caddy"]["depends_on"]["web"] == {"condition": "service_healthy"}
    # The backup runs only when asked for, as the owner, against a healthy database.
    assert svc["backup"]["profiles"] == ["backup"]
    assert svc["backup"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "DATABASE_OWNER_URL" in svc["backup"]["environment"]
    for name, service in svc.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in svc, f"{name} depends on unknown {dependency}"
            assert rule["condition"] != "service_started", name


def test_the_runtime_roles_never_get_the_owner_or_superuser_url() -> None:
    for name in ("web", "worker", "periodic"):
        env = services()[name]["environment"]
        assert "DATABASE_OWNER_URL" not in env and "DATABASE_ADMIN_URL" not in env, name
        assert env["DATABASE_URL"].startswith("postgres://cp_app:")
        assert env["DATABASE_PLATFORM_URL"].startswith("postgres://cp_platform:")
        assert env["DEBUG"] == "false" and env["PLATFORM_SCHEME"] == "https"
        assert env["TRUSTED_PROXY_COUNT"] == "1"
    assert services()["migrate"]["environment"]["DATABASE_OWNER_URL"].startswith(
        "postgres://cp_owner:"
    )


def test_state_lives_in_named_volumes() -> None:
    declared = set(compose()["volumes"])
    expected = {"db": "pg_data", "redis": "redis_data", "s3": "s3_data", "caddy": "caddy_data"}
    for name, volume in expected.items():
        mounts = [m.split(":")[0] for m in services()[name]["volumes"]]
        assert volume in mounts and volume in declared, name


def test_only_the_edge_publishes_ports() -> None:
    published = {name for name, s in services().items() if s.get("ports")}
    assert published == {"caddy"}
    assert services()["caddy"]["ports"][:2] == ["80:80", "443:443"]


# --- the compose edge in Debian's Caddy ---------------------------------------------


class _App(http.server.BaseHTTPRequestHandler):
    """Stands in for the web container: records the Host each request arrived with."""

    hosts: list[str] = []

    def do_GET(self) -> None:
        _App.hosts.append(self.headers["Host"])
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_app() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _App)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _App.hosts = []
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _edge_config(tmp_path: Path) -> Path:
    """deploy/compose/Caddyfile importing deploy/Caddyfile from where it really is."""
    text = (ROOT / "deploy" / "compose" / "Caddyfile").read_text()
    assert "import /etc/caddy/platform.Caddyfile" in text
    config = tmp_path / "Caddyfile"
    config.write_text(
        text.replace("/etc/caddy/platform.Caddyfile", str(ROOT / "deploy" / "Caddyfile"))
    )
    return config


def _get(url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_compose_edge_relays_the_tls_ask_to_the_app_as_the_platform_host(
    tmp_path: Path, fake_app: int
) -> None:
    relay = _free_port()
    caddy_env_values = services()["caddy"]["environment"]
    assert caddy_env_values["TLS_ASK_URL"] == "http://127.0.0.1:8001/internal/tls-ask"
    values = {
        # *.localhost names get certificates from Caddy's local CA: no ACME traffic.
        "PLATFORM_DOMAIN": "courses.localhost",
        "ACME_EMAIL": "ops@example.com",
        "APP_UPSTREAM": f"127.0.0.1:{fake_app}",
        "S3_UPSTREAM": f"127.0.0.1:{fake_app}",
        "TLS_ASK_URL": f"http://127.0.0.1:{relay}/internal/tls-ask",
        "TLS_ASK_RELAY_PORT": str(relay),
        "HTTP_PORT": str(_free_port()),
        "HTTPS_PORT": str(_free_port()),
        "CADDY_ADMIN": "off",
    }
    log = tmp_path / "caddy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                require_caddy(),
                "run",
                "--config",
                str(_edge_config(tmp_path)),
                "--adapter",
                "caddyfile",
            ],
            env=caddy_env(tmp_path, **values),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{relay}/internal/tls-ask?domain=acme.courses.localhost"
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = _get(url)
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, _tail(log)
        assert _App.hosts[-1] == "courses.localhost"  # the platform host: the app answers
        # Nothing else passes through the relay.
        assert _get(f"http://127.0.0.1:{relay}/healthz") == 404
        assert _App.hosts == ["courses.localhost"]
    finally:
        _stop_process_group(process, timeout=15)


def test_compose_edge_serves_the_bucket_under_media_and_keeps_the_host(tmp_path: Path) -> None:
    import json

    values = {
        "PLATFORM_DOMAIN": "courses.example.com",
        "ACME_EMAIL": "ops@example.com",
        **{k: v for k, v in services()["caddy"]["environment"].items() if k.endswith("UPSTREAM")},
    }
    result = subprocess.run(
        [
            require_caddy(),
            "adapt",
            "--config",
            str(_edge_config(tmp_path)),
            "--adapter",
            "caddyfile",
        ],
        env=caddy_env(tmp_path, **values),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    config = json.loads(result.stdout)
    routes = {
        host: route
        for server in config["apps"]["http"]["servers"].values()
        for route in server["routes"]
        for match in route.get("match", [])
        for host in match.get("host", [])
    }
    media = json.dumps(routes["media.courses.example.com"])
    assert '"dial": "s3:8333"' in media and '"Host"' not in media
    assert '"dial": "web:8000"' in json.dumps(routes["courses.example.com"])
    relay = config["apps"]["http"]["servers"]
    relay_server = next(s for s in relay.values() if s["listen"] == ["127.0.0.1:8001"])
    assert '"courses.example.com"' in json.dumps(relay_server)


def test_the_readme_secret_steps_fill_env_so_compose_accepts_it(tmp_path: Path) -> None:
    """README step 2 run as written (bar the clone and the editor): every secret gets a
    fresh value, ENCRYPTION_KEYS a valid Fernet key, and with the three values a person
    types, compose accepts the file."""
    from cryptography.fernet import Fernet

    section = production_section()
    start = section.index("### One server with Docker Compose")
    script = textwrap.dedent(section[start:].split("```bash\n", 1)[1].split("```", 1)[0])
    lines = [line for line in script.splitlines() if not line.startswith(("git clone", "$EDITOR"))]
    assert any(line.startswith("cp .env.example .env") for line in lines)
    (tmp_path / ".env.example").write_text(ENV_EXAMPLE.read_text())
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        check=True,
        timeout=60,
    )
    env = tmp_path / ".env"
    values = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    secrets = [name for name in values if SECRET.search(name) and name != "EMAIL_URL"]
    assert secrets and all(values[name] for name in secrets)
    assert len({values[name] for name in secrets}) == len(secrets)  # none reused
    Fernet(values["ENCRYPTION_KEYS"].encode())
    typed = "PLATFORM_DOMAIN=courses.example.com\nACME_EMAIL=ops@example.com\n"
    typed += "EMAIL_URL=smtp://mailer:pw@smtp.example.com:587\n"
    env.write_text(env.read_text() + typed)
    result = docker_compose(env)
    assert result.returncode == 0, result.stderr


def test_the_bucket_answers_browser_uploads_from_any_school_origin(s3_server: Any) -> None:
    """compose.yaml sets no bucket CORS rule: `weed mini` (the version compose runs)
    allows every origin by default and exposes ETag, which the uploader reads from each
    part's answer to complete the multipart upload (README "Production storage")."""
    client = s3_server.client()
    upload = client.create_multipart_upload(Bucket=s3_server.bucket, Key="cors/v.mp4")
    url = client.generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": s3_server.bucket,
            "Key": "cors/v.mp4",
            "UploadId": upload["UploadId"],
            "PartNumber": 1,
        },
        ExpiresIn=300,
        HttpMethod="PUT",
    )
    origin = "https://acme.courses.example.com"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    preflight = urllib.request.Request(
        url,
        method="OPTIONS",
        headers={"Origin": origin, "Access-Control-Request-Method": "PUT"},
    )
    try:
        with opener.open(preflight, timeout=30) as response:
            assert response.headers["Access-Control-Allow-Origin"] in (origin, "*")
            assert "PUT" in response.headers["Access-Control-Allow-Methods"]
        put = urllib.request.Request(url, data=b"x" * 64, method="PUT", headers={"Origin": origin})
        with opener.open(put, timeout=30) as response:
            assert response.headers["ETag"]
            exposed = response.headers["Access-Control-Expose-Headers"]
            assert "etag" in exposed.lower()
    finally:
        client.abort_multipart_upload(
            Bucket=s3_server.bucket, Key="cors/v.mp4", UploadId=upload["UploadId"]
        )
