"""deploy/k8s/: every manifest the kustomization lists, loaded and checked.

Each document is validated against the Kubernetes API schema (kubernetes-validate,
strict: unknown fields are errors), then the properties the platform needs: probes,
requests and limits, non-root and read-only containers, one pinned image everywhere,
documented entry points and variables, a CronJob per periodic command, the migration
ordering, network policies, the autoscaler and the disruption budget.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from .conftest import README, ROOT, documented_commands, serve

K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"
IMAGE = "courseplatform"
SECRET_NAME = "courseplatform-secrets"
OWNER_SECRET = "courseplatform-owner"
BACKUP_SECRET = "courseplatform-backup"
CONFIG_NAME = "courseplatform-config"
SECRET = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY|KEYS|_URL$")


def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return data


def documents() -> list[dict[str, Any]]:
    docs = []
    for name in kustomization()["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return docs


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents() if d["kind"] == kind}


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in documents():
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in {"Deployment", "Job"}:
            yield name, doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            yield name, doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def pod_labels() -> Iterator[tuple[str, dict[str, str]]]:
    for doc in documents():
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in {"Deployment", "Job"}:
            yield name, doc["spec"]["template"]["metadata"]["labels"]
        elif doc["kind"] == "CronJob":
            yield name, doc["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]


def containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, spec in pod_specs():
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield f"{name}/{container['name']}", container


def configuration_variables() -> set[str]:
    """Every variable README "Configuration" documents (first column of its table)."""
    text = README.read_text()
    start = text.index("\n## Configuration\n")
    section = text[start : text.index("\n## ", start + 1)]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_column = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_column))
    return names


def env_file_names(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return [line.split("=")[0] for line in lines if line and not line.startswith("#")]


# --- the files --------------------------------------------------------------------


def test_the_kustomization_lists_every_manifest() -> None:
    listed = set(kustomization()["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    assert kustomization()["namespace"] == "courseplatform"


def test_every_document_is_valid_against_the_kubernetes_schema() -> None:
    for doc in documents():
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_catches_a_misspelt_field() -> None:
    deployment = by_kind("Deployment")["web"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessprobe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_one_pinned_image_everywhere() -> None:
    for name, container in containers():
        assert container["image"] == IMAGE, name  # set once, by the kustomization
    (image,) = kustomization()["images"]
    assert image["name"] == IMAGE
    assert image["newTag"] and image["newTag"] != "latest"
    assert ":" not in image["newName"].rsplit("/", 1)[-1]


def test_no_secret_values_in_the_manifests() -> None:
    assert not [d for d in documents() if d["kind"] == "Secret"]
    (config,) = by_kind("ConfigMap").values()
    for key in config["data"]:
        assert not SECRET.search(key) or key == "S3_ENDPOINT_URL", key
    for path in K8S.glob("*.env"):
        for line in path.read_text().splitlines():
            if line and not line.startswith("#"):
                assert line.endswith("="), f"{path.name}: {line} has a value"


# --- pods and containers ------------------------------------------------------------


def test_every_pod_runs_as_non_root_without_a_service_account_token() -> None:
    for name, spec in pod_specs():
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert security["runAsUser"] != 0 and security["runAsGroup"] != 0, name
        assert security["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name


def test_every_container_is_locked_down_with_requests_and_limits() -> None:
    for name, container in containers():
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        resources = container["resources"]
        for kind in ("requests", "limits"):
            assert set(resources[kind]) == {"cpu", "memory"}, f"{name} {kind}"
        # Writable places are volumes: /tmp everywhere, VAR_DIR where metrics are written.
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts, name


def test_every_container_runs_a_documented_entry_point() -> None:
    documented = documented_commands()
    periodic = {f"python manage.py {job} --quiet" for job in _periodic_jobs()}
    for name, container in containers():
        command = " ".join(container["command"])
        assert command in documented or command in periodic, f"{name}: {command}"
    assert "python manage.py <job> --quiet" in documented


def test_every_container_gets_only_documented_variables() -> None:
    known = configuration_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "WEB_CONCURRENCY"} <= known  # parsed for real
    (config,) = by_kind("ConfigMap").values()
    assert set(config["data"]) <= known
    for example in K8S.glob("*.env"):
        assert set(env_file_names(example)) <= known, example.name
    for name, container in containers():
        sources = {
            (s.get("configMapRef") or s.get("secretRef"))["name"] for s in container["envFrom"]
        }
        # The backup reads only its own Secret (owner URL, backup bucket), not the app's.
        backup = name.startswith("CronJob/backup/")
        assert sources == ({BACKUP_SECRET} if backup else {CONFIG_NAME, SECRET_NAME}), name
        for variable in container.get("env", []):
            assert variable["name"] in known, f"{name}: {variable['name']}"


def test_only_the_migration_job_gets_the_owner_role() -> None:
    holders = set()
    for name, container in containers():
        for variable in container.get("env", []):
            if variable["name"] == "DATABASE_OWNER_URL":
                holders.add(name)
                assert variable["valueFrom"]["secretKeyRef"]["name"] == OWNER_SECRET
    assert holders == {"Job/migrate/migrate"}
    assert "DATABASE_OWNER_URL" not in env_file_names(K8S / "secret.example.env")
    # The other holder: the backup, through its own Secret.
    assert "DATABASE_OWNER_URL" in env_file_names(K8S / "backup-secret.example.env")


def test_the_nightly_backup_dumps_as_the_owner_and_uploads() -> None:
    backup = by_kind("CronJob")["backup"]
    minute, hour, *rest = backup["spec"]["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"]  # daily
    assert backup["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = backup["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"][:3] == ["python", "scripts/db_backup.py", "dump"]
    # Kubernetes expands $(VAR) from the container's environment: the Secret's key.
    assert container["command"][-2:] == ["--upload-url", "$(BACKUP_UPLOAD_URL)"]
    assert "BACKUP_UPLOAD_URL" in env_file_names(K8S / "backup-secret.example.env")
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/backups" in mounts


def test_app_pods_carry_the_label_the_egress_policy_selects() -> None:
    for name, labels in pod_labels():
        assert labels.get("app.kubernetes.io/component") == "app", name


# --- web ------------------------------------------------------------------------


def test_web_probes_readyz_for_readiness_and_healthz_for_liveness() -> None:
    web = by_kind("Deployment")["web"]
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "scripts/serve.py", "web"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]
    # granian's processes follow the CPU limit, not the node's core count.
    env = {v["name"]: v["value"] for v in container["env"]}
    assert env["WEB_CONCURRENCY"] == str(container["resources"]["limits"]["cpu"])
    # Stop: SERVE_STOP_SECONDS for requests in flight, inside the grace period.
    (config,) = by_kind("ConfigMap").values()
    grace = web["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > int(config["data"]["SERVE_STOP_SECONDS"])


def test_web_is_served_scaled_and_kept_available() -> None:
    web = by_kind("Deployment")["web"]
    pod_labels_ = web["spec"]["template"]["metadata"]["labels"]
    service = by_kind("Service")["web"]
    assert service["spec"]["selector"].items() <= pod_labels_.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    hpa = by_kind("HorizontalPodAutoscaler")["web"]
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
    }
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    pdb = by_kind("PodDisruptionBudget")["web"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels_.items()
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


# --- worker, migrations, periodic jobs ---------------------------------------------


def test_worker_runs_the_task_worker_with_a_liveness_check() -> None:
    worker = by_kind("Deployment")["worker"]
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "scripts/serve.py", "worker"]
    probe = container["livenessProbe"]["exec"]["command"]
    assert probe == ["python", "deploy/healthcheck.py", "--process", "db_worker"]


def test_new_pods_wait_for_the_migration_job() -> None:
    job = by_kind("Job")["migrate"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    for name in ("web", "worker"):
        spec = by_kind("Deployment")[name]["spec"]["template"]["spec"]
        (init,) = spec["initContainers"]
        assert init["command"] == ["python", "manage.py", "migrate", "--check"], name


def _periodic_jobs() -> list[str]:
    return [name for name, _every in serve.PERIODIC_COMMANDS]


def test_every_periodic_command_has_a_cronjob() -> None:
    cronjobs = {
        name: c
        for name, c in by_kind("CronJob").items()
        if "courseplatform/periodic-command" in c["metadata"]["labels"]
    }
    assert set(by_kind("CronJob")) - set(cronjobs) == {"backup"}
    by_command = {
        c["metadata"]["labels"]["courseplatform/periodic-command"]: c for c in cronjobs.values()
    }
    assert sorted(by_command) == sorted(_periodic_jobs())
    assert len(cronjobs) == len(serve.PERIODIC_COMMANDS)
    for name, every in serve.PERIODIC_COMMANDS:
        cron = by_command[name]
        (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "manage.py", name, "--quiet"]
        minute, hour, *rest = cron["spec"]["schedule"].split()
        if every == "tick":  # every PERIODIC_INTERVAL_SECONDS (a minute)
            assert (minute, hour, rest) == ("*", "*", ["*", "*", "*"]), name
        else:  # housekeeping: hourly
            assert minute.isdigit() and (hour, rest) == ("*", ["*", "*", "*"]), name
        assert cron["spec"]["concurrencyPolicy"] == "Forbid", name
        job = cron["spec"]["jobTemplate"]["spec"]
        assert job["activeDeadlineSeconds"] == 120, name  # PERIODIC_TIMEOUT_SECONDS
    # The three the issue names explicitly.
    assert {"verify_custom_domains", "reclaim_stalled_videos", "refresh_analytics"} <= set(
        by_command
    )


# --- network ----------------------------------------------------------------------


def test_network_policies_deny_by_default_and_open_what_is_needed() -> None:
    policies = by_kind("NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    web_in = policies["web-ingress"]["spec"]
    assert web_in["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "web"}
    assert [p["port"] for rule in web_in["ingress"] for p in rule["ports"]] == [8000]
    egress = policies["app-egress"]["spec"]
    ports = {p["port"] for rule in egress["egress"] for p in rule["ports"]}
    assert {5432, 6379, 443} <= ports
    internet = [r for r in egress["egress"] if "to" in r]
    for rule in internet:
        for peer in rule["to"]:
            # The cloud metadata address is never reachable.
            assert "169.254.0.0/16" in peer["ipBlock"]["except"]
    dns = policies["allow-dns"]["spec"]["egress"][0]["ports"]
    assert {(p["protocol"], p["port"]) for p in dns} == {("UDP", 53), ("TCP", 53)}
